"""Slow and hostile clients against the real service: `karmayogi serve` (one uvicorn worker) in a subprocess on
127.0.0.1, spoken to over raw sockets, as the probe of issue 14 did.

- Slow bodies (D1): ten uploads that trickle a byte a second neither hold an in-flight slot nor delay an
  authenticated request; each gets a 408 when its deadline passes.
- No body before authentication and routing (D6): unauthenticated and unknown-route uploads are answered before a
  byte of their body is read, and eight concurrent 60 MiB uploads leave the worker's memory where it was.
- Closed metrics labels (D7): made-up methods and paths add no series.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from api.app import create_app
from models import ingest_file, make_engine, upgrade
from tests.api_helpers import Keys, make_keys, make_services
from tests.conftest import FIXTURES

ROOT = Path(__file__).resolve().parents[1]
BODY_TIMEOUT = 3.0  # the server's KARMAYOGI_BODY_TIMEOUT_SECONDS in this module (10 s by default)
PROBLEM = "application/problem+json"


@dataclass
class Server:
    port: int
    pid: int
    keys: Keys
    log: Path

    def rss_mib(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS")


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool  # the server closed the connection after the response


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def connect(server: Server, head: str, timeout: float = 10) -> socket.socket:
    """A connection that has sent `head` (request line and headers, without the blank line)."""
    connection = socket.create_connection(("127.0.0.1", server.port), timeout)
    connection.sendall(f"{head}\r\nHost: 127.0.0.1\r\n\r\n".encode())
    return connection


def read_reply(connection: socket.socket, timeout: float = 10) -> Reply:
    """One response; `closed` tells whether the server then closed the connection."""
    connection.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = connection.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = connection.recv(65536)
        assert chunk, "connection closed inside the response body"
        body += chunk
    connection.settimeout(0.5)
    try:
        closed = connection.recv(1) == b""
    except TimeoutError:
        closed = False
    return Reply(int(lines[0].split()[1]), headers, body, closed)


def request(server: Server, method: str, path: str, headers: str = "", *, timeout: float = 10) -> Reply:
    with connect(server, f"{method} {path} HTTP/1.1\r\nConnection: close{headers}", timeout) as connection:
        return read_reply(connection, timeout)


def bearer(key: str) -> str:
    return f"\r\nAuthorization: Bearer {key}"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("hostile")
    engine = make_engine(f"sqlite:///{home / 'karmayogi.db'}")
    upgrade(engine)
    ingest_file(engine, "competencies", FIXTURES / "kcm_small.json")
    keys = make_keys(engine)
    engine.dispose()
    port = free_port()
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("KARMAYOGI_") and name not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")
    }
    environment |= {
        "KARMAYOGI_HOME": str(home),
        "KARMAYOGI_SEMANTIC": "false",
        "KARMAYOGI_SECRET_KEY": "hostile-clients-test-secret",
        "KARMAYOGI_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
    }
    log = home / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-c", "from api.cli import app; app()", "serve", "--port", str(port), "--workers", "1"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    running = Server(port=port, pid=process.pid, keys=keys, log=log)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if request(running, "GET", "/healthz", timeout=2).status == 200:
                    break
            except (OSError, AssertionError):
                time.sleep(0.1)
        else:
            raise AssertionError(f"the server did not start:\n{log.read_text()}")
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


class Trickle:
    """An upload that declares `Content-Length: 100000` and then sends one byte a second, until the server answers
    or `seconds` have passed."""

    def __init__(self, server: Server, key: str | None, seconds: float) -> None:
        auth = bearer(key) if key else ""
        head = f"POST /v1/recommendations HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 100000{auth}"
        self.connection = connect(server, head)
        self.reply: Reply | None = None
        self.answered_after: float | None = None
        self.sent = 0
        self._until = time.monotonic() + seconds
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._started = time.monotonic()
        self._thread.start()

    def _run(self) -> None:
        self.connection.settimeout(1.0)
        while time.monotonic() < self._until:
            try:
                self.connection.sendall(b" ")
                self.sent += 1
                if self.connection.recv(1, socket.MSG_PEEK):
                    break
            except TimeoutError:
                continue  # nothing yet: the next byte
            except OSError:
                break
        try:
            self.reply = read_reply(self.connection, timeout=5)
            self.answered_after = time.monotonic() - self._started
        except (OSError, AssertionError):
            pass
        self.connection.close()

    def join(self) -> None:
        self._thread.join(timeout=30)


def test_ten_trickling_uploads_neither_hold_a_slot_nor_delay_an_authenticated_request(server: Server):
    # Ten: the default number of in-flight slots, all of which the tricklers used to hold for as long as they liked.
    tricklers = [Trickle(server, server.keys.portal, seconds=BODY_TIMEOUT + 5) for _ in range(10)]
    time.sleep(1.0)  # every trickler is inside the service now, waiting for its body

    started = time.monotonic()
    listed = request(server, "GET", "/v1/courses?limit=1", bearer(server.keys.portal), timeout=5)
    elapsed = time.monotonic() - started
    assert listed.status == 200
    assert elapsed < 1.0, f"an authenticated request took {elapsed:.2f} s under ten trickling uploads"
    assert all(t.reply is None for t in tricklers), "the tricklers should still be trickling"

    for trickler in tricklers:
        trickler.join()
    for trickler in tricklers:
        assert trickler.reply is not None, f"no answer after {trickler.sent} bytes\n{server.log.read_text()[-2000:]}"
        assert trickler.reply.status == 408
        assert trickler.reply.headers["content-type"] == PROBLEM
        assert json.loads(trickler.reply.body)["type"] == "urn:karmayogi:problem:request-timeout"
        assert trickler.reply.closed and trickler.reply.headers["connection"] == "close"
        assert trickler.answered_after is not None and trickler.answered_after < BODY_TIMEOUT + 2
    assert request(server, "GET", "/v1/courses?limit=1", bearer(server.keys.portal)).status == 200


def test_unauthenticated_or_unroutable_uploads_are_answered_before_their_body_is_sent(server: Server):
    # Each declares a body and sends none of it: an answer within a second means none was waited for.
    cases = [
        ("POST", "/v1/recommendations", "", 401),
        ("POST", "/v1/recommendations", bearer("kyk_000000000000_made-up"), 401),
        ("POST", "/v1/courses/bulk", "", 401),
        ("POST", "/v1/courses/bulk", bearer(server.keys.portal), 403),  # a key, but not the route's scope
        ("POST", "/v1/nope/bulk", "", 404),
        ("POST", "/v1/nope/bulk", bearer(server.keys.admin), 404),
        ("PUT", "/v1/recommendations", bearer(server.keys.admin), 405),
    ]
    for method, path, auth, status in cases:
        started = time.monotonic()
        head = f"{method} {path} HTTP/1.1\r\nContent-Type: application/x-ndjson\r\nContent-Length: {60 << 20}{auth}"
        with connect(server, head) as connection:
            reply = read_reply(connection, timeout=5)
        assert time.monotonic() - started < 1.0, (method, path)
        assert reply.status == status, (method, path, reply.body)
        assert reply.headers["content-type"] == PROBLEM
        assert reply.closed, f"{method} {path}: the connection should close rather than drain the unread body"


def test_an_authenticated_upload_is_read_and_its_connection_kept(server: Server):
    body = json.dumps({"levels": {"FUN-02-01": 1}, "k": 1}).encode()
    head = (
        "POST /v1/recommendations HTTP/1.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}{bearer(server.keys.portal)}"
    )
    with connect(server, head) as connection:
        connection.sendall(body)
        reply = read_reply(connection)
    assert reply.status != 408 and reply.status < 500, reply.body
    assert not reply.closed


def _upload(server: Server, path: str, size: int, outcome: dict[str, object]) -> None:
    """Send a `size`-byte body as fast as possible; record how much went out and the answer."""
    chunk = b"x" * (1 << 20)
    sent = 0
    head = f"POST {path} HTTP/1.1\r\nContent-Type: application/x-ndjson\r\nContent-Length: {size}"
    with connect(server, head) as connection:
        try:
            while sent < size:
                connection.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass  # the server stopped reading and closed: the answer is waiting to be read
        outcome["sent"] = sent
        try:
            outcome["status"] = read_reply(connection).status
        except (OSError, AssertionError) as error:
            outcome["status"] = repr(error)


def test_eight_concurrent_60_mib_uploads_leave_the_workers_memory_bounded(server: Server):
    if not Path(f"/proc/{server.pid}/status").exists():
        pytest.skip("reads the worker's memory from /proc")
    for _ in range(3):  # warm: whatever the first requests allocate is not the uploads' doing
        request(server, "GET", "/v1/courses?limit=1", bearer(server.keys.portal))
        request(server, "POST", "/v1/nope/bulk", "\r\nContent-Length: 0")
    before = peak = server.rss_mib()
    size = 60 << 20
    for path in ("/v1/nope/bulk", "/v1/courses/bulk"):  # an unknown route, then the real one without a key
        outcomes: list[dict[str, object]] = [{} for _ in range(8)]
        threads = [threading.Thread(target=_upload, args=(server, path, size, o), daemon=True) for o in outcomes]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while any(thread.is_alive() for thread in threads) and time.monotonic() < deadline:
            peak = max(peak, server.rss_mib())
            time.sleep(0.01)
        assert not any(thread.is_alive() for thread in threads)
        # Every client gets its answer, although the server closed on it mid-upload (see api/http_protocol.py).
        assert {o["status"] for o in outcomes} == {404 if "nope" in path else 401}, outcomes
        # The server stopped reading: far less than 8 x 60 MiB went out (the kernel's buffers take a few MiB).
        assert sum(int(str(o["sent"])) for o in outcomes) < size, outcomes
    after = server.rss_mib()
    # Before the gate: 178 MiB -> 719 MiB peak (each upload buffered whole), 235 MiB retained.
    assert peak - before < 32, f"RSS {before:.0f} MiB -> peak {peak:.0f} MiB"
    assert after - before < 16, f"RSS {before:.0f} MiB -> {after:.0f} MiB after the uploads"
    assert request(server, "GET", "/healthz").status == 200


def _series(server: Server) -> set[str]:
    text = request(server, "GET", "/metrics").body.decode()
    return {line.rpartition(" ")[0] for line in text.splitlines() if line.startswith("karmayogi_http_")}


def test_made_up_methods_and_paths_add_no_metrics_series(server: Server):
    request(server, "M0000", "/healthz")
    request(server, "GET", "/nope-0")
    _series(server)  # the scrape's own series
    before = _series(server)
    for number in range(1, 201):
        assert request(server, f"M{number:04d}", "/healthz").status == 405
    for number in range(1, 201):
        assert request(server, "GET", f"/nope-{number}").status == 404

    after = _series(server)
    assert len(after) == len(before), sorted(after - before)[:5]
    assert after == before
    text = "\n".join(after)
    assert 'method="other",route="/healthz",status="405"' in text
    assert 'method="GET",route="other",status="404"' in text
    assert "M0001" not in text and "nope" not in text


# --- in process ----------------------------------------------------------------------------------------------


@pytest.fixture
def client(small_kcm_engine: Engine, tmp_path: Path) -> Iterator[tuple[TestClient, Keys]]:
    keys = make_keys(small_kcm_engine)
    services = make_services(small_kcm_engine, tmp_path, max_body_bytes=2048, max_ingest_bytes=8192)
    with TestClient(create_app(services=services), raise_server_exceptions=False) as test_client:
        yield test_client, keys


def test_the_bulk_limit_applies_to_the_bulk_route_only(client: tuple[TestClient, Keys]):
    test_client, keys = client
    body = b'{"identifier": "do_x", "name": "' + b"x" * 4000 + b'"}\n'  # over 2048, under 8192
    ndjson = {"Content-Type": "application/x-ndjson"}

    bulk = test_client.post("/v1/courses/bulk", content=body, headers=keys.header("content") | ndjson)
    assert bulk.status_code != 413, bulk.text
    other = test_client.post("/v1/recommendations", content=body, headers=keys.header("portal") | ndjson)
    assert other.status_code == 413
    assert "2048 bytes" in other.json()["detail"]
    # Any path ending in /bulk used to get the bulk limit (and have its body buffered): now it is a plain 404.
    over = b"x" * 9000
    assert test_client.post("/v1/nope/bulk", content=over, headers=keys.header("admin")).status_code == 404


def test_the_gate_answers_like_the_routes_do(client: tuple[TestClient, Keys]):
    test_client, keys = client
    for method, path in (("GET", "/v1/courses"), ("POST", "/v1/recommendations")):
        missing = test_client.request(method, path, json={})
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        assert missing.json()["instance"] == path
        wrong = test_client.request(method, path, json={}, headers=keys.header("reviewer"))
        assert wrong.status_code == 403 and "this route needs the `recommend:read` scope" in wrong.json()["detail"]
    assert test_client.get("/v1/courses", headers={"X-API-Key": keys.portal}).status_code == 200
