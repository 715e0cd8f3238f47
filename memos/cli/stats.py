"""``memos stats``: per cube, items by state, index sizes and jobs; on a server, also KV bytes
per tier and adapters (on a home folder those would need the chat model loaded)."""

from __future__ import annotations

from typing import Annotated

import typer

from memos.cli.context import connection, facade
from memos.cli.lookup import as_dict, count_by, resolve_cube
from memos.cli.options import Json
from memos.cli.output import emit, human_bytes, print_table

JOBS_COUNTED = 1000  # jobs read per cube
STATS_COLUMNS = [("name", "cube"), ("owner", "owner"), ("items", "items"),
                 ("by_state", "by state"), ("indexed", "indexed"), ("links", "links"),
                 ("jobs", "jobs"), ("kv", "kv cache"), ("adapters", "adapters")]


def stats(
    ctx: typer.Context,
    cube: Annotated[list[str] | None, typer.Option(
        "--cube", "-c", help="Cube id or name (repeatable; default: all).")] = None,
    json: Json = False,
) -> None:
    """Show per-cube statistics: items by state, index sizes, jobs (and on a server, KV
    bytes per tier and adapters).

    Example: memos stats -c notes --json
    """
    target, mode = facade(ctx), connection(ctx).mode
    ids = [resolve_cube(target, ref)["id"] for ref in cube] if cube else \
        [info.id for info in target.list_cubes()]
    rows = [cube_stats(target, cube_id, mode) for cube_id in ids]
    emit(rows, json, lambda data: print_table([_summary(row) for row in data], STATS_COLUMNS,
                                              empty="(no cubes)"))


def cube_stats(target, cube_id: str, mode: str) -> dict:
    """A cube's fields and counts with its jobs by state; on a server also KV bytes by tier
    and adapters (on a home folder those would load the chat model)."""
    cube = target.get_cube(cube_id)
    jobs, _ = target.list_jobs(cube_id=cube_id, limit=JOBS_COUNTED)
    row = {**as_dict(cube.info), **as_dict(cube.stats()),
           "jobs_by_state": count_by(as_dict(jobs), "state")}
    if mode == "server":
        row["kv_bytes_by_tier"] = _bytes_by_tier(target.kv_entries(cube_id))
        row["adapters"] = len(target.list_adapters(cube_id))
    return row


def _bytes_by_tier(entries: list[dict]) -> dict[str, int]:
    totals: dict[str, int] = {}
    for entry in entries:
        totals[entry["tier"]] = totals.get(entry["tier"], 0) + entry["nbytes"]
    return totals


def _summary(row: dict) -> dict:
    by_state = row.get("items_by_state", {})
    return {**row, "items": sum(by_state.values()), "by_state": _counts(by_state),
            "jobs": _counts(row["jobs_by_state"]) if "jobs_by_state" in row else "n/a",
            "kv": _tier_bytes(row["kv_bytes_by_tier"]) if "kv_bytes_by_tier" in row else "n/a",
            "adapters": row.get("adapters", "n/a")}


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))


def _tier_bytes(by_tier: dict[str, int]) -> str:
    return ", ".join(f"{tier} {human_bytes(size)}" for tier, size in sorted(by_tier.items()))
