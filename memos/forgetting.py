"""Forgetting: one place that erases a memory's text from every copy derived from it.

SQL rows and the cube's indexes are handled by MemCube (delete, purge, text change); this
module drops the rest: KV (prefix-tree nodes and chunk files in every tier, through
``forget_kv``), the kept turns of chat sessions that quote the text, and scheduler job
payloads and results that name the item or quote its text. Adapters that learned the note
become stale on their own (their recorded note versions no longer match) and stale adapters
are never attached.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from storage.errors import NotFound

if TYPE_CHECKING:
    from memcube.cube_store import CubeStore
    from memos.scheduler.jobs import JobStore
    from memos.sessions import SessionStore

FORGOTTEN = "[forgotten]"  # what stands where an erased text was quoted


@dataclass(slots=True)
class ForgetReport:
    """What one forget removed: KV entries, session turns and jobs rewritten."""

    kv_entries: int = 0
    session_turns: int = 0
    jobs: int = 0

    def to_dict(self) -> dict:
        """JSON-friendly dict."""
        return {"kv_entries": self.kv_entries, "session_turns": self.session_turns,
                "jobs": self.jobs}


class Forgetting:
    """Erases notes that left a cube from KV, sessions and job payloads."""

    def __init__(self, cubes: CubeStore, sessions: SessionStore, jobs: JobStore,
                 forget_kv: Callable[[Sequence[str]], int]) -> None:
        self._cubes = cubes
        self._sessions = sessions
        self._jobs = jobs
        self._forget_kv = forget_kv

    def forget(self, cube_id: str, texts: Sequence[str], item_ids: Sequence[str],
               erase: bool) -> ForgetReport:
        """Drop the KV of these texts; when ``erase`` (delete, purge, correction) also scrub
        them from the sessions of the cube's users and from the cube's jobs."""
        texts = [text for text in texts if text]
        report = ForgetReport(kv_entries=self._forget_kv(texts) if texts else 0)
        if erase:
            report.session_turns = self.scrub_sessions(cube_id, texts)
            report.jobs = self.scrub_jobs(cube_id, texts, item_ids)
        return report

    def scrub_sessions(self, cube_id: str, texts: Sequence[str]) -> int:
        """Replace the texts in the kept turns of the sessions that may hold the cube's notes:
        its owner's, and those that were given its memories."""
        if not texts:
            return 0
        return self._sessions.rewrite_turns_quoting(
            cube_id, self._owner_of(cube_id), texts, lambda content: scrub_text(content, texts))

    def scrub_jobs(self, cube_id: str, texts: Sequence[str], item_ids: Sequence[str]) -> int:
        """Remove the item ids and texts from the payloads and results of the cube's jobs."""
        ids = set(item_ids)
        return self._jobs.rewrite_of_cube(cube_id, lambda value: scrub_value(value, texts, ids))

    def sessions_quoting(self, cube_id: str, texts: Sequence[str]) -> list[tuple[str, str]]:
        """(session id, owner) of each kept turn quoting one of the (non-empty) texts, in
        the sessions that may hold the cube's notes (as ``scrub_sessions``)."""
        if not texts:
            return []
        return self._sessions.sessions_quoting(cube_id, self._owner_of(cube_id), texts)

    def _owner_of(self, cube_id: str) -> str | None:
        try:
            return self._cubes.get(cube_id).owner
        except NotFound:  # deleted meanwhile: only the sessions given its memories remain
            return None


def scrub_text(content: str, texts: Sequence[str]) -> str:
    """``content`` with every occurrence of the texts replaced by the forgotten marker."""
    for text in sorted(texts, key=len, reverse=True):
        content = content.replace(text, FORGOTTEN)
    return content


def scrub_value(value, texts: Sequence[str], ids: Collection[str]):
    """A JSON value without the ids (list members dropped, values nulled) or the texts."""
    if isinstance(value, dict):
        return {key: scrub_value(inner, texts, ids) for key, inner in value.items()}
    if isinstance(value, list):
        return [scrub_value(inner, texts, ids) for inner in value
                if not (isinstance(inner, str) and inner in ids)]
    if isinstance(value, str):
        return None if value in ids else scrub_text(value, texts)
    return value
