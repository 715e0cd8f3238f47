"""``memos cubes``: create, list, show, share, export, import and delete, in both modes."""

from __future__ import annotations

import uuid


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def test_create_then_list_and_show_by_name(cli):
    name = unique("notes")
    created = cli.json("cubes", "create", name, "-d", "Alice notes")
    listed = cli.json("cubes", "list")
    shown = cli.json("cubes", "show", name)
    assert created["name"] == name and created["description"] == "Alice notes"
    assert created["id"] in [cube["id"] for cube in listed]
    assert shown["id"] == created["id"] and shown["items_by_state"] == {}


def test_cubes_list_prints_a_table_with_the_cube(cli):
    name = unique("table")
    cli.ok("cubes", "create", name)
    output = cli.ok("cubes", "list").stdout
    assert "name" in output and name in output


def test_show_by_id_works_like_by_name(cli):
    created = cli.json("cubes", "create", unique("byid"))
    assert cli.json("cubes", "show", created["id"])["name"] == created["name"]


def test_unknown_cube_exits_1_with_one_line(cli):
    result = cli.run("cubes", "show", "no-such-cube")
    assert result.exit_code == 1
    assert result.stderr.strip() == "Error: no cube 'no-such-cube' (see `memos cubes list`)"
    assert "Traceback" not in result.output


def test_duplicate_cube_name_exits_1(cli):
    name = unique("twice")
    cli.ok("cubes", "create", name)
    result = cli.run("cubes", "create", name)
    assert result.exit_code == 1 and "already has a cube named" in result.stderr


def test_delete_refuses_without_yes_when_not_interactive(cli):
    name = unique("keep")
    cli.ok("cubes", "create", name)
    result = cli.run("cubes", "delete", name)
    assert result.exit_code == 1 and "without --yes" in result.stderr
    assert cli.json("cubes", "show", name)["name"] == name


def test_delete_with_yes_removes_the_cube(cli):
    name = unique("gone")
    created = cli.json("cubes", "create", name)
    assert cli.json("cubes", "delete", name, "--yes") == {"deleted": created["id"]}
    assert cli.run("cubes", "show", name).exit_code == 1


def test_share_gives_and_takes_access(cli):
    cli.run("users", "create", "carol")  # may exist already from the other mode's run
    name = unique("shared")
    cli.ok("cubes", "create", name)
    assert cli.json("cubes", "share", name, "carol", "--access", "write")["shares"] == {
        "carol": "write"}
    assert cli.json("cubes", "share", name, "carol", "--access", "none")["shares"] == {}


def test_export_delete_import_brings_the_cube_back_with_its_memories(cli, tmp_path):
    name = unique("travel")
    created = cli.json("cubes", "create", name)
    cli.ok("memories", "add", name, "Alice moved to Lisbon in May 2023.")
    archive = tmp_path / "travel.memcube"
    manifest = cli.json("cubes", "export", name, str(archive))
    assert manifest["counts"]["items"] == 1 and archive.is_file()
    cli.ok("cubes", "delete", name, "--yes")
    imported = cli.json("cubes", "import", str(archive))
    assert imported["name"] == name and imported["id"] != created["id"]  # fresh ids
    page = cli.json("memories", "list", name)
    assert [item["text"] for item in page["items"]] == ["Alice moved to Lisbon in May 2023."]


def test_import_under_a_taken_name_exits_1_and_a_new_name_imports(cli, tmp_path):
    name = unique("dup")
    cli.ok("cubes", "create", name)
    archive = tmp_path / "dup.memcube"
    cli.ok("cubes", "export", name, str(archive))
    result = cli.run("cubes", "import", str(archive))
    assert result.exit_code == 1 and "already has a cube named" in result.stderr
    copy = cli.json("cubes", "import", str(archive), "--name", f"{name}-copy")
    assert copy["name"] == f"{name}-copy"


def test_import_of_a_missing_file_is_a_usage_error(cli, tmp_path):
    assert cli.run("cubes", "import", str(tmp_path / "nope.memcube")).exit_code == 2


def test_create_for_another_owner_in_home_mode(home_cli):
    created = home_cli.json("cubes", "create", unique("owned"), "--owner", "dave")
    assert created["owner"] == "dave"


def test_owner_option_is_refused_on_a_server(admin_cli):
    result = admin_cli.run("cubes", "create", unique("owned"), "--owner", "dave")
    assert result.exit_code == 1 and "--owner works only on a home folder" in result.stderr
