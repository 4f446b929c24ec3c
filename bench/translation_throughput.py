"""Translation throughput: the whole pipeline (split, protect, translate, restore, glossary, QA checks) with the
transformers engine vs the CTranslate2 int8 engine on the same model, as a ratio measured in one run; and
translation-memory lookup latency with 100k entries.

No weights are downloaded: the model is the tiny Marian model the tests use, trained here on the shipped
reviewed pairs (a bigger `--d-model` makes the work per token closer to a real model), or any local model
directory given with `--model` (converted to CTranslate2 int8 in a temporary folder).

With `--ray ACTORS`, also the bulk job (`karmayogi translate`) over the sample catalog's names and descriptions on
the local engine and on `--engine ray` with a local Ray instance of ACTORS CPUs, same CTranslate2 model: segments
per second for both, whether they stored the same units, and the projection for 2,400 courses into 16 languages.

    .venv/bin/python bench/translation_throughput.py [--model DIR] [--d-model 256] [--repeat 2] [--beams 4]
    .venv/bin/python bench/translation_throughput.py --ray 2 [--ray-langs hi,mr,bn,ta] [--window-hours 8]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import Engine, select

from models import ingest_file, make_engine, session_scope, upgrade
from models.sample_data import SAMPLE_FILES
from models.tables import CourseRow, TranslationUnitRow
from translation import (
    FIELDS,
    TranslationMemory,
    TranslationPipeline,
    load_glossary,
    run_translation_job,
    seed_memory,
)
from translation.ct2 import CTranslate2Engine, convert_to_ctranslate2
from translation.jobs import is_english
from translation.ray_mt import RayTranslator
from translation.segments import split_text
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
    parser.add_argument("--ray", type=int, default=0, metavar="ACTORS", help="Also the bulk job: local vs Ray")
    parser.add_argument("--ray-langs", default="hi,mr,bn,ta", help="Target languages of the bulk job")
    parser.add_argument("--window-hours", type=float, default=8.0, help="Overnight window for the projection")
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
        if args.ray:
            bulk_job_on_ray(ct2_dir, args.ray, args.ray_langs.split(","), args.beams, window_hours=args.window_hours)

    memory_latency(args.memory_entries)


def bulk_job_on_ray(model_dir: Path, actors: int, languages: list[str], beams: int, *, window_hours: float) -> None:
    """The whole job, local engine vs Ray actors, each into its own copy of the sample catalog."""
    import ray

    glossary = load_glossary()
    with tempfile.TemporaryDirectory() as folder:
        databases = {name: sample_catalog(Path(folder) / f"{name}.db") for name in ("local", "ray")}
        mt = CTranslate2Engine(model_dir, num_beams=beams)
        local = run_translation_job(databases["local"], languages, FIELDS, mt=mt, glossary=glossary)
        started = time.perf_counter()
        ray.init(num_cpus=actors, include_dashboard=False, log_to_driver=False)
        ray_start = time.perf_counter() - started
        try:
            ahead = RayTranslator(model_dir, beams=beams, actors=actors)
            remote = run_translation_job(databases["ray"], languages, FIELDS, glossary=glossary, ahead=ahead)
        finally:
            ray.shutdown()
        same = stored_drafts(databases["local"]) == stored_drafts(databases["ray"])
        per_description = segments_per_description(databases["local"])
    print(f"bulk job, {len(languages)} languages, names and descriptions of the sample catalog (load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores):")  # fmt: skip
    for name, report in (("local engine", local), (f"ray, {actors} actors", remote)):
        print(
            f"  {name:<16} {report.mt_segments} MT segments ({report.segments} in all) in {report.seconds:6.1f} s = "
            f"{report.mt_segments / report.seconds:7.1f} MT segments/s"
        )
    print(f"  ray start-up {ray_start:.1f} s (not in the job's time); units identical: {same}")
    if not remote.mt_segments:
        print("  the model translated nothing (empty outputs): no projection; try another --d-model or --steps")
        return
    per_actor = remote.mt_segments / remote.seconds / actors
    segments = 2400 * 16 * (1 + per_description)
    actor_hours = segments / per_actor / 3600
    print(
        f"projection, 2,400 courses x 16 languages x (1 name + {per_description:.2f} description segments) = "
        f"{segments:,.0f} segments: {segments / (local.mt_segments / local.seconds) / 3600:.2f} h on the local "
        f"engine here; {actor_hours:.2f} actor-hours at {per_actor:.1f} segments/s per actor, i.e. "
        f"{actor_hours / window_hours:.2f} actors for a {window_hours:g} h window (this model, these cores)"
    )


def sample_catalog(path: Path) -> Engine:
    db = make_engine(f"sqlite:///{path}")
    upgrade(db)
    for kind, file in SAMPLE_FILES:
        ingest_file(db, kind, file)
    with session_scope(db) as session:
        seed_memory(session, SEED_FILES["hi"])
    return db


def stored_drafts(db: Engine) -> list[tuple[str, str, str, str | None, str | None]]:
    with session_scope(db) as session:
        rows = session.execute(
            select(
                TranslationUnitRow.course_id,
                TranslationUnitRow.field,
                TranslationUnitRow.language,
                TranslationUnitRow.draft,
                TranslationUnitRow.engine,
            ).order_by(TranslationUnitRow.id)
        )
        return [(course, field, language, draft, engine) for course, field, language, draft, engine in rows]


def segments_per_description(db: Engine) -> float:
    """Sentences per English course description in this catalog (names are one segment each)."""
    with session_scope(db) as session:
        descriptions = [text for text in session.scalars(select(CourseRow.description)) if text and is_english(text)]
    return sum(sum(chunk.translate for chunk in split_text(text)) for text in descriptions) / len(descriptions)


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
