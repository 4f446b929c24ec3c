"""`karmayogi keys`: create, list and revoke API keys. A key is printed once, when it is created."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from api.auth import SCOPE_HELP, create_key, list_keys, revoke_key
from api.cli.context import console, engine, errors, print_json, reports_errors
from models import session_scope

keys_app = typer.Typer(help="API keys for the HTTP service.", no_args_is_help=True)

SCOPES_HELP = "; ".join(f"{scope}: {meaning}" for scope, meaning in SCOPE_HELP.items())


@keys_app.command("create")
@reports_errors
def keys_create(
    name: Annotated[str, typer.Argument(help="Who holds the key, e.g. 'portal' or 'hindi review team'.")],
    scope: Annotated[list[str], typer.Option("--scope", "-s", help=f"Repeat for several. {SCOPES_HELP}.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Create a key and print it. It is stored hashed and cannot be shown again."""
    with session_scope(engine()) as session:
        info, key = create_key(session, name, scope)
    if as_json:
        print_json(info.model_dump(mode="json") | {"key": key})
        return
    errors.print(f"created key {info.id} for {info.name!r} with {', '.join(info.scopes)}; it is shown only now:")
    console.print(key, highlight=False, soft_wrap=True)


@keys_app.command("list")
@reports_errors
def keys_list(
    include_revoked: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """The keys: id, holder, scopes, when created and revoked (never the keys themselves)."""
    with session_scope(engine()) as session:
        keys = list_keys(session, include_revoked=include_revoked)
    if as_json:
        print_json([key.model_dump(mode="json") for key in keys])
        return
    table = Table(title="API keys")
    for column in ("id", "name", "scopes", "created", "revoked"):
        table.add_column(column)
    for key in keys:
        revoked = f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else ""
        table.add_row(key.id, key.name, ", ".join(key.scopes), f"{key.created_at:%Y-%m-%d %H:%M}", revoked)
    console.print(table)


@keys_app.command("revoke")
@reports_errors
def keys_revoke(key_id: Annotated[str, typer.Argument(help="Key id (see `keys list`) or the key.")]) -> None:
    """Revoke a key: requests with it are refused (401) from now on."""
    with session_scope(engine()) as session:
        info = revoke_key(session, key_id)
    console.print(f"revoked key {info.id} ({info.name})")
