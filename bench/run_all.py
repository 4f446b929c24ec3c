"""Every headline figure in one run (`make bench`): a table on stdout and a JSON file with the machine's details.

Each figure comes from the benchmark that owns it, run here as a separate process with small, fixed sizes so the
whole run takes minutes, and read back from its output; search is measured in this process. A figure is printed
next to its baseline measured in the same run (where one exists) and the ratio between them. A benchmark that
fails or prints something unexpected is reported as such in the table and the JSON; the others still run.

    .venv/bin/python bench/run_all.py [--out bench/results/latest.json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str
    baseline_name: str | None = None
    baseline: float | None = None
    higher_is_better: bool = True
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline


def run(script: str, *args: str, timeout: int = 1200) -> str:
    """A benchmark script's stdout (stderr appended when it fails)."""
    command = [sys.executable, str(BENCH / script), *args]
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{script} exited {done.returncode}: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout


def number(pattern: str, text: str, group: int = 1) -> float:
    found = re.search(pattern, text, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"no match for {pattern!r} in the benchmark's output")
    return float(found.group(group).replace(",", ""))


def search_figures(quick: bool) -> list[Figure]:
    """Index build over the sample catalog and per-query search latency, hybrid vs BM25 alone (in process)."""
    from models import ingest_file, list_courses, make_engine, session_scope, upgrade
    from models.sample_data import SAMPLE_FILES
    from search import RetrievalConfig, build_searcher

    with tempfile.TemporaryDirectory() as folder:
        db = make_engine(f"sqlite:///{Path(folder) / 'k.db'}")
        upgrade(db)
        for kind, path in SAMPLE_FILES:
            if kind in ("competencies", "courses"):
                ingest_file(db, kind, path)
        with session_scope(db) as session:
            courses = list_courses(session)
        db.dispose()
    config = RetrievalConfig(multilingual_encoder=None)
    started = time.perf_counter()
    searcher = build_searcher(courses, {}, config)
    build = len(courses) / (time.perf_counter() - started)
    queries = [course.name for course in courses[: 40 if quick else 200]]
    searcher.search(queries[0])  # warm-up

    def p50(search: Callable[[str], object]) -> float:
        timings = []
        for query in queries:
            started = time.perf_counter()
            search(query)
            timings.append(1000 * (time.perf_counter() - started))
        return statistics.median(timings)

    hybrid = p50(lambda q: searcher.search(q, 10))
    bm25 = p50(lambda q: searcher.lexical(q, 10))
    return [
        Figure("index build (MiniLM + BM25, sample catalog)", build, "courses/s", note=f"{len(courses)} courses"),
        Figure("search latency p50 (hybrid)", hybrid, "ms", "BM25 alone", bm25, higher_is_better=False),
    ]


def recommend_figures(quick: bool) -> list[Figure]:
    learners = "5000" if quick else "50000"
    text = run("recommend_batch.py", "--learners", learners, "--baseline", "300" if quick else "1000",
               "--reference", "5000" if quick else "20000", "--courses", "2400", "--ks", "10")  # fmt: skip
    cells = r"\|\s*2,400\s*\|\s*10\s*\|\s*[\d,]+\s*\|\s*([\d,]+)\s*\|"
    one = number(r"^\| one at a time \(interactive\) " + cells, text)
    reference = number(r"^\| reference \(one process, today's path\) " + cells, text)
    engine = number(r"^\| engine \(\d+ workers\) " + cells, text)
    identical = re.search(r"identical output: (\w+)", text)
    memory = re.search(r"\(ratio ([\d.]+) / ([\d.]+); 1.00 = flat\)", text)
    note = f"identical output: {identical.group(1) if identical else '?'}"
    if memory:
        note += f"; peak memory ×{memory.group(1)} driver, ×{memory.group(2)} worker for 4× the learners"
    return [
        Figure("recommend latency (interactive, with reasons)", 1000 / one, "ms/learner", higher_is_better=False),
        Figure("batch throughput (engine, 2,400 courses)", engine, "learners/s", "today's batch path", reference,
               note=note + "; goal ≥ 17,000/s"),
    ]  # fmt: skip


def ray_figures(quick: bool) -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "ray.json"
        run("ray_batch.py", "--learners", "5000" if quick else "50000", "--json", str(out))
        result = json.loads(out.read_text(encoding="utf-8"))
    note = "outputs identical" if result["identical"] else "OUTPUTS DIFFER"
    note += f"; includes {result['ray_init_s']:.0f} s Ray start-up"
    return [
        Figure("batch throughput (--engine ray, 2 actors)", result["ray_per_s"], "learners/s", "local engine",
               result["local_per_s"], note=note),
    ]  # fmt: skip


def translation_figures(quick: bool) -> list[Figure]:
    args = ["--d-model", "128", "--steps", "100", "--repeat", "1", "--beams", "2", "--memory-entries", "20000"]
    text = run("translation_throughput.py", *(args if quick else ["--repeat", "1"]))
    transformers = number(r"^transformers\s+\d+ segments in\s+[\d.]+ s =\s+([\d.]+) segments/s", text)
    ct2 = number(r"^ctranslate2-int8\s+\d+ segments in\s+[\d.]+ s =\s+([\d.]+) segments/s", text)
    return [Figure("translation throughput (CTranslate2 int8)", ct2, "segments/s", "transformers", transformers)]


def api_figures(quick: bool) -> list[Figure]:
    """bench/load_api.py with the course index (search included): each scenario at 16 clients against /healthz,
    and a search's median at one client in each language (issue 16's goals)."""
    text = run("load_api.py", "--seconds", "2" if quick else "5", "--workers", "2", timeout=2400)
    row = r"^\| ([^|]+?) \| (\d+) \| \d+ \| (\d+) \| ([\d.]+) \| [\d.na]+ \| ([\d.]+) \| [\d.]+ \| ([\d.]+) \|"
    rows = re.findall(row, text, re.MULTILINE)
    table = {
        (scenario, int(c)): (float(rate), int(errors), float(p50), float(p99))
        for scenario, c, errors, rate, p50, p99 in rows
    }
    health = next((v for (s, c), v in table.items() if s.startswith("healthz") and c == 16), None)
    goals = {"recommend": "goal ≥ 0.6×, p99 ≤ 4× p50", "search English": "goal ≥ 0.25×", "search Hindi": "goal ≥ 0.25×"}
    figures = []
    for (scenario, concurrency), (rate, errors, p50, p99) in sorted(table.items()):
        if scenario.startswith("healthz") or concurrency != 16:
            continue
        note = f"p50 {p50:.0f} ms, p99 {p99 / p50:.1f}× p50, {errors} errors"
        if scenario in goals:
            note += f"; {goals[scenario]}"
        figures.append(
            Figure(f"API {scenario} (16 clients)", rate, "req/s", "/healthz", health[0] if health else None, note=note)
        )
    for scenario, goal in (("search English", 20), ("search Hindi", 50)):
        single = table.get((scenario, 1))
        if single is not None:
            figures.append(Figure(f"API {scenario}, p50 at 1 client", single[2], "ms", higher_is_better=False,
                                  note=f"goal ≤ {goal} ms"))  # fmt: skip
    if not figures:
        raise RuntimeError("no scenario rows in load_api.py's table")
    return figures


def index_figures(quick: bool) -> list[Figure]:
    """bench/index_build.py's speed table: today's build path against the current one, on synthetic courses."""
    courses = "240" if quick else "2400"
    text = run("index_build.py", "--courses", courses, "--speed-only", timeout=3600)
    today = number(r"^build: today ([\d.]+) courses/s", text)
    now = number(r"^build: today [\d.]+ courses/s, now ([\d.]+) courses/s", text)
    lowest = re.search(r"Lowest cosine [^:]*: ([\d.]*\d)", text)
    note = f"{courses} synthetic courses; goal ≥ 2.5×"
    if lowest:
        note += f"; lowest passage cosine to today's {lowest.group(1)}"
    return [Figure("index build (every part, E5 included)", now, "courses/s", "today's build path", today, note=note)]


def live_figures(quick: bool) -> list[Figure]:
    """bench/live_catalog.py: changes reaching a 2-worker service over a synthetic catalog."""
    sizes = ["--courses", "600", "--bulk", "300", "--trials", "3"] if quick else ["--courses", "2400", "--trials", "10"]
    text = run("live_catalog.py", *sizes, timeout=3600)
    ingest = number(r"^\| \(a\)[^|]*\| ([\d.]+) \|", text)
    ingest_p95 = number(r"^\| \(a\)[^|]*\| [\d.]+ \| ([\d.]+) \|", text)
    approval = number(r"^\| \(b\)[^|]*\| ([\d.]+) \|", text)
    edit = number(r"^\| \(d\)[^|]*\| ([\d.]+) \|", text)
    rebuild = number(r"full rebuild ([\d.]+) s", text)
    bulk = re.search(r"^\| \(c\).*\| ([^|]*) \|$", text, re.MULTILINE)
    return [
        Figure("live: one-course ingest → every worker (p50)", ingest, "s", higher_is_better=False,
               note=f"p95 {ingest_p95:.2f} s; goal p50 ≤ 1 s, p95 ≤ 2 s"),
        Figure("live: approval → display.language = hi, every worker", approval, "s", higher_is_better=False,
               note="goal ≤ 1 s"),
        Figure("live: one edit in-process", edit, "s", "full rebuild", rebuild, higher_is_better=False,
               note="goal ≥ 50× faster than the rebuild"),
        Figure("live: readiness during a bulk ingest", None, "", note=bulk.group(1) if bulk else "no row"),
    ]  # fmt: skip


SECTIONS: dict[str, Callable[[bool], list[Figure]]] = {
    "index": index_figures,
    "search": search_figures,
    "recommend": recommend_figures,
    "ray": ray_figures,
    "translation": translation_figures,
    "api": api_figures,
    "live": live_figures,
}


def machine() -> dict[str, object]:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        names = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line]
        cpu = names[0] if names else cpu
    return {
        "host": platform.node(),
        "system": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "load_average_at_start": round(os.getloadavg()[0], 2),
    }


def _number(value: float) -> str:
    return f"{value:,.1f}" if value >= 10 else f"{value:.3g}"


def render(figures: list[Figure], failures: dict[str, str]) -> str:
    lines = [f"{'figure':<48} {'value':>12} {'unit':<11} {'baseline (same run)':<28} {'ratio':>7}  note"]
    for f in figures:
        value = "—" if f.value is None else _number(f.value)
        baseline = f"{f.baseline_name}: {_number(f.baseline)}" if f.baseline_name and f.baseline else "—"
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "—"
        lines.append(f"{f.name:<48} {value:>12} {f.unit:<11} {baseline:<28} {ratio:>7}  {f.note}")
    for section, error in failures.items():
        lines.append(f"{section + ' (FAILED)':<48} {'—':>12} {'':<11} {'':<28} {'—':>7}  {error}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a third of the time)")
    parser.add_argument("--only", nargs="*", choices=sorted(SECTIONS), help="run only these sections")
    args = parser.parse_args()
    details = machine()
    figures: list[Figure] = []
    failures: dict[str, str] = {}
    seconds: dict[str, float] = {}
    for section, measure in SECTIONS.items():
        if args.only and section not in args.only:
            continue
        print(f"running {section} …", file=sys.stderr, flush=True)
        started = time.perf_counter()
        try:
            figures.extend(measure(args.quick))
        except Exception as error:  # one broken benchmark must not hide the others' figures
            failures[section] = str(error)[:300]
        seconds[section] = round(time.perf_counter() - started, 1)
    print(render(figures, failures))
    print(f"\nmachine: {details['cpu']}, {details['cores']} cores, {details['memory_gib']} GiB; load average "
          f"{details['load_average_at_start']} at start")  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": details,
        "quick": args.quick,
        "figures": [asdict(f) | {"ratio": f.ratio} for f in figures],
        "failures": failures,
        "seconds": seconds,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.out}")


if __name__ == "__main__":
    main()
