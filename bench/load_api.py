"""Load test: the HTTP service under uvicorn, driven from this (second) process over loopback.

Sets up a fresh home with the sample catalog and a portal key, starts `uvicorn api.app:create_app --factory`
as a separate process on 127.0.0.1, waits for /readyz, then for each scenario and concurrency (1, 16, 64)
sends requests for a fixed time from that many concurrent clients (httpx, asyncio) and reports throughput and
p50/p95/p99 latency. The baseline is /healthz (routing, middleware and JSON, no domain work) measured the same
way in the same run: each scenario's throughput is also printed as a share of it.

Scenarios: `recommend` (GET /v1/learners/{id}/recommendations?k=10 over the sample learners), `profile`
(POST /v1/recommendations with an inline profile), `search English` and `search Hindi` (GET /v1/search over
distinct queries in each language, when the service has it).
Only loopback is used; every loop stops after --seconds.

    .venv/bin/python bench/load_api.py [--seconds 10] [--workers 2] [--no-semantic] [--out bench/load_api.md]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from api.auth import create_key
from api.http_protocol import IMPORT_PATH as HTTP_PROTOCOL
from models import ingest_file, make_engine, session_scope, upgrade
from models.sample_data import LEARNERS_FILE, SAMPLE_FILES
from search import build_course_index

CONCURRENCY = (1, 16, 64)
# Distinct queries in each language, cycled: English ones answered by the hybrid, Hindi ones by the multilingual
# route (the figures are per language).
ENGLISH_QUERIES = (
    "noting and drafting",
    "public procurement GeM",
    "grievance redressal",
    "cyber security",
    "stress at work",
    "right to information act",
    "leadership for civil servants",
    "e-office file management",
    "project management",
    "financial rules for government",
    "data analysis with spreadsheets",
    "communication skills",
)
HINDI_QUERIES = ("ई-ऑफिस", "सूचना का अधिकार", "साइबर सुरक्षा", "सार्वजनिक खरीद", "कार्यस्थल पर तनाव", "नेतृत्व कौशल")


@dataclass
class Result:
    scenario: str
    concurrency: int
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if len(self.latencies_ms) < 2:
            return self.latencies_ms[0] if self.latencies_ms else float("nan")
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario and concurrency")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--no-semantic", action="store_true", help="tag evidence only (faster start-up)")
    parser.add_argument("--out", type=Path, help="also write the table here (Markdown)")
    args = parser.parse_args()

    # Stop cleanly (and stop the server) on SIGTERM too, not only on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    home = Path(tempfile.mkdtemp(prefix="karmayogi-load-"))
    key = prepare(home, semantic=not args.no_semantic)
    port = free_port()
    env = os.environ | {
        "KARMAYOGI_HOME": str(home),
        "KARMAYOGI_SEMANTIC": "false" if args.no_semantic else "true",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    env.pop("DATABASE_URL", None)
    command = [sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(args.workers), "--log-level", "warning"]
    command += ["--http", HTTP_PROTOCOL]  # as `karmayogi serve` runs it
    server = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()
        wait_ready(base, args.workers, timeout=900)
        print(f"server ready after {time.monotonic() - started:.0f} s ({args.workers} workers)", flush=True)
        results = asyncio.run(run_all(base, key, args.seconds, semantic=not args.no_semantic))
    finally:
        server.terminate()
        server.wait(timeout=30)
    table = render(results, args)
    print(table)
    if args.out:
        args.out.write_text(table + "\n", encoding="utf-8")


def prepare(home: Path, semantic: bool) -> str:
    engine = make_engine(f"sqlite:///{home / 'karmayogi.db'}")
    upgrade(engine)
    for kind, path in SAMPLE_FILES:
        ingest_file(engine, kind, path)
    if semantic:
        # As `karmayogi index build` before `serve`: otherwise every worker would build it at start-up.
        started = time.monotonic()
        build_course_index(engine, home)
        print(f"course index built in {time.monotonic() - started:.0f} s", flush=True)
    with session_scope(engine) as session:
        _, key = create_key(session, "load test", ["recommend:read"])
    engine.dispose()
    return key


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_ready(base: str, workers: int, timeout: float) -> None:
    """Every worker loads its own recommender: wait until several readyz answers in a row are 200."""
    deadline = time.monotonic() + timeout
    in_a_row = 0
    while time.monotonic() < deadline:
        try:
            in_a_row = in_a_row + 1 if httpx.get(f"{base}/readyz", timeout=5).status_code == 200 else 0
        except httpx.HTTPError:
            in_a_row = 0
        if in_a_row >= 4 * workers:
            return
        time.sleep(0.5)
    raise TimeoutError("the service did not become ready")


async def run_all(base: str, key: str, seconds: float, semantic: bool) -> list[Result]:
    learners = [json.loads(line)["id"] for line in LEARNERS_FILE.read_text(encoding="utf-8").splitlines() if line]
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=max(CONCURRENCY), max_keepalive_connections=max(CONCURRENCY))
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=60) as client:
        # Without the semantic index (--no-semantic) the service answers /v1/search with 503: nothing to measure.
        has_search = semantic and "/v1/search" in (await client.get("/openapi.json")).json()["paths"]
        first = (await client.get(f"/v1/learners/{learners[0]}/gaps")).json()
        role = first["roles"][0]
        scenarios: dict[str, Callable[[int], tuple[str, str, dict[str, object] | None]]] = {
            "healthz (baseline)": lambda i: ("GET", "/healthz", None),
            "recommend": lambda i: ("GET", f"/v1/learners/{learners[i % len(learners)]}/recommendations?k=10", None),
            "profile": lambda i: ("POST", "/v1/recommendations", {"roles": [role], "k": 10}),
        }
        if has_search:
            english, hindi = ENGLISH_QUERIES, HINDI_QUERIES
            scenarios["search English"] = lambda i: ("GET", f"/v1/search?q={english[i % len(english)]}&k=10", None)
            scenarios["search Hindi"] = lambda i: ("GET", f"/v1/search?q={hindi[i % len(hindi)]}&k=10", None)
        results = []
        for name, make in scenarios.items():
            for concurrency in CONCURRENCY:
                result = await measure(client, name, make, concurrency, seconds=seconds)
                print(f"{name:20} c={concurrency:<3} {result.throughput:8.1f} req/s", flush=True)
                results.append(result)
        if not has_search:
            print("no course index (--no-semantic) or no /v1/search route: the search scenario was not run", flush=True)
    return results


async def measure(
    client: httpx.AsyncClient,
    name: str,
    make: Callable[[int], tuple[str, str, dict[str, object] | None]],
    concurrency: int,
    *,
    seconds: float,
) -> Result:
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal errors
        while time.monotonic() < stop:
            method, url, body = make(next(counter))
            began = time.perf_counter()
            try:
                response = await client.request(method, url, json=body)
                ok = response.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append((time.perf_counter() - began) * 1000)
            errors += not ok

    began = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return Result(name, concurrency, len(latencies), errors, time.monotonic() - began, latencies)


def render(results: list[Result], args: argparse.Namespace) -> str:
    baseline = {r.concurrency: r.throughput for r in results if r.scenario.startswith("healthz")}
    lines = [
        f"Load test: {args.workers} uvicorn worker(s), {args.seconds:.0f} s per row, sample catalog, "
        f"{'tag evidence only' if args.no_semantic else 'tags + semantic evidence'}, client and server on one "
        f"machine ({os.cpu_count()} CPUs).",
        "",
        "| scenario | concurrency | requests | errors | req/s | × healthz | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        share = r.throughput / baseline[r.concurrency] if baseline.get(r.concurrency) else float("nan")
        lines.append(
            f"| {r.scenario} | {r.concurrency} | {r.requests} | {r.errors} | {r.throughput:.1f} | {share:.2f} | "
            f"{r.percentile(50):.1f} | {r.percentile(95):.1f} | {r.percentile(99):.1f} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
