"""``memos kv``: the KV chunk cache (activation memory): entries, stats, warm, evict and pin.

Against a server these act on the server's running cache. On a home folder the cache is this
process's: device and host tiers start empty and the disk tier holds what earlier runs
stored; hit and miss counters count this run only, and pins would die with the command.
"""

from __future__ import annotations

from typing import Annotated

import typer

from memcube.lifecycle import SEARCHABLE
from memos.cli.context import connection, facade
from memos.cli.errors import CliError
from memos.cli.lookup import as_dict, cube_names, resolve_cube
from memos.cli.options import CubeRef, Json
from memos.cli.output import emit, human_bytes, print_table, progress, say

app = typer.Typer(name="kv", help="Inspect, warm, evict and pin the KV chunk cache (on a home "
                  "folder, loads the model).",
                  no_args_is_help=True, epilog="Example: memos kv stats")

KEY_SHOWN = 16  # key prefix shown in tables; commands accept any unique prefix
# Pins show only in --json: one more column would cut the keys on a 100-column terminal.
ENTRY_COLUMNS = [("key", "key"), ("cube", "cube"), ("item_id", "item id"),
                 ("tokens", "tokens"), ("size", "size"), ("tier", "tier"),
                 ("hits", "hits")]
TIER_COLUMNS = [("tier", "tier"), ("entries", "entries"), ("size", "size"),
                ("budget", "budget"), ("hits", "hits"), ("evictions", "evictions")]


@app.command("list", epilog="Example: memos kv list -c notes")
def list_entries(
    ctx: typer.Context,
    cube: Annotated[str | None, typer.Option("--cube", "-c", help="Only this cube's notes.")
                    ] = None,
    json: Json = False,
) -> None:
    """List cached chunks, most recently used first."""
    target = facade(ctx)
    cube_id = resolve_cube(target, cube)["id"] if cube else None
    entries = as_dict(target.kv_entries(cube_id))
    emit(entries, json, lambda rows: print_table(
        [_entry_row(row, cube_names(target)) for row in rows], ENTRY_COLUMNS,
        empty="(the KV cache is empty)"))


@app.command(epilog="Example: memos kv stats --json")
def stats(ctx: typer.Context, json: Json = False) -> None:
    """Show entries, bytes, budgets, hits and evictions per tier."""
    emit(as_dict(facade(ctx).kv_stats()), json, _print_stats)


@app.command(epilog="Example: memos kv warm notes")
def warm(
    ctx: typer.Context,
    cube: CubeRef,
    item_ids: Annotated[list[str] | None, typer.Argument(
        help="Memory ids (default: every searchable memory of the cube).", show_default=False)
    ] = None,
    json: Json = False,
) -> None:
    """Precompute the KV cache of memories so chats reuse it instead of prefilling."""
    target = facade(ctx)
    cube_id = resolve_cube(target, cube)["id"]
    ids = item_ids or [item.id for item in
                       target.get_cube(cube_id).list(SEARCHABLE, [], 1000, 0)[0]]
    warmed = 0
    with progress("Warming KV", total=len(ids), enabled=not json) as advance:
        for item_id in ids:
            warmed += target.warm(cube_id, [item_id])
            advance(1)
    emit({"warmed": warmed}, json, lambda _: say(f"Warmed {warmed} chunk(s)."))


@app.command(epilog="Example: memos kv evict 999540ab38082d53")
def evict(
    ctx: typer.Context,
    keys: Annotated[list[str], typer.Argument(
        help="Chunk keys or unique key prefixes (see `memos kv list`).", show_default=False)],
    json: Json = False,
) -> None:
    """Drop cached chunks from every tier (they are recomputed when next needed)."""
    target = facade(ctx)
    known = [entry["key"] for entry in target.kv_entries(None)]
    full = [_full_key(prefix, known) for prefix in keys]
    for key in full:
        target.kv_evict(key)
    emit({"evicted": full}, json, lambda _: say(f"Evicted {len(full)} chunk(s)."))


@app.command(epilog="Example: memos --url http://127.0.0.1:8765 kv pin 999540ab38082d53")
def pin(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(
        help="Chunk key or unique key prefix (see `memos kv list`).", show_default=False)],
    off: Annotated[bool, typer.Option("--off", help="Release the pin instead.")] = False,
    json: Json = False,
) -> None:
    """Keep a cached chunk out of eviction, or release it with --off (server mode only)."""
    if connection(ctx).mode == "home":  # refused before the model loads: a pin outlives no command
        raise CliError("kv pin needs a running server (--url and MEMOS_API_KEY): pins live in the "
                       "server's cache, and a home folder's cache ends with the command")
    target = facade(ctx)
    full = _full_key(key, [entry["key"] for entry in target.kv_entries(None)])
    target.kv_pin(full, not off)
    emit({"key": full, "pinned": not off}, json, lambda _: say(
        f"{'Released' if off else 'Pinned'} chunk {full[:KEY_SHOWN]}."))


def _full_key(prefix: str, known: list[str]) -> str:
    matches = [key for key in known if key.startswith(prefix)]
    if len(matches) != 1:
        raise CliError(f"no cached chunk {prefix!r}" if not matches else
                       f"{len(matches)} cached chunks start with {prefix!r}; give more of the key")
    return matches[0]


def _entry_row(entry: dict, names: dict[str, str]) -> dict:
    return {**entry, "key": entry["key"][:KEY_SHOWN],
            "cube": names.get(entry.get("cube_id"), entry.get("cube_id")),
            "size": human_bytes(entry.get("nbytes"))}


def _print_stats(data: dict) -> None:
    rows = [{"tier": name, **tier, "size": human_bytes(tier["bytes"]),
             "budget": human_bytes(tier.get("budget_bytes"))}
            for name, tier in data["tiers"].items()]
    print_table(rows, TIER_COLUMNS)
    if data.get("scope") == "cubes":  # a plain user sees only the chunks of their cubes
        say(f"entries {data['entries']}, hits {data['hits']} "
            f"(the chunks of your {len(data['cube_ids'])} cube(s))")
        return
    say(f"entries {data['entries']}, hits {data['hits']}, misses {data['misses']}, "
        f"policy {data['policy']}, quantization {data['quantization']}")
