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
from memos.cli.errors import CliError, describe
from memos.cli.mcp import mcp as mcp_command

HELP = """Administer memos: cubes, memories, KV cache, adapters, jobs and users.

Works on a home folder directly (--home / MEMOS_HOME) or against a running server
(--url / MEMOS_URL, with the API key in MEMOS_API_KEY or a file given by --api-key-file).
Options given on the command line win over the environment.
"""
KEY_ON_COMMAND_LINE = ("--api-key is not accepted: a key on the command line shows in the "
                       "process list; set MEMOS_API_KEY or use --api-key-file PATH")
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
    api_key_file: Annotated[Path | None, typer.Option(
        "--api-key-file", help="File holding the API key for the server (else MEMOS_API_KEY).",
        show_default=False)] = None,
    api_key: Annotated[str | None, typer.Option(envvar="MEMOS_API_KEY", hidden=True)] = None,
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print the version.")] = False,
) -> None:
    """Connection options shared by every command."""
    if api_key and _from_command_line(ctx, "api_key"):
        raise CliError(KEY_ON_COMMAND_LINE)
    home, url = _explicit_wins(ctx, home, url)
    key = read_key_file(api_key_file) if api_key_file else api_key
    ctx.obj = Connection(url=url, api_key=key, home=home)
    ctx.call_on_close(ctx.obj.close)


def _from_command_line(ctx: typer.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)  # typer may hand back its own click's enum
    return getattr(source, "name", None) == "COMMANDLINE"


def _explicit_wins(ctx: typer.Context, home: Path | None, url: str | None):
    """``--home`` on the command line beats MEMOS_URL, and ``--url`` beats MEMOS_HOME."""
    home_given, url_given = _from_command_line(ctx, "home"), _from_command_line(ctx, "url")
    if home_given and url_given:
        raise CliError("give either --home (work on a folder) or --url (use a server), not both")
    if home_given:
        return home, None
    if url_given:
        return None, url
    return home, url


def read_key_file(path: Path) -> str:
    """The API key written in ``path`` (surrounding whitespace ignored)."""
    try:
        key = path.read_text().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise CliError(f"cannot read the API key file {path}: {error}") from None
    if not key:
        raise CliError(f"the API key file {path} is empty")
    return key


for group in (users.users_app, users.keys_app, cubes.app, memories.app, kv.app, adapters.app,
              jobs.app):
    app.add_typer(group)
app.command("serve")(serve.serve)
app.command("stats")(stats.stats)
app.command("mcp")(mcp_command)
app.command("limits")(limits.limits)


def main() -> None:
    """Entry point of the ``memos`` console script."""
    app()
