"""The root ``memos`` command: connection options, error translation, the noun groups."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import click
import typer
from typer.core import TyperGroup

from memos import __version__
from memos.cli import adapters, cubes, jobs, kv, limits, memories, serve, stats, users
from memos.cli.context import Connection
from memos.cli.errors import describe

HELP = """Administer memos: cubes, memories, KV cache, adapters, jobs and users.

Works on a home folder directly (--home / MEMOS_HOME) or against a running server
(--url and --api-key, or MEMOS_URL / MEMOS_API_KEY).
"""
EPILOG = "Example: memos --home ./memos-home cubes list"


class MemosGroup(TyperGroup):
    """The root group; turns expected errors into ``Error: ...`` and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except Exception as error:
            message = describe(error)
            if message is None:
                raise
            click.echo(f"Error: {message}", err=True)
            raise typer.Exit(1) from None


app = typer.Typer(cls=MemosGroup, help=HELP, epilog=EPILOG, no_args_is_help=True,
                  add_completion=False,
                  context_settings={"help_option_names": ["-h", "--help"]},
                  pretty_exceptions_enable=False, rich_markup_mode=None)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"memos {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    home: Annotated[Path | None, typer.Option(
        envvar="MEMOS_HOME", help="Home folder to work on directly (no server).")] = None,
    url: Annotated[str | None, typer.Option(
        envvar="MEMOS_URL", help="URL of a running memos server, e.g. http://127.0.0.1:8765.")
    ] = None,
    api_key: Annotated[str | None, typer.Option(
        envvar="MEMOS_API_KEY", help="API key for the server.")] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Connection options shared by every command."""
    ctx.obj = Connection(url=url, api_key=api_key, home=home)
    ctx.call_on_close(ctx.obj.close)


for group in (users.users_app, users.keys_app, cubes.app, memories.app, kv.app, adapters.app,
              jobs.app):
    app.add_typer(group)
app.command("serve")(serve.serve)
app.command("stats")(stats.stats)
app.command("limits")(limits.limits)


def main() -> None:
    """Entry point of the ``memos`` console script."""
    app()
