"""Which adapters a chat may attach, and why each one was or was not attached.

An adapter is attached only while it is fresh: never one that learned a note since deleted or
changed (stale), never a damaged one or one made for another model. Default chat also asks
for evidence: the adapter answered some of its check questions and learned at least one of
the notes retrieved for this turn. Both route among a cube's shards: only the shard that learned
the note nearest the question (default chat: the best retrieved note of the cube) is attached;
shards trained apart interfere when summed (a small shard's facts drown the others', and five
summed shards broke default chat's answers in bench/forgetting.py). Every decision is a line
in the reply's stats notes.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from memos.parametric.memory import AdapterInfo, ParametricMemory


def current_adapters(adapters: Sequence[AdapterInfo]) -> list[AdapterInfo]:
    """Of a cube's adapters (newest first), those in use: the newest one, or, when it is a
    shard, the newest adapter of each shard of its group."""
    if not adapters:
        return []
    newest = adapters[0]
    if newest.shard is None:
        return [newest]
    by_shard: dict[int, AdapterInfo] = {}
    for adapter in adapters:
        if adapter.shard is not None and adapter.shard.group == newest.shard.group:
            by_shard.setdefault(adapter.shard.index, adapter)
    return [by_shard[index] for index in sorted(by_shard)]


class AdapterSets:
    """Chooses the adapters of a chat turn from the cubes' current adapters."""

    def __init__(self, parametric: ParametricMemory, fingerprint: str) -> None:
        self._parametric = parametric
        self._fingerprint = fingerprint

    def attachable(self, cube_ids: Sequence[str], on_evidence: Collection[str] | None,
                   routed_to: Collection[str] | None = None) -> tuple[list[str], list[str]]:
        """Adapter ids to attach and a note per adapter saying why or why not.

        ``on_evidence``: ids of the notes retrieved for the turn (an adapter must have learned
        one, and answered some check question); None attaches every fresh adapter.
        ``routed_to``: ids of the notes nearest the question; a shard must have learned one
        (other adapters are not shards and need not)."""
        ids, notes = [], []
        for cube_id in cube_ids:
            for adapter in current_adapters(self._parametric.list(cube_id)):
                reason = self._refusal(adapter, on_evidence) or _off_route(adapter, routed_to)
                if reason is None:
                    reason = self._parametric.try_load(adapter.id)
                if reason is not None:
                    notes.append(f"adapter {adapter.id} not attached: {reason}")
                    continue
                ids.append(adapter.id)
                notes.append(f"adapter {adapter.id} attached: "
                             f"{_grounds(adapter, on_evidence, routed_to)}")
        return ids, notes

    def routes(self, cube_id: str) -> bool:
        """Whether the cube's adapters are shards to route among (only then does parametric-only
        chat search for the note nearest the question)."""
        return any(adapter.shard is not None
                   for adapter in current_adapters(self._parametric.list(cube_id)))

    def kv_key(self, adapter_ids: Sequence[str]) -> str | None:
        """What KV computed with these adapters is keyed by: their ids and weight checksums,
        so KV of a deleted or retrained adapter is never found again (None: no adapter)."""
        if not adapter_ids:
            return None
        return ",".join(f"{adapter_id}:{self._parametric.weights_checksum(adapter_id)}"
                        for adapter_id in sorted(adapter_ids))

    def _refusal(self, adapter: AdapterInfo, on_evidence: Collection[str] | None) -> str | None:
        if adapter.fingerprint != self._fingerprint:
            return "distilled for another model"
        if adapter.damaged is not None:
            return f"damaged ({adapter.damaged})"
        if adapter.stale:
            return ("stale: it learned a note that was since deleted or changed "
                    "(a retrain without that note replaces it)")
        if on_evidence is None:
            return None
        if adapter.evidence == 0:
            return "it answered none of its check questions after distillation"
        if not set(adapter.items) & set(on_evidence):
            return f"none of the retrieved notes is among the {len(adapter.items)} it learned"
        return None


def _off_route(adapter: AdapterInfo, routed_to: Collection[str] | None) -> str | None:
    if routed_to is None or adapter.shard is None or set(adapter.items) & set(routed_to):
        return None
    return "routed to another shard: it did not learn the note nearest the question"


def _grounds(adapter: AdapterInfo, on_evidence: Collection[str] | None,
             routed_to: Collection[str] | None = None) -> str:
    shard = f"shard {adapter.shard.index + 1} of {adapter.shard.count}, " if adapter.shard else ""
    routed = routed_to is not None and adapter.shard is not None
    if on_evidence is None:
        return f"{shard}fresh, routed: it learned the note nearest the question" if routed \
            else f"{shard}fresh (parametric memory asked for without evidence)"
    checked = "not checked" if adapter.evidence is None else \
        f"answered {adapter.evidence} check questions"
    if routed:
        return f"{shard}fresh, {checked}, routed: it learned the best retrieved note"
    learned = len(set(adapter.items) & set(on_evidence))
    return f"{shard}fresh, {checked}, learned {learned} of the retrieved notes"
