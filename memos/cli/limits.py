"""``memos limits``: the limits the service enforces (queues, jobs, quotas, request sizes)."""

from __future__ import annotations

import typer

from memos.cli.context import facade
from memos.cli.options import Json
from memos.cli.output import emit, print_table

COLUMNS = [("area", "area"), ("limit", "limit"), ("value", "value")]


def limits(ctx: typer.Context, json: Json = False) -> None:
    """Show every limit: model queues, jobs, storage quotas (on a server also request sizes
    and your current use).

    Example: memos limits --json
    """
    data = facade(ctx).limits()
    emit(data, json, _render)


def _render(data: dict) -> None:
    rows = [{"area": area, "limit": name, "value": value}
            for area, values in data.items() for name, value in values.items()]
    print_table(rows, COLUMNS)
