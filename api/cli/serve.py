"""`karmayogi serve`: the HTTP service under uvicorn."""

from __future__ import annotations

import os
from typing import Annotated

import typer
import uvicorn

from api.cli.context import engine, reports_errors, settings
from api.http_protocol import IMPORT_PATH as HTTP_PROTOCOL
from api.log_policy import log_config


@reports_errors
def serve(
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: KARMAYOGI_HOST, else 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on (default: KARMAYOGI_PORT, else 8000).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(min=1, help="Worker processes (default: KARMAYOGI_WORKERS, else the CPU count, at most 4)."),
    ] = None,
) -> None:
    """Serve the API, the review UI and /metrics. Each worker loads the models and index once."""
    configured = settings()
    engine()  # fail here, with the usual message, when the database is not migrated
    configured.signing_secret()  # created once, before the workers start, so that all share it
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=host or configured.service.host,
        port=port or configured.service.port,
        workers=workers or configured.service.workers or min(4, os.cpu_count() or 1),
        http=HTTP_PROTOCOL,  # TCP_NODELAY on every connection: see api/http_protocol.py
        proxy_headers=True,
        server_header=False,
        # uvicorn kills a worker that misses a 5 s health ping; loading the models and catalog (and applying a large
        # ingest) keeps the GIL busy long enough to miss it, and the worker was restarted in a loop.
        timeout_worker_healthcheck=60,
        log_level="info",
        log_config=log_config(),  # control characters in logged requests are escaped: see api/log_policy.py
    )
