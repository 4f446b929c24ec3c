"""Making a searcher: its encoders (through the embedding cache when given) and, for a catalog, its indexes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from embeddings import CachedEncoder, EmbeddingCache, Encoder, TokenIndex, VectorIndex, load_encoder
from embeddings.cache import gives_tokens
from embeddings.index import IndexKind
from models import Course
from search.config import RetrievalConfig
from search.searcher import CourseSearcher, Progress, SearchParts
from search.sentences import SentenceIndex

EncoderLoader = Callable[[str], Encoder]


def load_encoders(
    config: RetrievalConfig, cache: EmbeddingCache | None = None, encoder_loader: EncoderLoader = load_encoder
) -> tuple[Encoder, Encoder | None]:
    """The English encoder and, when configured, the multilingual one."""
    english = _cached(encoder_loader(config.encoder), cache)
    multilingual = config.multilingual_encoder
    return english, _cached(encoder_loader(multilingual), cache) if multilingual else None


def _cached(encoder: Encoder, cache: EmbeddingCache | None) -> Encoder:
    if cache is None:
        return encoder
    # An encoder may want more passages per call than the cache's default batch (a Ray encoder starts its actor
    # pool once per call).
    return CachedEncoder(encoder, cache, batch_size=getattr(encoder, "passages_per_call", 64))


def empty_parts(
    config: RetrievalConfig,
    encoder: Encoder,
    multilingual_encoder: Encoder | None = None,
    index_kind: IndexKind = "auto",
) -> SearchParts:
    """Empty indexes for these encoders, with the parts the configuration uses."""
    tokens = config.token_weight > 0 and gives_tokens(encoder)
    return SearchParts(
        encoder=encoder,
        passages=VectorIndex(encoder.dimension, kind=index_kind),
        multilingual_encoder=multilingual_encoder,
        multilingual=VectorIndex(multilingual_encoder.dimension, kind=index_kind) if multilingual_encoder else None,
        sentences=SentenceIndex(VectorIndex(encoder.dimension, kind=index_kind)) if config.segment_weight > 0 else None,
        tokens=TokenIndex(encoder.dimension) if tokens else None,
    )


def build_searcher(
    courses: Sequence[Course],
    competency_names: Mapping[str, str],
    config: RetrievalConfig = RetrievalConfig(),
    *,
    cache: EmbeddingCache | None = None,
    progress: Progress | None = None,
    index_kind: IndexKind = "auto",
    encoder_loader: EncoderLoader = load_encoder,
) -> CourseSearcher:
    """Encode every course (through the cache when given) and index it; `encoder_loader` may put the encoding
    elsewhere (e.g. `embeddings.ray_encoder.ray_encoder_loader`)."""
    english, multilingual = load_encoders(config, cache, encoder_loader)
    searcher = CourseSearcher(config, empty_parts(config, english, multilingual, index_kind))
    searcher.upsert_courses(courses, competency_names, progress)
    return searcher
