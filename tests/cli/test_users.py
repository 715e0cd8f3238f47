"""``memos users`` and ``memos keys``, in both modes, and keys made by the CLI in use."""

from __future__ import annotations

import uuid

from typer.testing import CliRunner

from memos.cli import app


def new_user(cli) -> str:
    user_id = f"user-{uuid.uuid4().hex[:6]}"
    created = cli.json("users", "create", user_id)
    assert created["id"] == user_id and created["is_admin"] is False
    return user_id


def test_create_user_then_list_it(cli):
    user_id = new_user(cli)
    assert user_id in [user["id"] for user in cli.json("users", "list")]
    assert user_id in cli.ok("users", "list").stdout


def test_create_key_prints_the_secret_once_and_lists_only_the_prefix(cli):
    user_id = new_user(cli)
    key = cli.json("keys", "create", user_id, "--name", "laptop")
    listed = cli.json("keys", "list", "--user", user_id)
    assert key["key"].startswith("memos_") and key["name"] == "laptop"
    assert [(k["id"], k["prefix"]) for k in listed] == [(key["id"], key["key"][:10])]
    assert all("key" not in k and "key_hash" not in k for k in listed)


def test_revoke_refuses_without_yes_then_revokes(cli):
    key = cli.json("keys", "create", new_user(cli))
    refused = cli.run("keys", "revoke", key["id"])
    assert refused.exit_code == 1 and "without --yes" in refused.stderr
    assert cli.json("keys", "revoke", key["id"], "--yes") == {"revoked": key["id"]}
    assert cli.json("keys", "list", "--user", key["user_id"]) == []


def test_duplicate_user_exits_1(cli):
    user_id = new_user(cli)
    result = cli.run("users", "create", user_id)
    assert result.exit_code == 1 and "already exists" in result.stderr


def test_a_new_users_key_sees_only_their_own_cubes(admin_cli, server):
    user_id = new_user(admin_cli)
    secret = admin_cli.json("keys", "create", user_id)["key"]
    admin_cli.ok("cubes", "create", f"admin-only-{uuid.uuid4().hex[:6]}")
    user = type(admin_cli)(["--url", server.url], "server", env={"MEMOS_API_KEY": secret})
    created = user.json("cubes", "create", "mine")
    assert created["owner"] == user_id
    assert [cube["name"] for cube in user.json("cubes", "list")] == ["mine"]


def test_users_list_needs_an_admin_key(admin_cli, server):
    secret = admin_cli.json("keys", "create", new_user(admin_cli))["key"]
    result = CliRunner().invoke(app, ["--url", server.url, "users", "list"],
                                env={"MEMOS_API_KEY": secret})
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: administrator access is required"
