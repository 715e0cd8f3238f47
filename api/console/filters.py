"""The memories page's filters: the REST search's own fields, read from the page's GET form."""

from __future__ import annotations

from dataclasses import dataclass

from api.schemas.memories import SearchFilters as SearchFiltersBody
from memcube.lifecycle import State
from memcube.search import SearchFilters

TIME_FIELDS = ("written_after", "written_before", "event_after", "event_before", "as_of")
ALL_STATES = frozenset(State)


@dataclass(slots=True)
class MemoryFilters:
    """What the form said (to show it again) and the same filters the REST search takes."""

    shown: dict[str, str]
    body: SearchFiltersBody

    @property
    def narrows_list(self) -> bool:
        """Whether the list needs more than its state and tag filters."""
        return self.body.current_only or any(getattr(self.body, f) for f in TIME_FIELDS)

    def search_kwargs(self) -> dict:
        """Keyword arguments of ``MemCube.search`` (as the REST route passes them)."""
        return self.body.as_kwargs()

    def list_predicate(self):
        """The search's own admission test for the list (its states and tags are done in SQL)."""
        if not self.narrows_list:
            return None
        times = {name: getattr(self.body, name) for name in TIME_FIELDS}
        return SearchFilters(states=ALL_STATES, current_only=self.body.current_only,
                             **times).admits


def tags_of(text: str) -> list[str]:
    """Comma-separated tags."""
    return [tag.strip() for tag in text.split(",") if tag.strip()]


def read_filters(params, state: str, tag: str) -> MemoryFilters:
    """The filters in a request's query parameters (bad dates raise a validation error)."""
    shown = {name: params.get(name, "").strip() for name in TIME_FIELDS}
    current_only = params.get("current_only", "") in ("1", "on", "true")
    body = SearchFiltersBody.model_validate({
        "states": [state] if state else None, "tags": tags_of(tag),
        "current_only": current_only, **{k: v for k, v in shown.items() if v}})
    return MemoryFilters({**shown, "current_only": "1" if current_only else ""}, body)
