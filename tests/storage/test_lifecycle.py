"""Every pair of lifecycle states: the transition table decides, and the store obeys it."""

from __future__ import annotations

from collections import deque
from itertools import product

import pytest

from memcube.lifecycle import SEARCHABLE, TRANSITIONS, State, can_transition
from storage.errors import IllegalTransition, InvalidInput


def path_to(target: State) -> list[State]:
    """The shortest chain of legal moves from CREATED to ``target``."""
    paths = {State.CREATED: []}
    queue = deque([State.CREATED])
    while queue:
        state = queue.popleft()
        for nxt in sorted(TRANSITIONS[state]):
            if nxt not in paths:
                paths[nxt] = [*paths[state], nxt]
                queue.append(nxt)
    return paths[target]


def test_every_state_is_reachable_from_created():
    assert all(State.CREATED == s or path_to(s)[-1] == s for s in State)


def test_deleted_is_final_and_nothing_moves_to_itself():
    assert TRANSITIONS[State.DELETED] == frozenset()
    assert not any(can_transition(state, state) for state in State)


def test_frozen_memories_cannot_be_archived_or_merged():
    assert not can_transition(State.FROZEN, State.ARCHIVED)
    assert not can_transition(State.FROZEN, State.MERGED)


@pytest.mark.parametrize(("current", "target"), list(product(State, State)),
                         ids=lambda state: state.value)
def test_transition_follows_the_table(mos, current, target):
    cube = mos.create_cube("lifecycle")
    item = cube.add("The lighthouse keeper logs the weather every dawn.")
    for step in path_to(current):
        cube.set_state(item.id, step)
    before = cube.history(item.id)
    if target in TRANSITIONS[current]:
        moved = cube.set_state(item.id, target, actor="tester", reason="table")
        assert moved.state == target and moved.version == before[-1].version + 1
        last = cube.history(item.id)[-1]
        assert (last.event, last.changes["state"]) == (target.value, [current.value, target.value])
        assert (last.actor, last.reason) == ("tester", "table")
    else:
        with pytest.raises(IllegalTransition):
            cube.set_state(item.id, target)
        assert cube.history(item.id) == before
    stored = mos.items.get(item.id)
    assert stored.state == (target if can_transition(current, target) else current)


@pytest.mark.parametrize("state", list(State), ids=lambda state: state.value)
def test_search_returns_only_searchable_states(mos, state):
    cube = mos.create_cube("visibility")
    item = cube.add("Quince jam needs three hours of slow simmering.")
    for step in path_to(state):
        cube.set_state(item.id, step)
    found = [hit.item.id for hit in cube.search("quince jam simmering", k=5)]
    assert (item.id in found) == (state in SEARCHABLE)


def test_archived_memory_is_found_when_its_state_is_asked_for(mos):
    cube = mos.create_cube("archive")
    item = cube.add("The orchard was replanted with pear trees in 2019.")
    cube.archive(item.id)
    found = cube.search("pear orchard replanted", k=5, states=["archived"])
    assert [hit.item.id for hit in found] == [item.id]


def test_unknown_state_is_invalid_input(mos):
    cube = mos.create_cube("states")
    item = cube.add("Tides are highest at the new and full moon.")
    with pytest.raises(InvalidInput):
        cube.set_state(item.id, "hibernating")


@pytest.mark.parametrize("state", [State.MERGED, State.FROZEN, State.DELETED],
                         ids=lambda state: state.value)
def test_memory_outside_editable_states_cannot_be_edited(mos, state):
    cube = mos.create_cube("edits")
    item = cube.add("The ferry leaves the harbour at seven.")
    for step in path_to(state):
        cube.set_state(item.id, step)
    with pytest.raises(IllegalTransition):
        cube.update(item.id, text="The ferry leaves the harbour at eight.")
    assert mos.items.get(item.id).text == "The ferry leaves the harbour at seven."


def test_merge_points_the_others_at_the_survivor(mos):
    cube = mos.create_cube("merge")
    keep, *others = cube.add_many([{"text": t, "force": True} for t in (
        "The night bus N1 stops at Cais do Sodré.", "Night bus N1 calls at Cais do Sodré.",
        "The N1 night bus serves Cais do Sodré.")])
    cube.merge(keep.id, [other.id for other in others], reason="same fact")
    for other in others:
        stored = mos.items.get(other.id)
        assert (stored.state, stored.merged_into) == (State.MERGED, keep.id)
    assert mos.items.get(keep.id).state == State.CREATED


def test_memory_cannot_be_merged_into_itself(mos):
    cube = mos.create_cube("merge")
    item = cube.add("The night bus N1 stops at Cais do Sodré.")
    with pytest.raises(InvalidInput):
        cube.merge(item.id, [item.id])
    assert mos.items.get(item.id).state == State.CREATED


@pytest.mark.parametrize("state", [State.MERGED, State.DELETED], ids=lambda state: state.value)
def test_nothing_merges_into_a_merged_or_deleted_memory(mos, state):
    cube = mos.create_cube("merge")
    gone, other = cube.add_many([{"text": t, "force": True} for t in (
        "The night bus N1 stops at Cais do Sodré.", "The ferry to Barreiro leaves at midnight.")])
    cube.set_state(gone.id, state)
    with pytest.raises(IllegalTransition):
        cube.merge(gone.id, [other.id])
    assert mos.items.get(other.id).state == State.CREATED


def test_merge_with_one_illegal_member_merges_none(mos):
    cube = mos.create_cube("merge")
    keep, loose, frozen = cube.add_many([{"text": t, "force": True} for t in (
        "The night bus N1 stops at Cais do Sodré.", "The ferry to Barreiro leaves at midnight.",
        "Tram 28 climbs to Graça.")])
    cube.freeze(frozen.id)
    with pytest.raises(IllegalTransition):
        cube.merge(keep.id, [loose.id, frozen.id])
    assert mos.items.get(loose.id).state == State.CREATED
