"""The hostile-input and fault probe of issue 14, re-run against the real service on SQLite and on PostgreSQL.

Starts `karmayogi serve` (one worker, the small sample catalog) on each database, sends every probe of the
issue over HTTP, and prints one table row per probe: the status each database answered, how long it took, and
whether that is what the issue asks (a 4xx or a 503, never a 500, never a hang). PostgreSQL is reached through
tests/fault_proxy.py, so that the same run also drops and stalls it and measures the time to recover.

    .venv/bin/python bench/hostile_probe.py            # prints the table; writes bench/results/hostile_probe.json

The regression tests of each probe live in tests/ (test_api_hostile_clients, test_input_text_policy,
test_ingest_bounds, test_api_contract_nits, test_review_sessions, test_concurrent_ingest, test_database_faults);
this script gathers their figures in one table for the issue's closing note and docs/api.md.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from models import ingest_file, make_engine, upgrade  # noqa: E402
from models.sample_data import COMPETENCIES_FILE, COURSES_FILE, LEARNERS_FILE, ROLES_FILE  # noqa: E402
from tests.api_helpers import Keys, make_keys  # noqa: E402
from tests.fault_proxy import FaultProxy  # noqa: E402
from tests.served import serve  # noqa: E402

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
TIMEOUT = 20.0  # a probe that takes longer is a hang
NESTED = "[" * 100_000 + "]" * 100_000


@dataclass
class Outcome:
    status: int
    seconds: float


@dataclass(frozen=True)
class Probe:
    defect: str
    name: str
    send: Callable[[httpx.Client, Keys], httpx.Response]


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def jsonl(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


def concurrent_ingests(client: httpx.Client, keys: Keys) -> httpx.Response:
    body = jsonl(*(json.dumps({"identifier": f"do_probe_{n}", "name": f"Probe course {n}"}) for n in range(300)))
    answers: list[httpx.Response] = []

    def send() -> None:
        headers = bearer(keys.content) | {"Content-Type": "application/x-ndjson"}
        answers.append(client.post("/v1/courses/bulk", content=body, headers=headers))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return max(answers, key=lambda answer: answer.status_code)  # the worst of the four


def ingest(body: bytes | str, media: str = "application/x-ndjson") -> Callable[[httpx.Client, Keys], httpx.Response]:
    def send(client: httpx.Client, keys: Keys) -> httpx.Response:
        return client.post("/v1/courses/bulk", content=body, headers=bearer(keys.content) | {"Content-Type": media})

    return send


def first_unit(client: httpx.Client, keys: Keys) -> int:
    units = client.get("/v1/translation/units", params={"limit": 1}, headers=bearer(keys.reviewer)).json()
    return int(units["items"][0]["id"]) if units.get("items") else 1


PROBES = [
    Probe("D2", "GET /v1/courses/%00", lambda c, k: c.get("/v1/courses/%00", headers=bearer(k.portal))),
    Probe(
        "D2",
        "recommendations for learner %00",
        lambda c, k: c.get("/v1/learners/%00/recommendations", headers=bearer(k.portal)),
    ),
    Probe(
        "D2", "GET /v1/roles?department=%00", lambda c, k: c.get("/v1/roles?department=%00", headers=bearer(k.portal))
    ),
    Probe(
        "D2",
        "POST /v1/keys name with NUL",
        lambda c, k: c.post("/v1/keys", json={"name": "a\u0000b", "scopes": ["admin"]}, headers=bearer(k.admin)),
    ),
    Probe("D2", "bulk ingest, NUL in a name", ingest(jsonl(json.dumps({"identifier": "do_nul", "name": "a\u0000b"})))),
    Probe(
        "D2",
        "unit edit with NUL",
        lambda c, k: c.post(
            f"/v1/translation/units/{first_unit(c, k)}/edit", json={"text": "a\u0000b"}, headers=bearer(k.reviewer)
        ),
    ),
    Probe(
        "D2",
        "review sign-in key=kyk_%00_x",
        lambda c, k: c.post("/review/login", data={"key": "kyk_\u0000_x", "csrf": "x"}),
    ),
    Probe("D4", "4 identical concurrent bulk ingests", concurrent_ingests),
    Probe("D5", "100k-deep nested JSON line", ingest(jsonl(NESTED))),
    Probe(
        "D5", "CSV cell over 131,072 characters", ingest("identifier,name\ndo_big," + "x" * 140_000 + "\n", "text/csv")
    ),
    Probe(
        "D5", "non-ASCII CSRF token", lambda c, k: c.post("/review/login", data={"key": k.reviewer, "csrf": "ünïcode"})
    ),
    Probe("D5", "GET /review/units/99999999999999999999", lambda c, k: c.get("/review/units/99999999999999999999")),
    Probe("D6", "60 MiB POST /v1/nope/bulk", lambda c, k: c.post("/v1/nope/bulk", content=b"x" * (60 << 20))),
    Probe("D7", "method M0001 /healthz", lambda c, k: c.request("M0001", "/healthz")),
    Probe("D9", "CSV header id,title,lang", ingest("id,title,lang\ndo_x,Title,hi\n", "text/csv")),
    Probe("D11", "undecodable bulk body", ingest(b'{"identifier": "do_bad", "name": "\xff"}\n')),
    Probe("D12", "GET /review/units/abc", lambda c, k: c.get("/review/units/abc")),
    Probe(
        "D12",
        "job over an unknown course",
        lambda c, k: c.post(
            "/v1/translation/jobs", json={"languages": ["hi"], "course_ids": ["do_nope"]}, headers=bearer(k.reviewer)
        ),
    ),
    Probe(
        "D12",
        "English as a translation target",
        lambda c, k: c.post("/v1/translation/jobs", json={"languages": ["en"]}, headers=bearer(k.reviewer)),
    ),
    Probe(
        "D12",
        'k: "5" in a recommendation body',
        lambda c, k: c.post("/v1/recommendations", json={"levels": {}, "k": "5"}, headers=bearer(k.portal)),
    ),
    Probe(
        "D12",
        "malformed JSON body",
        lambda c, k: c.post(
            "/v1/recommendations",
            content=b'{"k": 1,,}',
            headers=bearer(k.portal) | {"Content-Type": "application/json"},
        ),
    ),
    Probe("D12", "empty bulk body", ingest(b"")),
    Probe(
        "Host",
        "Host: evil.example on a redirect",
        lambda c, k: c.get("/v1/courses/", headers=bearer(k.portal) | {"Host": "evil.example"}),
    ),
]


def load(url: str) -> Keys:
    engine = make_engine(url)
    upgrade(engine)
    for kind, path in (
        ("competencies", COMPETENCIES_FILE),
        ("roles", ROLES_FILE),
        ("courses", COURSES_FILE),
        ("learners", LEARNERS_FILE),
    ):
        ingest_file(engine, kind, path)  # type: ignore[arg-type]
    keys = make_keys(engine)
    engine.dispose()
    return keys


@contextmanager
def postgres_schema() -> Iterator[str]:
    schema = f"kp_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{POSTGRES}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def settings(home: Path, **more: str) -> dict[str, str]:
    return {
        "KARMAYOGI_HOME": str(home),
        "KARMAYOGI_SEMANTIC": "false",
        "KARMAYOGI_SECRET_KEY": "hostile-probe-secret",
        "KARMAYOGI_DB_CONNECT_TIMEOUT_SECONDS": "2",
        "KARMAYOGI_DB_STATEMENT_TIMEOUT_SECONDS": "3",
        **more,
    }


def run_probes(base: str, keys: Keys) -> dict[str, Outcome]:
    outcomes: dict[str, Outcome] = {}
    with httpx.Client(base_url=base, timeout=TIMEOUT, follow_redirects=False) as client:
        for probe in PROBES:
            started = time.monotonic()
            try:
                status = probe.send(client, keys).status_code
            except httpx.TimeoutException:
                status = 0  # a hang
            except httpx.HTTPError:
                status = -1  # the server dropped the connection without an answer
            outcomes[f"{probe.defect} {probe.name}"] = Outcome(status, time.monotonic() - started)
    return outcomes


def database_faults(base: str, keys: Keys, proxy: FaultProxy) -> dict[str, Outcome]:
    """Drop, then stall, the proxied PostgreSQL: what a request gets meanwhile, and how soon it is 200 again."""
    found: dict[str, Outcome] = {}
    with httpx.Client(base_url=base, timeout=TIMEOUT) as client:
        for fault, cut in (("dropped", proxy.drop), ("stalled", proxy.stall)):
            cut()
            started = time.monotonic()
            try:
                status = client.get("/v1/courses?limit=1", headers=bearer(keys.portal)).status_code
            except httpx.TimeoutException:
                status = 0
            found[f"D3 PostgreSQL {fault}: GET /v1/courses"] = Outcome(status, time.monotonic() - started)
            started = time.monotonic()
            ready = client.get("/readyz")
            found[f"D3 PostgreSQL {fault}: GET /readyz"] = Outcome(ready.status_code, time.monotonic() - started)
            proxy.forward()
            back = time.monotonic()
            while client.get("/v1/courses?limit=1", headers=bearer(keys.portal)).status_code != 200:
                time.sleep(0.05)
            found[f"D3 PostgreSQL {fault}: recovery after it is back"] = Outcome(200, time.monotonic() - back)
    return found


def sqlite_lock(base: str, keys: Keys, database: Path) -> dict[str, Outcome]:
    import sqlite3

    writer = sqlite3.connect(database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        answer = httpx.post(
            base + "/v1/keys", json={"name": "locked", "scopes": ["admin"]}, headers=bearer(keys.admin), timeout=TIMEOUT
        )
        return {
            "D3 SQLite write lock held elsewhere: POST /v1/keys": Outcome(
                answer.status_code, time.monotonic() - started
            )
        }
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def acceptable(status: int) -> bool:
    return 400 <= status < 500 or status in (200, 201, 503)


def main() -> None:
    results: dict[str, dict[str, Outcome]] = {}
    with TemporaryDirectory() as scratch:
        home = Path(scratch) / "sqlite"
        keys = load(f"sqlite:///{home / 'karmayogi.db'}")
        with serve(settings(home), log=Path(scratch) / "sqlite.log") as served:
            results["SQLite"] = run_probes(served.base, keys) | sqlite_lock(served.base, keys, home / "karmayogi.db")
        with postgres_schema() as url:
            keys = load(url)
            parsed = make_url(url)
            with FaultProxy((parsed.host or "127.0.0.1", parsed.port or 5432)) as proxy:
                proxied = parsed.set(port=proxy.port).render_as_string(hide_password=False)
                environment = settings(Path(scratch) / "postgres", DATABASE_URL=proxied)
                with serve(environment, log=Path(scratch) / "postgres.log") as served:
                    results["PostgreSQL"] = run_probes(served.base, keys) | database_faults(served.base, keys, proxy)
    report(results)


def report(results: dict[str, dict[str, Outcome]]) -> None:
    names = list(dict.fromkeys(name for outcomes in results.values() for name in outcomes))
    print("| probe | SQLite | PostgreSQL |")
    print("|---|---|---|")
    for name in names:
        cells = []
        for database in ("SQLite", "PostgreSQL"):
            outcome = results[database].get(name)
            cells.append("—" if outcome is None else f"{outcome.status} in {outcome.seconds:.2f} s")
        print(f"| {name} | {' | '.join(cells)} |")
    everything = [outcome for outcomes in results.values() for outcome in outcomes.values()]
    fives = sum(outcome.status >= 500 and outcome.status != 503 for outcome in everything)
    hangs = sum(outcome.status == 0 for outcome in everything)
    dropped = sum(outcome.status == -1 for outcome in everything)
    print(
        f"\n{len(everything)} probes: {fives} answered 5xx other than 503, {hangs} hung past {TIMEOUT:.0f} s, "
        f"{dropped} dropped without an answer; {sum(not acceptable(o.status) for o in everything)} not a 2xx/4xx/503"
    )
    out = ROOT / "bench" / "results" / "hostile_probe.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({db: {n: vars(o) for n, o in outcomes.items()} for db, outcomes in results.items()}, indent=1)
    )


if __name__ == "__main__":
    main()
