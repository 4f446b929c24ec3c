"""What a course search is configured with, and what it may be filtered by."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from embeddings import Precision, native_bf16
from models import Course, InvalidInputError
from search.passages import DEFAULT_FIELDS

Method = Literal["dense", "bm25", "hybrid", "rrf"]
METHODS: tuple[Method, ...] = ("dense", "bm25", "hybrid", "rrf")
STORED_NEIGHBOURS = 10  # nearest courses kept per course: `neighbours` may be configured up to this many


@dataclass(frozen=True)
class RetrievalConfig:
    """How courses are indexed and searched. The defaults are the measured best (docs/search.md)."""

    encoder: str = "minilm"
    multilingual_encoder: str | None = "e5"
    fields: tuple[str, ...] = DEFAULT_FIELDS
    # The 4-bit E5 engine's time grows with the text (0.4 ms a token on 2 cores), and the title with the
    # description's start carries the topic: 120 characters measured better than 300 on Hindi and Tamil queries
    # and on the Coursera dev split, at two thirds of the encoding time (bench/index_build.md); 80 and less lost.
    multilingual_chars: int = 120
    method: Method = "hybrid"
    bm25_weight: float = 0.3
    # Weight of the multilingual index in an English query's hybrid: it is what lets an English query find a
    # course written only in Hindi or Tamil. 0 leaves English queries to the English encoder and BM25.
    multilingual_weight: float = 0.3
    # Weight of a course's best-matching sentence (English encoder) in the hybrid; 0 builds no sentence index.
    segment_weight: float = 0.5
    # Weight of late interaction (MaxSim over content tokens) when it reranks the hybrid's best `candidates`
    # courses; 0 stores no token vectors. Needs an encoder that gives token vectors (sentence-transformers).
    token_weight: float = 1.0
    # Score smoothing over the course graph: each course's fused score gains this weight times the mean fused
    # score of its `neighbours` nearest courses (by passage vectors). Related courses tend to teach the same
    # skills, so a course next to strong matches is likelier to be one. 0 turns it off.
    neighbour_weight: float = 0.2
    neighbours: int = 3
    candidates: int = 100
    # Results the reader can read (search/readable.py): courses in the query's language, the languages the
    # reader reads or asked for, and English rank above the others, which only fill up to k.
    readable_first: bool = True
    # A non-English query's multilingual cosines centred on the mean of each course language (the encoder puts
    # any text in the query's own language nearer than the same topic in English). Off with readable_first
    # off is the behaviour before both (measured in docs/search.md).
    centre_languages: bool = True
    # The English encoder's arithmetic for the index's passages, sentences and tokens (queries are always float32):
    # bf16 is 2.6x faster where the CPU has it, at cosine >= 0.99996 to float32 (embeddings.encoders.Precision).
    index_precision: Precision = "fp32"

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise InvalidInputError(f"unknown retrieval method {self.method!r}: choose from {', '.join(METHODS)}")
        if self.candidates < 1:
            raise InvalidInputError("candidates must be at least 1")
        weights = {"bm25_weight": self.bm25_weight, "multilingual_weight": self.multilingual_weight}
        weights |= {"segment_weight": self.segment_weight, "token_weight": self.token_weight}
        weights |= {"neighbour_weight": self.neighbour_weight, "neighbours": self.neighbours}
        negative = [name for name, value in weights.items() if value < 0]
        if negative:
            raise InvalidInputError(f"{', '.join(negative)} must not be negative")
        if self.neighbours > STORED_NEIGHBOURS:
            raise InvalidInputError(f"neighbours: at most {STORED_NEIGHBOURS} are kept per course")


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


class SearchSettings(BaseSettings):
    """The encoders of the course index (`KARMAYOGI_SEARCH_*`); everything else about search is the measured
    default of `RetrievalConfig`."""

    model_config = SettingsConfigDict(env_prefix="KARMAYOGI_SEARCH_", extra="ignore")

    encoder: str = Field(default="minilm", description="English encoder: minilm, e5, minilm+e5 or st:DIR")
    multilingual_encoder: str | None = Field(
        default="e5", description="Encoder for non-English queries and texts; `none` to go without"
    )

    index_precision: Literal["auto", "fp32", "bf16"] = Field(
        default="auto",
        description="Arithmetic of the index's English encodings: bf16 where the CPU multiplies it natively (auto), "
        "or fp32 / bf16 always",
    )

    @field_validator("multilingual_encoder")
    @classmethod
    def _none_means_off(cls, value: str | None) -> str | None:
        return None if value is None or value.strip().lower() in ("", "none") else value


def retrieval_config(settings: SearchSettings) -> RetrievalConfig:
    """The measured default configuration with the configured encoders and index precision."""
    precision: Precision = "fp32"
    if settings.index_precision == "bf16" or (settings.index_precision == "auto" and native_bf16()):
        precision = "bf16"
    return RetrievalConfig(
        encoder=settings.encoder, multilingual_encoder=settings.multilingual_encoder, index_precision=precision
    )
