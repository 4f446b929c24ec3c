"""The protocol `karmayogi serve` runs under uvicorn: Nagle's algorithm off on connections accepted from a
listening socket bound the way uvicorn's multi-worker supervisor binds it (proto 0)."""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

from api.http_protocol import NoDelayH11Protocol


async def _accepted_nodelay(protocol_class: type[H11Protocol]) -> int:
    """TCP_NODELAY of the server side of one connection accepted through `protocol_class`."""

    async def app(scope, receive, send):  # never called: no request is sent
        raise AssertionError("no request expected")

    config = uvicorn.Config(app, http=protocol_class, lifespan="off", log_level="warning")
    config.load()
    state = ServerState()
    accepted: asyncio.Future[H11Protocol] = asyncio.get_running_loop().create_future()

    def factory() -> H11Protocol:
        protocol = protocol_class(config=config, server_state=state, app_state={})
        accepted.set_result(protocol)
        return protocol

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, 0)  # proto 0, as uvicorn's bind_socket()
    listener.bind(("127.0.0.1", 0))
    server = await asyncio.get_running_loop().create_server(factory, sock=listener)
    try:
        _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        protocol = await asyncio.wait_for(accepted, 10)
        value = protocol.transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        writer.close()
        protocol.transport.close()
        return value
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize(("protocol_class", "nodelay"), [(H11Protocol, False), (NoDelayH11Protocol, True)])
def test_connections_get_tcp_nodelay_even_from_a_socket_bound_like_uvicorns_workers(protocol_class, nodelay):
    # The plain protocol shows the problem this one exists for: Nagle left on, ~40 ms per keep-alive request.
    assert bool(asyncio.run(_accepted_nodelay(protocol_class))) is nodelay
