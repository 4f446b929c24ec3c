"""Every response names the worker process that answered (`X-Karmayogi-Worker`): several workers share one port,
and an operator (or a test) checking that a change reached all of them needs to tell their answers apart."""

from __future__ import annotations

import os

from starlette.types import ASGIApp, Message, Receive, Scope, Send

HEADER = b"x-karmayogi-worker"


class WorkerHeader:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        worker = str(os.getpid()).encode()

        async def named(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (HEADER, worker)]
            await send(message)

        await self.app(scope, receive, named)
