"""Lifecycle states of a memory item and the one table of legal transitions."""

from __future__ import annotations

from enum import StrEnum

from storage.errors import IllegalTransition, InvalidInput


class State(StrEnum):
    """Where a memory item is in its life."""

    CREATED = "created"
    ACTIVATED = "activated"
    MERGED = "merged"
    ARCHIVED = "archived"
    FROZEN = "frozen"
    DELETED = "deleted"


TRANSITIONS: dict[State, frozenset[State]] = {
    State.CREATED: frozenset({State.ACTIVATED, State.MERGED, State.ARCHIVED, State.FROZEN,
                              State.DELETED}),
    State.ACTIVATED: frozenset({State.MERGED, State.ARCHIVED, State.FROZEN, State.DELETED}),
    State.MERGED: frozenset({State.ARCHIVED, State.DELETED}),
    State.ARCHIVED: frozenset({State.ACTIVATED, State.FROZEN, State.DELETED}),
    # Frozen memories are pinned: never archived, merged or evicted, only thawed or deleted.
    State.FROZEN: frozenset({State.ACTIVATED, State.DELETED}),
    State.DELETED: frozenset(),
}

SEARCHABLE: frozenset[State] = frozenset({State.CREATED, State.ACTIVATED, State.FROZEN})
# Frozen memories are pinned and merged ones already retired: only live ones expire.
EXPIRABLE: frozenset[State] = frozenset({State.CREATED, State.ACTIVATED})
EDITABLE: frozenset[State] = frozenset({State.CREATED, State.ACTIVATED, State.ARCHIVED})


def parse_state(value: str | State) -> State:
    """A State from its name, or the project's InvalidInput."""
    try:
        return State(value)
    except ValueError:
        raise InvalidInput(f"unknown state {value!r}; one of {[s.value for s in State]}") from None


def can_transition(current: State, target: State) -> bool:
    """Whether the table allows ``current`` → ``target``."""
    return target in TRANSITIONS[current]


def check_transition(current: State, target: State) -> None:
    """Raise IllegalTransition unless ``current`` → ``target`` is allowed."""
    if not can_transition(current, target):
        raise IllegalTransition(f"cannot move a memory from {current} to {target}")
