"""The CLI on a home whose disk is full: exit code 1 and a message, nothing lost."""

from __future__ import annotations

import pytest
from small_disk import fill_to_the_last_byte, mounted_tmpfs

from tests.cli.conftest import Cli


@pytest.fixture
def full_disk_cli(tmp_path):
    with mounted_tmpfs(tmp_path / "small-disk", "8m") as mount_point:
        yield Cli(["--home", str(mount_point / "home")], "home"), mount_point


def test_add_on_a_full_disk_exits_1_with_a_message_and_loses_nothing(full_disk_cli):
    cli, mount_point = full_disk_cli
    cli.ok("cubes", "create", "notes")
    cli.ok("memories", "add", "notes", "Erin keeps bees on the roof.")
    filler = fill_to_the_last_byte(mount_point)
    refused = None
    for n in range(40):  # SQLite may still fit a few rows into pages it already holds
        result = cli.run("memories", "add", "notes", f"Erin's note {n} about her hives.")
        if result.exit_code != 0:
            refused = result
            break
    assert refused is not None and refused.exit_code == 1
    assert "could not be stored" in refused.output and "Traceback" not in refused.output
    filler.unlink()
    cli.ok("memories", "add", "notes", "Space is back for Erin.")
    texts = [item["text"] for item in cli.json("memories", "list", "notes")["items"]]
    assert {"Erin keeps bees on the roof.", "Space is back for Erin."} <= set(texts)
