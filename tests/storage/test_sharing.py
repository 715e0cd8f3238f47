"""Who sees a cube: its owner, users it is shared with (read or write), admins, nobody else."""

from __future__ import annotations

import pytest

from memcube.access import Access
from memcube.cube_store import MAX_SHARES_PER_CUBE
from storage.errors import InvalidInput, NotFound, PermissionDenied, QuotaExceeded


@pytest.fixture
def shared(mos):
    """A cube owned by alice, readable by bob, writable by carol; dave has no share."""
    cube = mos.create_cube("garden", owner="alice")
    for user in ("bob", "carol", "dave"):
        mos.cubes.ensure_user(user)
    mos.share_cube(cube.id, "bob", "read", user="alice")
    mos.share_cube(cube.id, "carol", "write", user="alice")
    return cube


@pytest.mark.parametrize(("user", "level"), [
    ("alice", Access.OWNER), ("bob", Access.READ), ("carol", Access.WRITE),
    ("dave", Access.NONE), ("nobody-at-all", Access.NONE), (None, Access.OWNER)])
def test_access_levels_of_owner_readers_writers_and_strangers(mos, shared, user, level):
    assert mos.cubes.access_of(shared.id, user) == level


@pytest.mark.parametrize(("user", "needed", "outcome"), [
    ("alice", Access.OWNER, None),
    ("bob", Access.READ, None),
    ("bob", Access.WRITE, PermissionDenied),
    ("carol", Access.WRITE, None),
    ("carol", Access.OWNER, PermissionDenied),
    ("dave", Access.READ, NotFound),
    ("dave", Access.OWNER, NotFound),
])
def test_get_cube_checks_the_access_it_needs(mos, shared, user, needed, outcome):
    if outcome is None:
        assert mos.get_cube(shared.id, user=user, needed=needed).id == shared.id
    else:
        with pytest.raises(outcome):
            mos.get_cube(shared.id, user=user, needed=needed)


def test_invisible_and_missing_cubes_look_the_same(mos, shared):
    with pytest.raises(NotFound) as invisible:
        mos.get_cube(shared.id, user="dave")
    with pytest.raises(NotFound) as missing:
        mos.get_cube("0" * 32, user="dave")
    assert str(invisible.value) == str(missing.value).replace("0" * 32, shared.id)


def test_admin_has_owner_access_to_every_cube(mos, shared):
    mos.cubes.ensure_user("root", is_admin=True)
    assert mos.cubes.access_of(shared.id, "root") == Access.OWNER
    assert [c.id for c in mos.list_cubes(user="root")] == [shared.id]


def test_cube_lists_show_only_owned_and_shared_cubes(mos, shared):
    own = mos.create_cube("dave's notes", owner="dave")
    assert [c.id for c in mos.list_cubes(user="bob")] == [shared.id]
    assert [c.id for c in mos.list_cubes(user="dave")] == [own.id]
    assert {c.id for c in mos.list_cubes()} == {shared.id, own.id}
    assert mos.cubes.get(shared.id).shares == {"bob": "read", "carol": "write"}


def test_only_the_owner_may_share_rename_or_delete(mos, shared):
    with pytest.raises(PermissionDenied):
        mos.share_cube(shared.id, "dave", "read", user="carol")
    with pytest.raises(PermissionDenied):
        mos.update_cube(shared.id, user="bob", description="mine now")
    with pytest.raises(NotFound):
        mos.delete_cube(shared.id, user="dave")
    assert mos.cubes.access_of(shared.id, "dave") == Access.NONE


def test_revoking_a_share_hides_the_cube_again(mos, shared):
    mos.share_cube(shared.id, "bob", None, user="alice")
    assert mos.cubes.access_of(shared.id, "bob") == Access.NONE
    with pytest.raises(NotFound):
        mos.get_cube(shared.id, user="bob")


def test_resharing_changes_the_level(mos, shared):
    mos.share_cube(shared.id, "bob", "write", user="alice")
    assert mos.cubes.access_of(shared.id, "bob") == Access.WRITE


def test_sharing_with_an_unknown_user_answers_alike_and_needs_a_real_level(mos, shared):
    info = mos.share_cube(shared.id, "ghost", "read", user="alice")
    assert info.shares["ghost"] == "read"  # as for a known user: no way to probe for accounts
    assert mos.cubes.access_of(shared.id, "ghost") == Access.READ
    with pytest.raises(InvalidInput):
        mos.share_cube(shared.id, "dave", "owner", user="alice")
    with pytest.raises(InvalidInput):
        mos.share_cube(shared.id, "dave", "admin", user="alice")


def test_deleting_a_cube_removes_its_shares_and_items(mos, shared):
    item = shared.add("The tomatoes need water twice a day in July.")
    mos.delete_cube(shared.id, user="alice")
    assert mos.list_cubes(user="bob") == []
    with pytest.raises(NotFound):
        mos.items.get(item.id)
    with pytest.raises(NotFound):
        mos.get_cube(shared.id)


def test_open_cube_sees_shares_made_after_it_was_opened(mos, shared):
    mos.share_cube(shared.id, "dave", "read", user="alice")
    assert mos.get_cube(shared.id, user="dave").info.shares["dave"] == "read"


def test_a_share_takes_only_a_valid_user_id_and_registers_nothing_else(mos, shared):
    for bad in ("x" * 65, " padded ", ""):
        with pytest.raises(InvalidInput):
            mos.share_cube(shared.id, bad, "read", user="alice")
    assert "x" * 65 not in {user.id for user in mos.keys.list_users()}


def test_a_cube_is_shared_with_a_bounded_number_of_users(mos, shared):
    for n in range(MAX_SHARES_PER_CUBE - len(mos.cubes.get(shared.id).shares)):
        mos.share_cube(shared.id, f"reader-{n}", "read", user="alice")
    with pytest.raises(QuotaExceeded):
        mos.share_cube(shared.id, "one-too-many", "read", user="alice")
    mos.share_cube(shared.id, "bob", "write", user="alice")  # changing a share still works
    assert len(mos.cubes.get(shared.id).shares) == MAX_SHARES_PER_CUBE
