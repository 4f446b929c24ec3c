"""The translation pipeline: memory first, then the configured machine translation engine, with protection,
sentence splitting, glossary and quality checks around it.

Every call works on its own local data (segments, tokens, spans), so one pipeline may serve many threads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from translation.checks import Flag, run_checks
from translation.engines import Engine, MemoryEngine
from translation.glossary import Glossary
from translation.languages import TranslationLanguage, translation_language
from translation.memory import TranslationMemory
from translation.protect import Protected, protect, restore
from translation.segments import Chunk, join_chunks, split_text

# The flag of a draft taken from a memory entry that carries a warning (one approved over an error flag).
MEMORY_WARNING = "memory-warning"


@dataclass(frozen=True)
class Draft:
    source: str
    text: str | None  # None: nothing could translate it; queued for a human translator
    engine: str | None  # memory | memory-fuzzy | the MT engine's name | memory+<engine>
    memory_score: float | None
    flags: tuple[Flag, ...]
    segments: int
    memory_segments: int
    mt_segments: int


@dataclass
class _Item:
    source: str
    chunks: list[Chunk]
    done: dict[int, str]  # translatable chunk position -> translation
    from_memory: int = 0
    from_mt: int = 0
    memory_warnings: list[str] = field(default_factory=list)  # of the memory entries it was drafted from


class TranslationPipeline:
    def __init__(
        self,
        target: str,
        memory: TranslationMemory | None = None,
        mt: Engine | None = None,
        glossary: Glossary | None = None,
        *,
        native_digits: bool = False,
        fuzzy_min_score: float | None = None,
        source: str = "en",
    ) -> None:
        self.source: TranslationLanguage = translation_language(source)
        self.target: TranslationLanguage = translation_language(target)
        self.memory = MemoryEngine(memory or TranslationMemory())
        self.mt = mt
        self.glossary = glossary or Glossary()
        self.native_digits = native_digits
        self.fuzzy_min_score = fuzzy_min_score

    def translate(self, texts: Sequence[str]) -> list[Draft]:
        """One draft per text, with its QA flags."""
        items = [self._from_memory(text) for text in texts]
        pending = _pending(items)
        if self.mt is not None and pending:
            translations = self._machine_translate([item.chunks[pos].text for item, pos in pending])
            for (item, position), translation in zip(pending, translations, strict=True):
                if translation is not None:
                    item.done[position] = translation
                    item.from_mt += 1
        return [self._draft(item) for item in items]

    def machine_input(self, texts: Sequence[str]) -> list[str]:
        """Exactly the protected segments that `translate(texts)` hands the MT engine, in one call and in order
        (empty: no call). Engines that translate elsewhere ahead of time (translation.ray_mt) plan with it."""
        items = [self._from_memory(text) for text in texts]
        return [shielded.text for shielded in self._protect([item.chunks[pos].text for item, pos in _pending(items)])]

    def _from_memory(self, text: str) -> _Item:
        whole = self.memory.memory.lookup(text)
        if whole is not None:
            warnings = [whole.warning] if whole.warning else []
            return _Item(text, [Chunk(text, True)], {0: whole.target}, from_memory=1, memory_warnings=warnings)
        item = _Item(text, split_text(text), {})
        for position, chunk in _translatable(item):
            match = self.memory.memory.lookup(chunk.text)
            if match is not None:
                item.done[position] = match.target
                item.from_memory += 1
                if match.warning:
                    item.memory_warnings.append(match.warning)
        return item

    def _machine_translate(self, segments: list[str]) -> list[str | None]:
        assert self.mt is not None
        protected = self._protect(segments)
        outputs = self.mt.translate([p.text for p in protected], self.source, self.target)
        native = self.target.script if self.native_digits else None
        results: list[str | None] = []
        for segment, shielded, output in zip(segments, protected, outputs, strict=True):
            if not output or not output.strip():
                results.append(None)  # the engine gave nothing: the segment stays untranslated
                continue
            restored = restore(output, shielded.spans, native_digits=native).text
            results.append(self.glossary.apply(segment, restored, self.target.code))
        return results

    def _protect(self, segments: list[str]) -> list[Protected]:
        keep = self.glossary.do_not_translate()
        return [protect(segment, keep) for segment in segments]

    def _draft(self, item: _Item) -> Draft:
        translatable = [pos for pos, _ in _translatable(item)]
        complete = all(pos in item.done for pos in translatable)
        text: str | None = join_chunks(item.chunks, [item.done[pos] for pos in translatable]) if complete else None
        score: float | None = 100.0 if item.from_memory else None
        engine = _engine_name(item, self.mt)
        if text is None and self.fuzzy_min_score is not None:
            best = self.memory.memory.matches(item.source, limit=1, min_score=self.fuzzy_min_score)
            if best:
                text, score, engine = best[0].target, best[0].score, "memory-fuzzy"
                item.memory_warnings += [best[0].warning] if best[0].warning else []
        flags = tuple(run_checks(item.source, text, self.target.code, self.glossary)) if text is not None else ()
        if text is not None and item.memory_warnings:
            flags += (Flag(MEMORY_WARNING, "warning", f"from memory: {item.memory_warnings[0]}"),)
        return Draft(
            source=item.source,
            text=text,
            engine=engine if text is not None else None,
            memory_score=score if text is not None else None,
            flags=flags,
            segments=len(translatable),
            memory_segments=item.from_memory,
            mt_segments=item.from_mt,
        )


def _translatable(item: _Item) -> list[tuple[int, Chunk]]:
    return [(pos, chunk) for pos, chunk in enumerate(item.chunks) if chunk.translate]


def _pending(items: list[_Item]) -> list[tuple[_Item, int]]:
    """(item, chunk position) of every sentence the memory did not translate: the MT engine's work."""
    return [(item, pos) for item in items for pos, _ in _translatable(item) if pos not in item.done]


def _engine_name(item: _Item, mt: Engine | None) -> str | None:
    if item.from_mt and item.from_memory:
        return f"memory+{mt.name}" if mt else None
    if item.from_mt:
        return mt.name if mt else None
    return "memory" if item.from_memory else None
