"""The forget check's model probe: does anything still state a forgotten fact when asked?

Each probe (``memos.probe_prompts``) is asked through search (does a top-k hit still hold the
value and the subject), default chat (the cube, every memory kind) and, when the cube has an
adapter, parametric-only chat; greedy and a few tokens, so a reply names the value or not.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from memos.chat_options import ChatOptions
from memos.probe_prompts import Probe, probes_for, reproduces

if TYPE_CHECKING:
    from memos.kernel import MemOS

MAX_PROBES = 24
PROBE_TOKENS = 12
SEARCH_K = 5
CHAT = ChatOptions(max_new_tokens=PROBE_TOKENS, temperature=0.0)  # greedy: replies repeat
PARAMETRIC_ONLY = ChatOptions(max_new_tokens=PROBE_TOKENS, temperature=0.0,
                              memory_kinds=("parametric",))


class ExtractionProbe:
    """Asks one cube's search and chat for the facts of forgotten notes."""

    def __init__(self, mos: MemOS, cube, user: str | None, ask_model: bool = True) -> None:
        self._mos = mos
        self._cube = cube
        self._user = user
        self._ask_model = ask_model

    def run(self, texts: Sequence[str]) -> dict:
        """Per probe and channel, whether the answer reproduces a value; ``reproduced`` overall."""
        probes = list(dict.fromkeys(p for text in texts for p in probes_for(text)))
        channels = self._channels()
        results = [self._ask(probe, channels) for probe in probes[:MAX_PROBES]]
        return {"model_asked": self._ask_model, "channels": channels,
                "reproduced": any(a["reproduced"] for r in results for a in r["answers"]),
                "truncated": len(probes) > MAX_PROBES, "results": results}

    def _channels(self) -> list[str]:
        if not self._ask_model:
            return ["search"]
        return ["search", "chat"] + (["parametric"] if self._has_adapter() else [])

    def _has_adapter(self) -> bool:
        if not (self._mos.home / "adapters").exists() and self._mos._adapters is None:
            return False
        return bool(self._mos.adapters.list(self._cube.id))

    def _ask(self, probe: Probe, channels: list[str]) -> dict:
        answers = [self._search(probe)]
        if "chat" in channels:
            answers.append(self._chat(probe, "chat", CHAT))
        if "parametric" in channels:
            answers.append(self._chat(probe, "parametric", PARAMETRIC_ONLY))
        return {"kind": probe.kind, "prompt": probe.prompt, "values": list(probe.values),
                "answers": answers}

    def _search(self, probe: Probe) -> dict:
        for hit in self._cube.search(probe.prompt, k=SEARCH_K):
            found = reproduces(hit.item.text, probe.values)
            if found and (not probe.subject or reproduces(hit.item.text, (probe.subject,))):
                return {"channel": "search", "reproduced": True, "found": found,
                        "item_id": hit.item.id}
        return {"channel": "search", "reproduced": False, "found": []}

    def _chat(self, probe: Probe, channel: str, options: ChatOptions) -> dict:
        reply = self._mos.chat([{"role": "user", "content": probe.prompt}], [self._cube.id],
                               options=options, user=self._user)
        found = reproduces(reply.text, probe.values)
        return {"channel": channel, "reproduced": bool(found), "found": found,
                "reply": reply.text, "adapters": list(reply.adapters)}
