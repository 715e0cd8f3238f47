"""``memos cubes``: list, show, create, delete, share, export and import cubes."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from memcube.archive import manifest_of
from memos.cli.context import connection, facade
from memos.cli.errors import CliError
from memos.cli.lookup import as_dict, resolve_cube
from memos.cli.options import CubeRef, Json, Yes, confirm
from memos.cli.output import emit, print_record, print_table, progress, say
from memos.cli.stats import cube_stats

app = typer.Typer(name="cubes", help="Create, inspect, share, export and delete cubes.",
                  no_args_is_help=True, epilog="Example: memos cubes create notes")

CUBE_COLUMNS = [("id", "id"), ("name", "name"), ("owner", "owner"),
                ("description", "description"), ("created_at", "created")]
CUBE_FIELDS = [("id", "id"), ("name", "name"), ("owner", "owner"),
               ("description", "description"), ("shares", "shared with"),
               ("settings", "settings"), ("created_at", "created"), ("updated_at", "updated"),
               ("items_by_state", "items by state"), ("indexed", "indexed"),
               ("links", "links")]


@app.command("list", epilog="Example: memos cubes list --json")
def list_cubes(ctx: typer.Context, json: Json = False) -> None:
    """List the cubes you can read."""
    emit(as_dict(facade(ctx).list_cubes()), json, lambda rows: print_table(rows, CUBE_COLUMNS))


@app.command(epilog="Example: memos cubes show notes")
def show(ctx: typer.Context, cube: CubeRef, json: Json = False) -> None:
    """Show one cube: its fields, shares and item counts."""
    target = facade(ctx)
    info = cube_stats(target, resolve_cube(target, cube)["id"], connection(ctx).mode)
    emit(info, json, lambda record: print_record(record, CUBE_FIELDS))


@app.command(epilog="Example: memos cubes create notes --owner alice -d 'Alice notes'")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the new cube.", show_default=False)],
    owner: Annotated[str | None, typer.Option(
        help="Owning user (home mode: default 'local'; server mode: you).")] = None,
    description: Annotated[str, typer.Option("--description", "-d", help="What it holds.")] = "",
    json: Json = False,
) -> None:
    """Create an empty cube."""
    owned = _owner(ctx, owner, "create a cube")
    info = as_dict(facade(ctx, creates_home=True).create_cube(name, description, **owned).info)
    emit(info, json, lambda record: say(f"Created cube {record['name']} ({record['id']})."))


@app.command(epilog="Example: memos cubes delete notes --yes")
def delete(ctx: typer.Context, cube: CubeRef, yes: Yes = False, json: Json = False) -> None:
    """Delete a cube and every memory, adapter and KV entry in it."""
    target = facade(ctx)
    info = resolve_cube(target, cube)
    confirm(f"delete cube {info['name']} ({info['id']}) and everything in it", yes)
    target.delete_cube(info["id"])
    emit({"deleted": info["id"]}, json, lambda _: say(f"Deleted cube {info['name']}."))


@app.command(epilog="Example: memos cubes share notes bob --access read")
def share(
    ctx: typer.Context,
    cube: CubeRef,
    user: Annotated[str, typer.Argument(help="User to share with.", show_default=False)],
    access: Annotated[str, typer.Option(
        help="read, write, or none to take access away.")] = "read",
    json: Json = False,
) -> None:
    """Give a user read or write access to a cube (or take it away with --access none)."""
    target = facade(ctx)
    cube_id = resolve_cube(target, cube)["id"]
    info = as_dict(target.share_cube(cube_id, user, None if access == "none" else access))
    emit(info, json, lambda record: say(f"Shares of {record['name']}: "
                                       f"{_shares(record['shares'])}."))


@app.command(name="export", epilog="Example: memos cubes export notes notes.memcube")
def export_cube(
    ctx: typer.Context,
    cube: CubeRef,
    path: Annotated[Path, typer.Argument(help="Archive to write (.memcube).",
                                         show_default=False)],
    json: Json = False,
) -> None:
    """Write a cube (items, history, links, adapters, KV index) to a portable archive."""
    target = facade(ctx)
    info = resolve_cube(target, cube)
    with progress(f"Exporting {info['name']}", enabled=not json):
        target.export_cube(info["id"], path)
    manifest = manifest_of(path)
    result = {"path": str(path), **manifest}
    emit(result, json, lambda _: say(f"Exported {info['name']} to {path}: "
                                     f"{_counts(manifest.get('counts', {}))}."))


@app.command(name="import", epilog="Example: memos cubes import notes.memcube --owner bob")
def import_cube(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Archive made by `memos cubes export`.",
                                         exists=True, dir_okay=False, show_default=False)],
    owner: Annotated[str | None, typer.Option(help="Give the cube to this user.")] = None,
    name: Annotated[str | None, typer.Option(
        help="Name of the new cube (default: the archived cube's name).")] = None,
    json: Json = False,
) -> None:
    """Recreate an archived cube as a new cube with fresh ids."""
    owned = _owner(ctx, owner, "import a cube")
    with progress(f"Importing {path.name}", enabled=not json):
        info = as_dict(facade(ctx, creates_home=True).import_cube(path, name, **owned).info)
    emit(info, json, lambda record: say(f"Imported cube {record['name']} ({record['id']}), "
                                        f"owner {record['owner']}."))


def _owner(ctx: typer.Context, owner: str | None, action: str) -> dict:
    """``owner=`` for the facade; only a home folder's administrator gives cubes away."""
    if owner and connection(ctx).mode == "server":
        raise CliError(f"--owner works only on a home folder; on a server you {action} as the "
                       "API key's user (log in with that user's key)")
    return {"owner": owner} if owner else {}


def _shares(shares: dict) -> str:
    return ", ".join(f"{user} ({access})" for user, access in shares.items()) or "none"


def _counts(counts: dict) -> str:
    return ", ".join(f"{count} {name}" for name, count in counts.items())
