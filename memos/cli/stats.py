"""``memos stats``: per cube, items by kind and state, bytes per tier, adapters and jobs."""

from __future__ import annotations

from typing import Annotated

import typer

from memos.cli.backend import resolve_cube
from memos.cli.context import backend
from memos.cli.options import Json
from memos.cli.output import emit, print_table

STATS_COLUMNS = [("name", "cube"), ("owner", "owner"), ("items", "items"),
                 ("by_state", "by state"), ("indexed", "indexed"), ("links", "links"),
                 ("jobs", "jobs")]


def stats(
    ctx: typer.Context,
    cube: Annotated[list[str] | None, typer.Option(
        "--cube", "-c", help="Cube id or name (repeatable; default: all).")] = None,
    json: Json = False,
) -> None:
    """Show per-cube statistics: items by kind and state, index sizes.

    Example: memos stats -c notes --json
    """
    target = backend(ctx)
    ids = [resolve_cube(target, ref)["id"] for ref in cube] if cube else \
        [info["id"] for info in target.list_cubes()]
    rows = [target.cube_stats(cube_id) for cube_id in ids]
    emit(rows, json, lambda data: print_table([_summary(row) for row in data], STATS_COLUMNS,
                                              empty="(no cubes)"))


def _summary(row: dict) -> dict:
    by_state = row.get("items_by_state", {})
    return {**row, "items": sum(by_state.values()), "by_state": _counts(by_state),
            "jobs": _counts(row["jobs_by_state"]) if "jobs_by_state" in row else "n/a"}


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {count}" for name, count in sorted(counts.items()))
