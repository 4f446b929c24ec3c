"""How the service holds up under concurrent load: Nagle's algorithm off on connections accepted from a
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


def _starved_requests(tmp_path, max_in_flight: int) -> list[int]:
    """Eight concurrent API calls into an app whose database pool has one connection and whose thread pool has
    two threads: the proportions of the 64-client load test (15 connections, 40 threads) scaled down."""
    import anyio.to_thread
    import httpx
    from sqlalchemy import create_engine

    from api.app import create_app
    from models import upgrade
    from tests.api_helpers import make_keys, make_services

    url = f"sqlite:///{tmp_path / 'starved.db'}"
    upgrade(create_engine(url))
    engine = create_engine(url, pool_size=1, max_overflow=0, pool_timeout=2)
    keys = make_keys(engine)
    app = create_app(services=make_services(engine, tmp_path, max_in_flight=max_in_flight))

    async def calls() -> list[int]:
        anyio.to_thread.current_default_thread_limiter().total_tokens = 2
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)  # an error, as a client sees it
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=keys.header("portal")) as c:
            responses = await asyncio.gather(*(c.get("/v1/competencies") for _ in range(8)))
        return [response.status_code for response in responses]

    try:
        return asyncio.run(calls())
    finally:
        engine.dispose()


def test_requests_beyond_the_database_pool_wait_their_turn_instead_of_starving_the_thread_pool(tmp_path):
    assert _starved_requests(tmp_path, max_in_flight=1) == [200] * 8


def test_without_the_in_flight_limit_the_same_requests_time_out_on_the_pool(tmp_path):
    # What the limit prevents: threads waiting for the one connection hold the threads its holder needs. The
    # pool's timeout is then answered as the database being unavailable (a 503 to retry), not as a 500.
    statuses = _starved_requests(tmp_path, max_in_flight=100)
    assert 503 in statuses and 500 not in statuses
