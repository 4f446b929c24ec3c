"""Translation throughput: the whole pipeline (split, protect, translate, restore, glossary, QA checks) with the
transformers engine vs the CTranslate2 int8 engine on the same model, as a ratio measured in one run; and
translation-memory lookup latency with 100k entries.

No weights are downloaded: the model is the tiny Marian model the tests use, trained here on the shipped
reviewed pairs (a bigger `--d-model` makes the work per token closer to a real model), or any local model
directory given with `--model` (converted to CTranslate2 int8 in a temporary folder).

    .venv/bin/python bench/translation_throughput.py [--model DIR] [--d-model 256] [--repeat 2] [--beams 4]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from translation import TranslationMemory, TranslationPipeline, load_glossary
from translation.ct2 import CTranslate2Engine, convert_to_ctranslate2
from translation.seq2seq import Seq2SeqEngine
from translation.store import SEED_FILES, read_parallel_file
from translation.tiny_model import train_tiny_marian


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="A local transformers model directory (default: train a tiny one)")
    parser.add_argument("--d-model", type=int, default=256, help="Width of the tiny model")
    parser.add_argument("--steps", type=int, default=300, help="Training steps of the tiny model")
    parser.add_argument("--repeat", type=int, default=2, help="Passes over the reviewed sources")
    parser.add_argument("--beams", type=int, default=4)
    parser.add_argument("--threads", type=int, default=0, help="CTranslate2 intra-op threads (0: its default)")
    parser.add_argument("--memory-entries", type=int, default=100_000)
    args = parser.parse_args()

    _, _, pairs = read_parallel_file(SEED_FILES["hi"])
    glossary = load_glossary()
    with tempfile.TemporaryDirectory() as folder:
        model_dir = args.model
        if model_dir is None:
            started = time.perf_counter()
            model_dir = train_tiny_marian(
                pairs, Path(folder) / "tiny", steps=args.steps, d_model=args.d_model, keep=glossary.do_not_translate()
            )
            print(f"trained a tiny Marian model (d_model {args.d_model}) in {time.perf_counter() - started:.1f} s")
        ct2_dir = convert_to_ctranslate2(model_dir, Path(folder) / "ct2", quantization="int8")
        texts = [source for source, _ in pairs] * args.repeat
        # Multi-sentence descriptions exercise the splitter: join titles three at a time.
        descriptions = [". ".join(texts[i : i + 3]) + "." for i in range(0, len(texts), 3)]
        workload = texts + descriptions
        engines = {
            "transformers": Seq2SeqEngine(model_dir, num_beams=args.beams),
            "ctranslate2-int8": CTranslate2Engine(ct2_dir, num_beams=args.beams, threads=args.threads),
        }
        rates: dict[str, float] = {}
        for name, engine in engines.items():
            pipeline = TranslationPipeline("hi", mt=engine, glossary=glossary)
            pipeline.translate(workload[:8])  # warm-up
            started = time.perf_counter()
            drafts = pipeline.translate(workload)
            seconds = time.perf_counter() - started
            segments = sum(draft.segments for draft in drafts)
            rates[name] = segments / seconds
            print(f"{name:<17} {segments} segments in {seconds:6.2f} s = {rates[name]:7.1f} segments/s")
        ratio = rates["ctranslate2-int8"] / rates["transformers"]
        print(f"CTranslate2 int8 / transformers throughput: {ratio:.2f}x (same model, beams {args.beams})")

    memory_latency(args.memory_entries)


def memory_latency(entries: int) -> None:
    memory = TranslationMemory(synthetic_pairs(entries))
    queries = [source for source, _ in synthetic_pairs(200, seed=1)]
    known = [source for source, _ in synthetic_pairs(200)]
    print(f"translation memory with {len(memory)} entries:")
    report("exact lookup, hit", lambda q: memory.lookup(q), known)
    report("exact lookup, miss", lambda q: memory.lookup(q + " (new)"), queries)
    report("fuzzy top-3 (score >= 75)", lambda q: memory.matches(q, limit=3, min_score=75), queries[:50])


def report(label: str, call: Callable[[str], object], queries: Sequence[str]) -> None:
    timings = []
    for query in queries:
        started = time.perf_counter()
        call(query)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p95 = timings[int(0.95 * (len(timings) - 1))]
    print(f"  {label:<27} p50 {statistics.median(timings):8.3f} ms   p95 {p95:8.3f} ms")


VOCABULARY = (
    "public procurement noting drafting office procedure financial rules budget audit grievance redressal "
    "cyber security awareness leadership ethics integrity disaster management health mission rural housing "
    "land records revenue courts right information service delivery team coordination data analysis policy"
)
WORDS = VOCABULARY.split()


def synthetic_pairs(count: int, seed: int = 0) -> list[tuple[str, str]]:
    """Course-title-like English texts with a stand-in target (the lookup never reads it)."""
    rng = random.Random(seed)
    pairs = []
    for number in range(count):
        title = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))).capitalize()
        pairs.append((f"{title} {number}", f"अनुवाद {number}"))
    return pairs


if __name__ == "__main__":
    main()
