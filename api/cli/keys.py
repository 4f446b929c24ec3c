"""`karmayogi keys`: create, list and revoke API keys. A key is printed once, when it is created."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from api.auth import SCOPE_HELP, create_key, list_keys, revoke_key
from api.cli.context import console, engine, errors, print_json, reports_errors
from api.cli.tables import add_identifier, add_name, table
from models import session_scope

keys_app = typer.Typer(help="API keys for the HTTP service.", no_args_is_help=True)

SCOPES_HELP = "; ".join(f"{scope}: {meaning}" for scope, meaning in SCOPE_HELP.items())


@keys_app.command("create")
@reports_errors
def keys_create(
    name: Annotated[str, typer.Argument(help="Who holds the key, e.g. 'portal' or 'hindi review team'.")],
    scope: Annotated[list[str], typer.Option("--scope", "-s", help=f"Repeat for several. {SCOPES_HELP}.")],
    languages: Annotated[
        str,
        typer.Option(
            "--languages",
            help="Limit it to reviewing these languages, comma-separated (e.g. hi,mr); all if empty.",
        ),
    ] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Create a key and print it. It is stored hashed and cannot be shown again."""
    codes = [code.strip() for code in languages.split(",") if code.strip()]
    with session_scope(engine()) as session:
        info, key = create_key(session, name, scope, codes)
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
    shown = table("API keys")
    add_identifier(shown, "id", [key.id for key in keys])
    add_name(shown, "name", min_width=8)
    add_identifier(shown, "scopes", [scope for key in keys for scope in key.scopes])
    add_identifier(shown, "created", ["2026-01-01 00:00"])
    add_identifier(shown, "revoked", ["2026-01-01 00:00"] if any(key.revoked_at for key in keys) else [])
    for key in keys:
        revoked = f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else ""
        # One scope a line: a scope is an identifier, copied into --scope as it is.
        shown.add_row(key.id, escape(key.name), "\n".join(key.scopes), f"{key.created_at:%Y-%m-%d %H:%M}", revoked)
    console.print(shown)
    if not keys:
        console.print("no keys yet: `karmayogi keys create NAME --scope SCOPE`")


@keys_app.command("revoke")
@reports_errors
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="Key id (see `keys list`) or the key.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Revoke a key: requests with it are refused (401) from now on."""
    with session_scope(engine()) as session:
        info = revoke_key(session, key_id)
    if as_json:
        print_json(info.model_dump(mode="json"))
        return
    console.print(f"revoked key {info.id} ({info.name})")
