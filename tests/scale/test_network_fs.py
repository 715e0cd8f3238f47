"""A SQLite home on a network filesystem is refused to a second process, never to a local one."""

from __future__ import annotations

import pytest

from storage.errors import UnsafeSharing
from storage.network_fs import OVERRIDE_ENV, filesystem_type, guard_home


def mounts_with(folder, kind: str) -> str:
    return f"/dev/sda1 / ext4 rw 0 0\nserver:/export {folder} {kind} rw 0 0\n"


def test_filesystem_type_takes_the_longest_matching_mount(tmp_path):
    mounts = mounts_with(tmp_path, "nfs4")
    assert filesystem_type(tmp_path / "home", mounts) == "nfs4"
    assert filesystem_type(tmp_path.parent, mounts) == "ext4"


def test_second_opener_of_a_home_on_nfs_is_refused(tmp_path):
    mounts = mounts_with(tmp_path, "nfs")
    first = guard_home(tmp_path, mounts)
    with pytest.raises(UnsafeSharing, match="network filesystem"):
        guard_home(tmp_path, mounts)
    first.close()
    guard_home(tmp_path, mounts).close()  # the first one left: the home is free again


def test_local_homes_and_the_override_are_never_refused(tmp_path, monkeypatch):
    local = mounts_with(tmp_path, "ext4")
    assert guard_home(tmp_path, local) is None and guard_home(tmp_path, local) is None
    monkeypatch.setenv(OVERRIDE_ENV, "1")
    network = mounts_with(tmp_path, "cifs")
    assert guard_home(tmp_path, network) is None and guard_home(tmp_path, network) is None
