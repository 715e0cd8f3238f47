"""``memos users`` and ``memos keys``: accounts and their API keys."""

from __future__ import annotations

from typing import Annotated

import typer

from memos.cli.context import facade
from memos.cli.lookup import as_dict
from memos.cli.options import Json, Yes, confirm
from memos.cli.output import emit, print_table, say

users_app = typer.Typer(name="users", help="List and create users.", no_args_is_help=True,
                        epilog="Example: memos users create alice")
keys_app = typer.Typer(name="keys", help="Create, list and revoke API keys.",
                       no_args_is_help=True, epilog="Example: memos keys create alice")

UserId = Annotated[str, typer.Argument(help="User id.", show_default=False)]
USER_COLUMNS = [("id", "id"), ("is_admin", "admin"), ("created_at", "created")]
KEY_COLUMNS = [("id", "id"), ("user_id", "user"), ("prefix", "prefix"), ("name", "name"),
               ("created_at", "created"), ("last_used_at", "last used")]


@users_app.command("list", epilog="Example: memos users list")
def list_users(ctx: typer.Context, json: Json = False) -> None:
    """List every user."""
    emit(as_dict(facade(ctx).list_users()), json, lambda rows: print_table(rows, USER_COLUMNS))


@users_app.command(epilog="Example: memos users create alice")
def create(
    ctx: typer.Context,
    user_id: UserId,
    admin: Annotated[bool, typer.Option("--admin", help="Make the user an administrator.")
                     ] = False,
    json: Json = False,
) -> None:
    """Create a user (give them a key with `memos keys create`)."""
    user = as_dict(facade(ctx, creates_home=True).create_user(user_id, admin))
    emit(user, json, lambda record: say(f"Created user {record['id']}"
                                        f"{' (admin)' if record['is_admin'] else ''}."))


@keys_app.command("list", epilog="Example: memos keys list --user alice")
def list_keys(
    ctx: typer.Context,
    user: Annotated[str | None, typer.Option(help="Only this user's keys.")] = None,
    json: Json = False,
) -> None:
    """List API keys (their prefixes; secrets are never stored)."""
    emit(as_dict(facade(ctx).list_keys(user)), json, lambda rows: print_table(rows, KEY_COLUMNS))


@keys_app.command("create", epilog="Example: memos keys create alice --name laptop")
def create_key(
    ctx: typer.Context,
    user_id: UserId,
    name: Annotated[str, typer.Option(help="A label to recognise the key by.")] = "",
    json: Json = False,
) -> None:
    """Create an API key for a user; the secret is printed once, keep it."""
    key = as_dict(facade(ctx).create_key(user_id, name))
    emit(key, json, lambda record: say(f"Key {record['id']} for {record['user_id']} "
                                       f"(shown only now):\n{record['key']}"))


@keys_app.command(epilog="Example: memos keys revoke 9b1c... --yes")
def revoke(
    ctx: typer.Context,
    key_id: Annotated[str, typer.Argument(help="Key id (see `memos keys list`).",
                                          show_default=False)],
    yes: Yes = False,
    json: Json = False,
) -> None:
    """Revoke an API key; requests using it fail from now on."""
    confirm(f"revoke API key {key_id}", yes)
    facade(ctx).revoke_key(key_id)
    emit({"revoked": key_id}, json, lambda _: say(f"Revoked key {key_id}."))
