"""Options shared by many commands, and the confirmation that guards destructive ones."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from memos.cli.errors import CliError

Json = Annotated[bool, typer.Option("--json", help="Print JSON for scripts instead of a table.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
CubeRef = Annotated[str, typer.Argument(help="Cube id or name.", show_default=False)]
ItemId = Annotated[str, typer.Argument(help="Memory id.", show_default=False)]


def confirm(action: str, yes: bool) -> None:
    """Ask before ``action``; without a terminal, refuse unless ``--yes`` was given."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise CliError(f"refusing to {action} without --yes (stdin is not interactive)")
    if not typer.confirm(f"Really {action}?", default=False):
        raise CliError("cancelled, nothing was changed")


def parse_pairs(pairs: list[str] | None, what: str = "--meta") -> dict:
    """``key=value`` strings as a dict (values that look like JSON numbers/bools are parsed)."""
    result = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"expected key=value, got {pair!r}", param_hint=what)
        result[key] = _scalar(value)
    return result


def _scalar(value: str):
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    for kind in (int, float):
        try:
            return kind(value)
        except ValueError:
            pass
    return value
