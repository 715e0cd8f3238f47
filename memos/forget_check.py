"""Forget check: where anything of some notes remains, kind by kind.

``remains`` lists copies that can still reach a reader or the model: live SQL rows and other
notes quoting the text, search hits, index entries, session turns, KV nodes and chunk files,
job payloads, fresh adapters that learned a note, and export archives this home wrote
(``memos.export_ledger``) that still hold the note; ``exports`` lists every archive scanned.
``retained`` lists what is kept on purpose and never served: a soft-deleted row and its
history (purge removes them) and stale adapters (never attached; retraining or deleting them
removes the weights). ``probes`` asks search and the model for the facts themselves
(``memos.extraction_probe``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from memcube.lifecycle import State
from memos.export_ledger import ExportLedger
from memos.extraction_probe import ExtractionProbe
from memos.forgetting import Forgetting, scrub_value
from memos.scheduler.forget_retrain import FORGET_RETRAIN_JOB
from memos.sessions import LOCAL_OWNER
from storage.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from memos.kernel import MemOS

MAX_TARGETS = 100


class ForgetCheck:
    """Looks for the given notes (ids, texts) in every kind of memory of one cube."""

    def __init__(self, mos: MemOS, cube, forgetting: Forgetting,
                 user: str | None = None) -> None:
        self._mos = mos
        self._cube = cube
        self._forgetting = forgetting  # knows whose sessions may quote the cube's notes
        self._user = user
        self._note_texts: list[str] = []  # the notes' own texts, as opposed to given texts

    def run(self, item_ids: Sequence[str] = (), texts: Sequence[str] = (),
            probe_model: bool = True) -> dict:
        """A report: ``clean`` when nothing remains that could be served; ``probes`` says
        whether search or the model (unless ``probe_model`` is false) still states the facts."""
        item_ids, texts = list(dict.fromkeys(item_ids)), list(dict.fromkeys(texts))
        if not item_ids and not texts or len(item_ids) + len(texts) > MAX_TARGETS:
            raise InvalidInput(f"give 1 to {MAX_TARGETS} memory ids or texts to check")
        remains, retained = [], []
        self._note_texts = [text for text in dict.fromkeys(
            self._sql(item_ids, texts, remains, retained)) if text.strip()]
        texts = [text for text in dict.fromkeys(texts + self._note_texts) if text.strip()]
        for probe in (self._index, self._search, self._sessions, self._kv, self._jobs,
                      self._adapters):
            probe(item_ids, texts, remains, retained)
        exports = self._exports(item_ids, texts, remains)
        asked = ExtractionProbe(self._mos, self._cube, self._user, probe_model).run(texts)
        return {"cube_id": self._cube.id, "item_ids": item_ids, "texts_checked": len(texts),
                "clean": not remains, "remains": remains, "retained": retained,
                "exports": exports, "probes": asked}

    def _sql(self, item_ids, texts, remains, retained) -> list[str]:
        """Rows of the items themselves, and live notes quoting the texts; the items' texts."""
        items, cube_id = self._mos.items, self._cube.id
        found_texts = []
        for item in items.of_cube(cube_id, item_ids):
            found_texts.append(item.text)
            where = {"kind": "sql", "where": "memory_items", "id": item.id,
                     "state": item.state.value}
            (retained if item.state == State.DELETED else remains).append(where)
        found_texts += items.past_texts(cube_id, item_ids)
        history = len(found_texts)
        quoted = [text for text in texts + found_texts if text]
        for item in items.searchable_quoting(cube_id, quoted, excluding=item_ids):
            remains.append({"kind": "sql", "where": "memory_items (quoting note)",
                            "id": item.id, "state": item.state.value})
        if history and any(r["kind"] == "sql" for r in retained):
            retained.append({"kind": "sql", "where": "item_history",
                             "detail": "kept until the memory is purged"})
        return found_texts

    def _index(self, item_ids, texts, remains, retained) -> None:
        indexed = self._cube._index  # the derived index, not SQL
        for item_id in item_ids:
            if indexed.contains(item_id):
                state = self._state_of(item_id)
                if state in (None, State.DELETED):
                    remains.append({"kind": "index", "where": "faiss/bm25/graph",
                                    "id": item_id, "state": state})

    def _search(self, item_ids, texts, remains, retained) -> None:
        for text in texts:
            for hit in self._cube.search(text[:2000], k=5):
                if hit.item.id in item_ids or text in hit.item.text:
                    if not any(r["kind"] == "search" and r["id"] == hit.item.id
                               for r in remains):
                        remains.append({"kind": "search", "where": "search hit",
                                        "id": hit.item.id})

    def _sessions(self, item_ids, texts, remains, retained) -> None:
        """The caller's sessions are searched for every text; another user's (given this
        cube's memories) only for the notes' own texts, and named by neither id nor owner:
        a forget check is no way to read somebody else's conversations."""
        caller = self._user or LOCAL_OWNER
        for key, owner in self._forgetting.sessions_quoting(self._cube.id, texts):
            if owner == caller:
                remains.append({"kind": "session", "where": "session turn",
                                "session_id": key, "owner": owner})
        others = {(key, owner) for key, owner in self._forgetting.sessions_quoting(
            self._cube.id, self._note_texts) if owner != caller}
        remains.extend({"kind": "session", "where": "another user's session turn"}
                       for _ in others)

    def _kv(self, item_ids, texts, remains, retained) -> None:
        """KV recorded for the notes; for an admin or the embedded caller also every node or
        chunk holding or quoting the texts. The KV store holds every tenant's prompts, and
        its entries are found by content: a tenant's check could otherwise learn whether
        anyone's prompt held a text it guessed."""
        for key in self._mos.kv_records.keys_of_items(item_ids):
            remains.append({"kind": "kv", "where": "kv_entries row", "key": key})
        if not texts or not self._privileged() or not self._kv_present():
            return
        from memos.activation.memory import quoted_runs

        activation = self._mos.activation
        chunks = [activation.prompts.chunk_ids(text) for text in texts]
        runs = [run for text in texts for run in quoted_runs(self._mos.engine, text)]
        keys = {activation.cache.key_for(ids) for ids in chunks}
        keys |= {key for ids in chunks for key in activation.tree.index.holding(ids)}
        keys |= {key for run in runs for key in activation.tree.index.quoting(run)}
        for key in sorted(keys):
            if key in activation.cache:
                remains.append({"kind": "kv", "where": "kv node", "key": key,
                                "file": activation.cache.file_path(key).exists()})

    def _privileged(self) -> bool:
        """The embedded caller or an admin: may look for a text in every tenant's KV."""
        return self._user is None or self._mos.cubes.is_admin(self._user)

    def _kv_present(self) -> bool:
        kv = self._mos.home / "kv"
        return self._mos._activation is not None or any(kv.glob("*.safetensors"))

    def _jobs(self, item_ids, texts, remains, retained) -> None:
        ids = set(item_ids)
        for job in self._mos.scheduler.jobs.of_cube(self._cube.id):
            if job.kind == FORGET_RETRAIN_JOB:  # names the forgotten ids, never their text
                retained.append({"kind": "job", "where": "retrain without the note",
                                 "id": job.id, "state": job.state.value})
            elif scrub_value([job.payload, job.result], texts, ids) != [job.payload,
                                                                       job.result]:
                remains.append({"kind": "job", "where": "job payload", "id": job.id,
                                "state": job.state.value})

    def _adapters(self, item_ids, texts, remains, retained) -> None:
        if not (self._mos.home / "adapters").exists() and self._mos._adapters is None:
            return
        for adapter in self._mos.adapters.list(self._cube.id):
            learned = sorted(set(adapter.items) & set(item_ids))
            if learned:
                where = {"kind": "adapter", "id": adapter.id, "learned": learned,
                         "stale": adapter.stale}
                (retained if adapter.stale else remains).append(where)

    def _exports(self, item_ids, texts, remains) -> list[dict]:
        scanned = ExportLedger(self._mos.home).scan(self._cube.id, item_ids, texts)
        for archive in scanned:
            if archive["members"]:
                remains.append({"kind": "export", "where": "export archive",
                                "file": archive["file"], "members": archive["members"]})
        return scanned

    def _state_of(self, item_id: str) -> str | None:
        try:
            return self._mos.items.get(item_id, self._cube.id).state
        except NotFound:
            return None
