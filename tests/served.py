"""`karmayogi serve` in a subprocess on 127.0.0.1, for tests that need the real server (its workers, its sockets,
its timeouts) rather than an app called in-process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Served:
    base: str
    pid: int
    log: Path


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def clean_environment(settings: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any KARMAYOGI_* or database setting of its own, plus `settings`."""
    kept = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("KARMAYOGI_") and name not in ("DATABASE_URL", "PROMETHEUS_MULTIPROC_DIR")
    }
    return kept | dict(settings)


@contextmanager
def serve(settings: Mapping[str, str], *, log: Path, workers: int = 1, ready_seconds: float = 120) -> Iterator[Served]:
    """Start the server with `settings` (KARMAYOGI_HOME and the rest), wait until `/healthz` answers, stop it after."""
    port = free_port()
    command = [sys.executable, "-c", "from api.cli import app; app()", "serve", "--port", str(port)]
    command += ["--workers", str(workers)]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, env=clean_environment(settings), stdout=output, stderr=subprocess.STDOUT
        )
    served = Served(base=f"http://127.0.0.1:{port}", pid=process.pid, log=log)
    try:
        deadline = time.monotonic() + ready_seconds
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(f"{served.base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError(f"the server did not start:\n{log.read_text()}")
        yield served
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
