"""Where the CLI connects: explicit flags beat the environment, keys never come on the command
line, and a home folder that does not exist is an error unless the command creates one."""

from __future__ import annotations

from typer.testing import CliRunner

from memos.cli import app
from tests.cli.conftest import ADMIN_KEY, free_port

runner = CliRunner()


def invoke(*args: str, env: dict | None = None):
    return runner.invoke(app, list(args), env=env, prog_name="memos")


def test_api_key_on_the_command_line_is_refused_before_connecting(server):
    result = invoke("--url", server.url, "--api-key", ADMIN_KEY, "cubes", "list")
    assert result.exit_code == 1
    assert "--api-key is not accepted" in result.stderr and "MEMOS_API_KEY" in result.stderr
    assert ADMIN_KEY not in result.output


def test_api_key_file_is_read(server, tmp_path):
    key_file = tmp_path / "admin.key"
    key_file.write_text(f"{ADMIN_KEY}\n")
    result = invoke("--url", server.url, "--api-key-file", str(key_file), "cubes", "list",
                    "--json")
    assert result.exit_code == 0, result.output


def test_missing_or_empty_key_file_is_a_clear_error(server, tmp_path):
    missing = invoke("--url", server.url, "--api-key-file", str(tmp_path / "nope"), "cubes",
                     "list")
    assert missing.exit_code == 1 and "cannot read the API key file" in missing.stderr
    (tmp_path / "empty").write_text("\n")
    empty = invoke("--url", server.url, "--api-key-file", str(tmp_path / "empty"), "cubes",
                   "list")
    assert empty.exit_code == 1 and "is empty" in empty.stderr


def test_mistyped_home_is_an_error_and_creates_nothing(tmp_path):
    typo = tmp_path / "memos-hom"
    for command in (["cubes", "list"], ["stats"], ["memories", "list", "notes"],
                    ["kv", "stats"], ["users", "list"]):
        result = invoke("--home", str(typo), *command)
        assert result.exit_code == 1, (command, result.output)
        assert f"no memos home at {typo}" in result.stderr
    assert not typo.exists()


def test_commands_that_create_a_home_may_start_one(tmp_path):
    fresh = tmp_path / "new-home"
    assert invoke("--home", str(fresh), "users", "create", "alice").exit_code == 0
    assert fresh.is_dir()
    assert invoke("--home", str(fresh), "cubes", "list").exit_code == 0


def test_explicit_home_wins_over_memos_url_in_the_environment(cli_home):
    unreachable = f"http://127.0.0.1:{free_port()}"
    result = invoke("--home", str(cli_home), "cubes", "list", "--json",
                    env={"MEMOS_URL": unreachable, "MEMOS_API_KEY": "memos_any-key-0000000"})
    assert result.exit_code == 0, result.output


def test_explicit_url_wins_over_memos_home_in_the_environment(server, tmp_path):
    result = invoke("--url", server.url, "cubes", "list", "--json",
                    env={"MEMOS_HOME": str(tmp_path / "absent"), "MEMOS_API_KEY": ADMIN_KEY})
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "absent").exists()


def test_home_and_url_both_on_the_command_line_is_an_error(cli_home, server):
    result = invoke("--home", str(cli_home), "--url", server.url, "cubes", "list")
    assert result.exit_code == 1 and "not both" in result.stderr
