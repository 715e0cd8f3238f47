"""How the CLI shows results: rich tables for people, JSON for scripts, progress on stderr."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

Column = tuple[str, str]  # (key in the record, header shown)
PIPED_WIDTH = 160  # when stdout is not a terminal, rows are not squeezed into 80 columns
ID_WIDTH = 32  # ids are never squeezed, however narrow the terminal
WRAPPING = {"text", "description", "changes", "context", "metadata", "error", "by_state"}


def print_json(data: Any) -> None:
    """Write ``data`` as indented JSON on stdout (plain text, no colour codes)."""
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def print_table(rows: Sequence[dict], columns: Sequence[Column], title: str | None = None,
                empty: str = "(none)") -> None:
    """One row per record, showing ``columns``; only free text wraps, so ids stay copyable."""
    if not rows:
        typer.echo(empty)
        return
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False)
    for key, header in columns:
        table.add_column(header, no_wrap=key not in WRAPPING, overflow="fold",
                         min_width=ID_WIDTH if is_id(key) else None)
    for row in rows:
        table.add_row(*(cell(row.get(key)) for key, _ in columns))
    console().print(table)


def is_id(key: str) -> bool:
    """Whether a column holds an id that a person copies into the next command."""
    return key == "id" or key.endswith("_id")


def print_record(record: dict, fields: Sequence[Column] | None = None) -> None:
    """One record as a two-column field/value table."""
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for key, label in fields or [(key, key) for key in record]:
        table.add_row(label, cell(record.get(key)))
    console().print(table)


def console() -> Console:
    """A console on stdout; as wide as the terminal, or PIPED_WIDTH when piped."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(width=PIPED_WIDTH if piped else None)


def emit(data: Any, as_json: bool, render: Callable[[Any], None]) -> None:
    """JSON when asked for, otherwise ``render(data)`` for a person to read."""
    if as_json:
        print_json(data)
    else:
        render(data)


def say(message: str) -> None:
    """A short confirmation line for a person (left out in --json mode by callers)."""
    typer.echo(message)


def cell(value: Any) -> str:
    """A value as a table cell: lists joined, dicts as compact JSON, times to the second."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str, ensure_ascii=False) if value else ""
    text = str(value)
    return short_time(text) if _looks_like_time(text) else text


def short_time(iso: str) -> str:
    """``2025-05-01T12:34:56.789+00:00`` as ``2025-05-01 12:34`` (UTC, as stored)."""
    return iso[:16].replace("T", " ")


def human_bytes(size: int | float | None) -> str:
    """A byte count for people: 1.5 MiB."""
    if size is None:
        return ""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{int(value)} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"


@contextmanager
def progress(description: str, total: float | None = None,
             enabled: bool = True) -> Iterator[Callable[[float], None]]:
    """A progress bar on stderr (a spinner when ``total`` is unknown); yields ``advance(n)``."""
    if not enabled:
        yield lambda _amount=1: None
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f}")]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total)
        yield lambda amount=1: bar.advance(task, amount)


def _looks_like_time(text: str) -> bool:
    return len(text) >= 19 and text[4] == "-" and text[7] == "-" and text[10] == "T"
