"""Exit codes and messages at the edge: bad keys, unreachable servers, usage errors, help."""

from __future__ import annotations

import click
import pytest
import typer
from typer.testing import CliRunner

from memos.cli import app
from tests.cli.conftest import free_port

runner = CliRunner()


def invoke(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env=env, prog_name="memos")


def test_bad_api_key_exits_1_with_a_clear_message(server):
    result = invoke("--url", server.url, "cubes", "list",
                    env={"MEMOS_API_KEY": "memos_not-a-real-key-000"})
    assert result.exit_code == 1
    assert result.stderr == "Error: invalid API key\n"


def test_connection_options_come_from_the_environment(server):
    env = {"MEMOS_URL": server.url, "MEMOS_API_KEY": "memos_not-a-real-key-000"}
    result = invoke("cubes", "list", env=env)
    assert result.exit_code == 1 and "invalid API key" in result.stderr


def test_server_mode_without_a_key_exits_1(server):
    result = invoke("--url", server.url, "cubes", "list", env={"MEMOS_API_KEY": ""})
    assert result.exit_code == 1
    assert "needs an API key" in result.stderr


def test_unreachable_server_exits_1_without_traceback():
    url = f"http://127.0.0.1:{free_port()}"
    result = invoke("--url", url, "cubes", "list", env={"MEMOS_API_KEY": "memos_any-key-0000000"})
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: cannot reach the memos server at {url}")
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output


def test_missing_argument_is_a_usage_error(cli):
    assert cli.run("memories", "list").exit_code == 2


def test_unknown_command_is_a_usage_error(cli):
    assert cli.run("cubes", "explode").exit_code == 2


def test_version_prints_the_version():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.startswith("memos ")


def every_command(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from every_command(command, (*path, name))


COMMANDS = list(every_command(typer.main.get_command(app)))


@pytest.mark.parametrize("path", [path for path, _ in COMMANDS], ids=" ".join)
def test_every_command_has_help_with_an_example(path):
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    assert "Example: memos" in result.stdout
