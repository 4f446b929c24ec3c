"""Course search over one loaded index: dense FAISS indexes of whole passages and of their sentences, BM25
beside them, their fusion, a late-interaction rerank of the best candidates, and routing of non-English queries
to the multilingual encoder. `CourseSearcher` is what the recommender, the HTTP service and the CLI call."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from embeddings import CachedEncoder, Encoder, TokenIndex, VectorIndex
from embeddings.cache import queries_with_tokens
from embeddings.passes import encode_once
from models import Course
from search.config import STORED_NEIGHBOURS, CourseFacts, Method, RetrievalConfig, SearchFilters
from search.fusion import reciprocal_rank_fusion
from search.hybrid import PoolLayout, neighbour_means
from search.language import detect_language, is_english
from search.lexical import LexicalIndex
from search.neighbours import NearestCourses, neighbour_table
from search.normalise import standardised, standardised_known
from search.passages import course_text, multilingual_passage
from search.readable import (
    multilingual_ranking,
    readable_candidates,
    readable_first,
    readable_masks,
    readable_ranking,
    reader_languages,
)
from search.sentences import SentenceIndex, segments_of

Progress = Callable[[int], None]
Ranking = list[tuple[str, float]]
_SLICE = 128  # courses whose passages, sentences and tokens are encoded in one call
_REMEMBERED_TEXTS = 20_000  # query vectors kept for `match_texts` (the KCM asks about 750 texts)
# The hybrid's products are small (queries × pool). Left to OpenBLAS's own threads they spin against the encoder's
# torch threads on the same cores: measured on 2 cores, a MiniLM query encoding took 12 ms alone and about 50 ms
# right after a numpy product. One BLAS thread during searches removes that.
_BLAS = ThreadpoolController()


class _OneBlasThread:
    """BLAS held to one thread while any search runs. threadpoolctl's limit is one setting for the whole process:
    nested from several threads, the first search to finish would restore it under the others, and the last
    would leave it at one for good. Counting the searches in progress sets it once and restores it once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._limit: Any = None

    def __enter__(self) -> None:
        with self._lock:
            if self._running == 0:
                self._limit = _BLAS.limit(limits=1, user_api="blas")
            self._running += 1

    def __exit__(self, *_exc: object) -> None:
        with self._lock:
            self._running -= 1
            if self._running == 0 and self._limit is not None:
                self._limit.restore_original_limits()
                self._limit = None


_ONE_BLAS_THREAD = _OneBlasThread()
_background: ThreadPoolExecutor | None = None
_background_lock = threading.Lock()


def _in_background(encode: Callable[[list[str]], np.ndarray], texts: Sequence[str]) -> Future[np.ndarray]:
    """Encode on another thread, so that E5 computes while MiniLM encodes the same queries or courses (both engines
    leave the GIL while they compute): a query waits for the slower of the two, not for their sum. The pool is
    made on first use, never before a batch run forks its workers."""
    global _background
    with _background_lock:
        if _background is None:
            _background = ThreadPoolExecutor(max_workers=4, thread_name_prefix="karmayogi-encode")
    return _background.submit(encode, list(texts))


@dataclass
class SearchParts:
    """What a searcher is made of, each part named: the English encoder and its passage index (always), the
    multilingual encoder and its index, the sentence index and the token vectors (each when configured)."""

    encoder: Encoder
    passages: VectorIndex
    multilingual_encoder: Encoder | None = None
    multilingual: VectorIndex | None = None
    sentences: SentenceIndex | None = None
    tokens: TokenIndex | None = None

    def encoders(self) -> list[Encoder]:
        return [self.encoder] + ([self.multilingual_encoder] if self.multilingual_encoder is not None else [])


class CourseSearcher:
    """A loaded course index: `search(query, k, filters)` returns [(identifier, score), ...], best first.

    English queries go to the hybrid of the English retrievers (`hybrid`); a query detected as another language
    goes to the multilingual encoder's index, which matches it against texts in any language."""

    def __init__(
        self,
        config: RetrievalConfig,
        parts: SearchParts,
        texts: Mapping[str, str] | None = None,
        facts: Mapping[str, CourseFacts] | None = None,
        *,
        neighbours: Mapping[str, Sequence[str]] | NearestCourses | None = None,
        query_vectors: dict[str, np.ndarray] | None = None,
        lexical: LexicalIndex | None = None,
    ) -> None:
        self.config = config
        self.parts = parts
        self.texts = dict(texts or {})
        self.facts = dict(facts or {})
        # Each course's nearest courses (stored with the index), brought up to date on first use after a change:
        # `_touched` holds the courses changed since (search/neighbours.py).
        self._nearest: NearestCourses | Mapping[str, Sequence[str]] | None = (
            neighbours.copy() if isinstance(neighbours, NearestCourses) else neighbours
        )
        self._touched: set[str] = set()
        self._lexical = lexical.copy() if lexical is not None else None  # kept current once built
        self._full_layout: PoolLayout | None = None
        # English query vectors of the texts `match_texts` has seen (the recommender asks the same competency
        # texts after every catalog change), shared with the searcher's updated copies (search.updates).
        self.query_vectors = query_vectors if query_vectors is not None else {}

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def multilingual(self) -> bool:
        return self.parts.multilingual is not None

    # --- searching -------------------------------------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 10,
        filters: SearchFilters | None = None,
        language: str | None = None,
        *,
        method: Method | None = None,
        reads: Collection[str] = (),
    ) -> Ranking:
        return self.search_many([query], k, filters, [language], method=method, reads=reads)[0]

    def search_many(
        self,
        queries: Sequence[str],
        k: int = 10,
        filters: SearchFilters | None = None,
        languages: Sequence[str | None] | None = None,
        *,
        method: Method | None = None,
        reads: Collection[str] = (),
    ) -> list[Ranking]:
        """Many queries at once (encoded in batches). `languages[i]` overrides detection for query i. Courses in
        a language the reader can read (the query's, `reads`, the filter's and English) come first
        (`readable_first`, search/readable.py)."""
        method = method or self.config.method
        allowed = self.allowed(filters)
        given = list(languages) if languages is not None else [None] * len(queries)
        codes = [language or detect_language(query) for query, language in zip(queries, given, strict=True)]
        english = [not self.multilingual or is_english(query, code) for query, code in zip(queries, codes, strict=True)]
        asked = filters.languages if filters is not None else frozenset()
        readers = [reader_languages(code, reads, asked) for code in codes]
        results: list[Ranking] = [[] for _ in queries]
        for wanted in (True, False):
            chosen = [i for i, route in enumerate(english) if route is wanted]
            if not chosen:
                continue
            some, their_readers = [queries[i] for i in chosen], [readers[i] for i in chosen]
            if not wanted:
                rankings = self._search_multilingual(some, k, allowed, their_readers)
            else:
                chosen_readers = their_readers if self.config.readable_first else None
                rankings = self._search_english(some, k, allowed, method, readers=chosen_readers)
            for i, ranking in zip(chosen, rankings, strict=True):
                results[i] = ranking
        return results

    def _search_multilingual(
        self, queries: Sequence[str], k: int, allowed: Collection[str] | None, readers: Sequence[frozenset[str]]
    ) -> list[Ranking]:
        """A non-English query: the multilingual index alone, over every course with each course language's
        offset removed (`centre_languages`), readable courses first (`readable_first`): search/readable.py."""
        config = self.config
        if not (config.readable_first or config.centre_languages):
            return self.dense(queries, k, allowed, multilingual=True)
        layout = self._layout(None)
        if layout.multilingual_rows is None:
            raise LookupError("this searcher has no multilingual index")
        vectors = self.embed_multilingual(queries)
        chosen = readers if config.readable_first else None
        return multilingual_ranking(
            self._multilingual_index(),
            layout.pool,
            layout.multilingual_rows,
            self.facts,
            vectors=vectors,
            k=k,
            allowed=allowed,
            readers=chosen,
            centre=config.centre_languages,
        )

    def _search_english(
        self,
        queries: Sequence[str],
        k: int,
        allowed: Collection[str] | None,
        method: Method,
        *,
        readers: Sequence[frozenset[str]] | None = None,
    ) -> list[Ranking]:
        if method == "hybrid":
            return self.hybrid(queries, k, allowed, readers)
        if readers is not None:  # asked again among the readable courses when a ranking holds another language
            run = partial(self._search_english, method=method)
            return readable_first(run, queries, k, allowed, readers=readers, facts=self.facts)
        if method == "dense":
            return self.dense(queries, k, allowed)
        if method == "bm25":
            return [self.lexical(query, k, allowed) for query in queries]
        # rrf: the rank lists of the passage encoders and BM25, fused by rank alone.
        depth = max(k, self.config.candidates)
        rankings = [self.dense(queries, depth, allowed), [self.lexical(query, depth, allowed) for query in queries]]
        if self.multilingual and self.config.multilingual_weight > 0:
            rankings.append(self.dense(queries, depth, allowed, multilingual=True))
        return [reciprocal_rank_fusion([ranking[i] for ranking in rankings])[:k] for i in range(len(queries))]

    def hybrid(
        self,
        queries: Sequence[str],
        k: int,
        allowed: Collection[str] | None = None,
        readers: Sequence[frozenset[str]] | None = None,
    ) -> list[Ranking]:
        """The default for English queries. Every allowed course gets each signal's exact score: passage cosine
        (weight 1), BM25, the multilingual passage cosine and the best sentence's cosine; each is standardised
        over the allowed courses and the weighted sum ranks them. Late interaction then reranks the best
        `candidates`: both scores standardised over the candidates, MaxSim weighted by `token_weight`."""
        with _ONE_BLAS_THREAD:
            return self._hybrid(queries, k, allowed, readers)

    def _hybrid(
        self,
        queries: Sequence[str],
        k: int,
        allowed: Collection[str] | None,
        readers: Sequence[frozenset[str]] | None = None,
    ) -> list[Ranking]:
        layout = self._layout(allowed)
        pool = layout.pool
        if not pool or k <= 0 or not queries:
            return [[] for _ in queries]
        config, parts = self.config, self.parts
        rerank = parts.tokens is not None and config.token_weight > 0
        multilingual = parts.multilingual is not None and layout.multilingual_rows is not None
        multilingual_vectors = (
            _in_background(self.embed_multilingual, queries)
            if multilingual and config.multilingual_weight > 0
            else None
        )
        query_tokens: list[np.ndarray] | None = None
        if rerank:
            vectors, query_tokens = queries_with_tokens(parts.encoder, queries)
        else:
            vectors = self.embed(queries)
        signals = [(1.0, parts.passages.scores_at(vectors, layout.passage_rows))]
        if config.bm25_weight > 0:
            signals.append((config.bm25_weight, self.lexical_index().scores(queries, layout.bm25_columns)))
        if multilingual_vectors is not None and parts.multilingual is not None and layout.multilingual_rows is not None:
            scores = parts.multilingual.scores_at(multilingual_vectors.result(), layout.multilingual_rows)
            signals.append((config.multilingual_weight, scores))
        if parts.sentences is not None and layout.sentences is not None and config.segment_weight > 0:
            scores = parts.sentences.best_scores(vectors, layout.sentences, len(pool))
            signals.append((config.segment_weight, scores))
        fused = np.zeros((len(queries), len(pool)), dtype=np.float64)
        for weight, scores in signals:
            fused = fused + weight * standardised(scores)
        if config.neighbour_weight > 0 and config.neighbours > 0:
            fused = fused + config.neighbour_weight * neighbour_means(fused, layout.neighbours[:, : config.neighbours])
        depth = min(max(k, config.candidates), len(pool))
        # Readable courses first (search/readable.py): the best `depth` of them are the rerank's candidates.
        masks = readable_masks(pool, self.facts, readers) if readers is not None else None
        results = []
        for row, scores in enumerate(fused):
            if masks is None:
                top = np.argpartition(-scores, depth - 1)[:depth]
            else:
                top = readable_candidates(scores, masks[row], depth, k)
            final = scores[top]
            if query_tokens is not None and parts.tokens is not None:
                maxsim = parts.tokens.maxsim(query_tokens[row], [pool[j] for j in top])
                # A candidate without token vectors (a Hindi-only course under an English encoder) stays neutral.
                final = standardised(final) + config.token_weight * standardised_known(maxsim)
            if masks is not None:
                results.append(readable_ranking(pool, top, final, masks[row], k=k))
                continue
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
        parts = self.parts
        columns = self.lexical_index().columns
        smoothing = self.config.neighbour_weight > 0
        return PoolLayout(
            pool=pool,
            passage_rows=parts.passages.rows_of(pool),
            multilingual_rows=parts.multilingual.rows_of(pool) if parts.multilingual is not None else None,
            bm25_columns=np.fromiter((columns[i] for i in pool), dtype=np.int64, count=len(pool)),
            sentences=parts.sentences.placement(pool) if parts.sentences is not None else None,
            neighbours=neighbour_table(pool, self.neighbours() if smoothing else {}, STORED_NEIGHBOURS),
            smoothing=smoothing,
        )

    def neighbours(self) -> dict[str, list[str]]:
        """Each course's nearest other courses by passage cosine (exact for exact indexes), most similar first."""
        return self.nearest().lists

    def nearest(self) -> NearestCourses:
        """The nearest courses with what keeps them current; only the lists a change can reach are searched again."""
        nearest = self._nearest
        if nearest is None:
            nearest = NearestCourses.compute(self.parts.passages, STORED_NEIGHBOURS)
        elif not isinstance(nearest, NearestCourses):
            nearest = NearestCourses.from_lists(self.parts.passages, nearest, STORED_NEIGHBOURS)
        if self._touched:
            nearest.update(self.parts.passages, self._touched)
            self._touched = set()
        self._nearest = nearest
        return nearest

    def best_sentence_scores(self, vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Every course's best sentence cosine: the courses in identifier order, and (queries, courses) scores;
        -1 (the lowest a cosine can be) for a course without sentences."""
        layout = self._layout(None)
        sentences = self.parts.sentences
        if sentences is None or layout.sentences is None:
            raise LookupError("this searcher has no sentence index (segment_weight is 0)")
        return layout.pool, sentences.best_scores(vectors, layout.sentences, len(layout.pool))

    def dense(
        self, queries: Sequence[str], k: int, allowed: Collection[str] | None = None, multilingual: bool = False
    ) -> list[Ranking]:
        """Nearest passages by cosine: the English encoder's, or the multilingual one's."""
        if multilingual:
            return self._multilingual_index().search(self.embed_multilingual(queries), k, allowed)
        return self.parts.passages.search(self.embed(queries), k, allowed)

    def lexical(self, query: str, k: int, allowed: Collection[str] | None = None) -> Ranking:
        return self.lexical_index().search(query, k, allowed)

    def query_tokens(self, queries: Sequence[str]) -> list[np.ndarray]:
        """Each query's content-token vectors from the English encoder, for late interaction."""
        return queries_with_tokens(self.parts.encoder, queries)[1]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """English query vectors for arbitrary texts (e.g. a competency description), comparable with the index."""
        return self.parts.encoder.encode_queries(list(texts))

    def embed_multilingual(self, texts: Sequence[str]) -> np.ndarray:
        encoder = self.parts.multilingual_encoder
        if encoder is None:
            raise LookupError("this searcher has no multilingual encoder")
        return encoder.encode_queries(list(texts))

    def match_texts(self, texts: list[str], k: int, filters: SearchFilters | None = None) -> list[Ranking]:
        """Courses nearest to each long text, such as a competency description, by cosine similarity (dense
        only: BM25 would reward a description's frequent words). This is the recommender's `CourseMatcher`."""
        vectors = self._remembered_vectors(texts)
        return self.parts.passages.search(vectors, k, self.allowed(filters))

    def match_scores(self, texts: list[str], identifiers: list[str]) -> np.ndarray:
        """(texts, identifiers) cosines of `match_texts`' query vectors with these courses' passages (0 for a
        course not indexed): what tells the recommender whether a changed course reaches a text's matches."""
        return self.parts.passages.scores(self._remembered_vectors(texts), identifiers)

    def _remembered_vectors(self, texts: list[str]) -> np.ndarray:
        # Read into a local dict first: searches run side by side, and another may clear the shared one meanwhile.
        known = {text: vector for text in dict.fromkeys(texts) if (vector := self.query_vectors.get(text)) is not None}
        missing = [text for text in dict.fromkeys(texts) if text not in known]
        if missing:
            fresh = dict(zip(missing, self.embed(missing), strict=True))
            known.update(fresh)
            if len(self.query_vectors) + len(fresh) > _REMEMBERED_TEXTS:
                self.query_vectors.clear()  # rare (texts beyond the KCM's): start over rather than track use
            self.query_vectors.update(fresh)
        return np.stack([known[text] for text in texts]) if texts else self.embed([])

    def warm(self) -> None:
        """Build what the first search would otherwise build: BM25, the nearest courses and the pool layout."""
        self.lexical_index()
        self._layout(None)

    def allowed(self, filters: SearchFilters | None) -> set[str] | None:
        if filters is None or filters.is_empty():
            return None
        return {identifier for identifier, facts in self.facts.items() if filters.allows(facts)}

    def lexical_index(self) -> LexicalIndex:
        """BM25 over the passages, built on first use: a dense-only searcher never pays for it."""
        if self._lexical is None:
            self._lexical = LexicalIndex(self.texts)
        return self._lexical

    def _multilingual_index(self) -> VectorIndex:
        if self.parts.multilingual is None:
            raise LookupError("this searcher has no multilingual index")
        return self.parts.multilingual

    # --- keeping the index current -----------------------------------------------------------------------------
    def upsert_courses(
        self, courses: Sequence[Course], competency_names: Mapping[str, str], progress: Progress | None = None
    ) -> None:
        """Add or replace courses: only texts that changed reach the encoder when it is a `CachedEncoder`."""
        parts, config = self.parts, self.config
        identifiers = [course.identifier for course in courses]
        texts = [course_text(course, config.fields, competency_names) for course in courses]
        # E5 encodes on another thread meanwhile: it fills the cores while the English side tokenises, packs and
        # indexes in Python (a 600-course build took 10 % less time than one after the other).
        multilingual: Future[np.ndarray] | None = None
        if parts.multilingual is not None and parts.multilingual_encoder is not None:
            passages = [multilingual_passage(course, config.multilingual_chars) for course in courses]
            encode = partial(_encode_passages, parts.multilingual_encoder, progress=progress)
            multilingual = _in_background(encode, passages)
        self._upsert_english(identifiers, texts, progress)
        if multilingual is not None and parts.multilingual is not None:
            parts.multilingual.upsert(identifiers, multilingual.result())
        self.texts.update(zip(identifiers, texts, strict=True))
        self.facts.update((course.identifier, CourseFacts.of(course)) for course in courses)
        if self._lexical is not None:
            self._lexical.upsert(identifiers, texts)
        self._changed(identifiers)

    def _upsert_english(self, identifiers: list[str], texts: list[str], progress: Progress | None) -> None:
        """The English encoder's parts of these courses: each slice's passages, their sentences and their tokens
        from one forward pass per distinct text (`embeddings.passes.encode_once`), the progress bar moved once
        per part a slice completes. A slice is one call for an encoder that wants everything at once (a Ray pool
        loads the model per call)."""
        parts = self.parts
        step = _slice_size(parts.encoder)
        for start in range(0, len(identifiers), step):
            some, their_texts = identifiers[start : start + step], texts[start : start + step]
            segments = segments_of(their_texts) if parts.sentences is not None else []
            with_tokens = len(their_texts) if parts.tokens is not None else 0
            encoded = encode_once(parts.encoder, [*their_texts, *segments], with_tokens, self.config.index_precision)
            parts.passages.upsert(some, encoded.vectors[: len(their_texts)])
            if parts.sentences is not None:
                parts.sentences.upsert_encoded(some, their_texts, encoded.vectors[len(their_texts) :])
            if parts.tokens is not None:
                parts.tokens.upsert_packed(some, encoded.tokens)
            _advance(progress, len(some) * (1 + (parts.sentences is not None) + (parts.tokens is not None)))

    def remove_courses(self, identifiers: Collection[str]) -> int:
        parts = self.parts
        for part in (parts.sentences, parts.tokens, parts.passages, parts.multilingual):
            if part is not None:
                part.remove(identifiers)
        removed = [identifier for identifier in identifiers if self.texts.pop(identifier, None) is not None]
        for identifier in removed:
            self.facts.pop(identifier, None)
        if self._lexical is not None:
            self._lexical.remove(removed)
        self._changed(removed)
        return len(removed)

    def _changed(self, identifiers: Collection[str]) -> None:
        if self._nearest is not None:
            self._touched.update(identifiers)
        self._full_layout = None


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
