"""Memory-augmented chat: retrieve notes, assemble the prompt from cached KV, attach adapters.

The pipeline runs in a worker thread that feeds a queue, so the engine lock and any attached
adapter are taken and released in one thread while the caller consumes deltas at its pace.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from memcube.access import Access
from memcube.search import SearchHit
from memcube.validation import check_text
from memos.chat_options import MEMORY_KINDS, ChatOptions, check_activation_mode
from memos.chat_port import Decoder
from memos.chat_scope import CubeAccess, CubeScope
from memos.cube_search import CubeSearch
from memos.engine import DecodeControl, DecodeTiming, GenerationConfig, GenerationStats
from memos.prompt import PromptBuilder, PromptPlan
from memos.sessions import SessionStore
from memos.settings import Settings
from memos.turn_memories import TurnMemories
from storage.cache_failures import CacheFailures
from storage.clock import Clock
from storage.errors import InvalidInput, StorageFull

if TYPE_CHECKING:  # torch, transformers and peft: only named here
    from memos.activation.memory import ActivationMemory
    from memos.engine import Engine
    from memos.parametric.adapter_sets import AdapterSets
    from memos.parametric.memory import ParametricMemory

__all__ = ["MEMORY_KINDS", "ChatOptions", "ChatPipeline", "ChatReply", "check_messages"]
ROLES = ("system", "user", "assistant")
MAX_MESSAGE_CHARS = 20_000
_DONE = object()


@dataclass(slots=True)
class ChatReply:
    """An answer, the memories it was given, and where the time and tokens went."""

    text: str
    memories: list[SearchHit]
    stats: GenerationStats
    finish_reason: str = "length"
    adapters: list[str] = field(default_factory=list)


class ChatPipeline:
    """One chat turn: retrieval → prompt pieces → cached KV assembly → adapters → decoding."""

    def __init__(self, *, cubes: CubeAccess, search: CubeSearch, prompts: PromptBuilder,
                 engine: Engine, decoder: Decoder, activation: Callable[[], ActivationMemory],
                 parametric: ParametricMemory, adapter_sets: AdapterSets,
                 sessions: SessionStore, turn_memories: TurnMemories, failures: CacheFailures,
                 clock: Clock, settings: Settings) -> None:
        self._cubes, self._search, self._prompts = cubes, search, prompts
        self._engine, self._decoder = engine, decoder
        self._activation = activation  # built on first use: a chat may never need the KV cache
        self._parametric, self._adapter_sets = parametric, adapter_sets
        self.sessions, self.turn_memories, self.failures = sessions, turn_memories, failures
        self._clock, self._settings = clock, settings

    def chat(self, messages: Sequence[dict], cube_ids: Sequence[str] | None,
             options: ChatOptions, *, user: str | None = None,
             cancel: threading.Event | None = None) -> ChatReply:
        """Answer the conversation using memories from ``cube_ids`` (all readable if None)."""
        *_, reply = self.stream(messages, cube_ids, options, user=user, cancel=cancel)
        return reply

    def stream(self, messages: Sequence[dict], cube_ids: Sequence[str] | None,
               options: ChatOptions, *, user: str | None = None,
               cancel: threading.Event | None = None) -> Iterator[str | ChatReply]:
        """Like ``chat`` but yields text deltas as they are produced, then the ChatReply.

        Setting ``cancel``, or closing the iterator early, stops the decoding within a token.
        """
        messages = check_messages(messages)
        # The request's one access check, whatever kinds are asked for: NotFound, as for a
        # random id, unless every cube named is readable; later steps use the cubes opened here.
        scope = CubeScope(self._cubes, cube_ids, user)
        cancel = cancel or threading.Event()
        parts: queue.Queue = queue.Queue()
        worker = threading.Thread(target=self._produce, daemon=True, name="memos-chat",
                                  args=(parts, messages, cube_ids, scope, user, options, cancel))
        worker.start()
        try:
            while (part := parts.get()) is not _DONE:
                if isinstance(part, BaseException):
                    raise part
                yield part
        finally:
            cancel.set()  # a consumer that stopped early no longer wants the reply

    def prompt_ids(self, messages: Sequence[dict], cube_ids: Sequence[str] | None,
                   options: ChatOptions, *, user: str | None = None) -> list[int]:
        """The token ids ``chat`` would prompt the model with (they never depend on the cache)."""
        conversation = self._with_session(check_messages(messages), options.session_id, user)
        scope = CubeScope(self._cubes, cube_ids, user)
        hits = self._retrieve(_last_user_turn(conversation), scope, options)
        return self._prompt(conversation, hits, cube_ids, scope, user, options).token_ids

    def _produce(self, parts: queue.Queue, messages, cube_ids, scope: CubeScope, user,
                 options: ChatOptions, cancel) -> None:
        try:
            for part in self._run(messages, cube_ids, scope, user, options, cancel):
                parts.put(part)
        except BaseException as error:  # handed to the consumer, who raises it
            parts.put(error)
        finally:
            parts.put(_DONE)

    def _run(self, messages: list[dict], cube_ids, scope: CubeScope, user,
             opts: ChatOptions, cancel):
        started = time.perf_counter()
        target = self._write_back_cube(cube_ids, user) if _writes_back(opts) else None
        conversation = self._with_session(messages, opts.session_id, user)
        hits = self._retrieve(_last_user_turn(conversation), scope, opts)
        plan = self._prompt(conversation, hits, cube_ids, scope, user, opts)
        self._check_context(len(plan.token_ids), opts.max_new_tokens)
        adapter_ids, adapter_notes = self._adapters(scope, opts, hits,
                                                    _last_user_turn(conversation))
        mode = self._activation_mode(scope, opts)
        if mode == "exact" and hits:
            self._record_memory_set(hits, user)
        stats = GenerationStats()
        stats.notes.extend(adapter_notes)
        adapter_ids = self._parametric.loadable(adapter_ids)
        control = self._control(opts, cancel, adapter_ids)
        deltas: list[str] = []
        for delta in self._decode(plan, mode, stats, opts, started, control, adapter_ids,
                                  user):
            deltas.append(delta)
            yield delta
        text = "".join(deltas)
        if control.stopped != "cancelled":  # nobody wants a cancelled reply: nothing stored
            self._write_back(target or self._session_cube(cube_ids, user, opts), opts,
                             messages, text, user, stats,
                             sources=_sources(hits, scope if adapter_ids else None))
            _forget_departed(scope, hits)
        finish = control.stopped or (
            "stop" if stats.completion_tokens < opts.max_new_tokens else "length")
        yield ChatReply(text, hits, stats, finish, adapter_ids)

    def _write_back(self, cube, opts: ChatOptions, messages: list[dict], answer: str, user,
                    stats: GenerationStats, sources: Sequence[str]) -> None:
        try:
            self._remember(cube, opts, messages, answer, user, sources)
        except StorageFull as error:  # the answer stands; only its write-back was refused
            self.failures.record("write-back", error)
            stats.notes.append(f"turns not stored: {error}")

    def _control(self, opts: ChatOptions, cancel, adapter_ids: list[str]) -> DecodeControl:
        """Cancel flag and time limit; an adapter is attached per forward pass, under the
        engine lock, so no other request sees it and none waits for a whole reply."""
        guard = (lambda: self._parametric.attached(adapter_ids)) if adapter_ids else None
        return DecodeControl(cancel=cancel, max_seconds=opts.max_seconds, step_guard=guard,
                             group=",".join(sorted(adapter_ids)))

    def _decode(self, plan: PromptPlan, mode: str, stats: GenerationStats, opts: ChatOptions,
                started: float, control: DecodeControl, adapter_ids: list[str],
                user: str | None) -> Iterator[str]:
        decoder = self._decoder  # the continuous batcher, or the engine alone
        if mode == "blend" and adapter_ids:  # blend's chunks are cached without adapters
            stats.notes.append("activation mode exact: blended chunks have no adapter's KV")
            mode = "exact"
        stats.activation_mode = mode
        if mode == "off":
            yield from decoder.stream_from(plan.token_ids, None, _generation(opts), stats,
                                          DecodeTiming(started_at=started), control=control)
            return
        activation = self._activation()
        with control.step_guard() if control.step_guard else nullcontext():  # KV of the adapter
            assembled = activation.assemble(plan, mode, self._adapter_sets.kv_key(adapter_ids),
                                            defer_prefill=decoder is not self._engine,
                                            tenant=user)
        stats.cache_hits, stats.cache_misses = assembled.hits, assembled.misses
        if mode == "exact":
            stats.exact_reused_tokens = assembled.reused_tokens
        else:
            stats.approx_reused_tokens = assembled.reused_tokens
        stats.notes.extend(assembled.notes)
        yield from decoder.stream_from(assembled.token_ids, assembled.cache, _generation(opts),
                                      stats, DecodeTiming(started, assembled.reused_tokens),
                                      assembled.logits, control=control)
        if control.stopped != "cancelled":
            activation.commit(assembled)  # after decoding: storing never delays the first token

    def _record_memory_set(self, hits: list[SearchHit], user: str | None) -> None:
        """Count the set of one cube's notes a prompt placed (the scheduler pins hot ones, in
        the KV namespace of the tenant whose chats place them most)."""
        cubes = {hit.item.cube_id for hit in hits}
        if len(cubes) == 1:
            self._activation().memory_sets.record(
                self._clock.now(), cubes.pop(), sorted(hit.item.id for hit in hits), user)

    def _activation_mode(self, scope: CubeScope, opts: ChatOptions) -> str:
        """The request's mode, else the first cube's setting, else the server's; ``off``
        when activation memory is not among the request's memory kinds."""
        if "activation" not in opts.memory_kinds:
            return "off"
        if opts.activation_mode is not None:
            return opts.activation_mode
        for cube in scope.cubes() if scope.asked else ():  # asked for, not all readable
            chosen = cube.settings.get("activation_mode")
            if chosen is not None:
                check_activation_mode(chosen)
                return chosen
        return self._settings.activation_mode

    def _prompt(self, conversation: list[dict], hits, cube_ids, scope: CubeScope, user,
                opts: ChatOptions) -> PromptPlan:
        """The prompt's pieces; earlier user turns keep the memories they were given."""
        placed = self._prompt_order(hits)
        self.turn_memories.remember(self._turn_key(_last_user_turn(conversation), cube_ids,
                                                   user, opts), placed)
        readable = set(scope.ids()) if self._prompts.keeps_turn_memories else set()
        earlier = [
            self.turn_memories.texts(
                self._turn_key(text, cube_ids, user, opts),
                lambda text=text: self._prompt_order(self._retrieve(text, scope, opts)),
                readable)
            for text in _user_turns(conversation)[:-1]
        ] if self._prompts.keeps_turn_memories else []
        return self._prompts.build(conversation, [hit.item.text for hit in placed], earlier)

    def _prompt_order(self, hits: list[SearchHit]) -> list[SearchHit]:
        """Canonical order (oldest note first), so a set of notes always reads the same and
        prompts share prefixes whatever the ranking; or plain rank order (a setting)."""
        if self._settings.memory_order == "rank":
            return list(hits)
        return sorted(hits, key=canonical_order)

    def _turn_key(self, text: str, cube_ids, user, opts: ChatOptions) -> tuple:
        return (user, tuple(cube_ids or ()), text, opts.k, opts.memory_token_budget,
                "plaintext" in opts.memory_kinds)

    def _retrieve(self, query: str, scope: CubeScope, opts: ChatOptions):
        """Hits for one user turn within the token budget, best first."""
        if opts.k == 0 or "plaintext" not in opts.memory_kinds or not query.strip():
            return []
        hits = self._search(query, scope.cubes(), k=opts.k, current_only=True)
        return _within_budget(hits, self._prompts, opts.memory_token_budget)

    def _adapters(self, scope: CubeScope, opts: ChatOptions, hits: list[SearchHit],
                  question: str) -> tuple[list[str], list[str]]:
        if "parametric" not in opts.memory_kinds:
            return [], []
        on_evidence = {hit.item.id for hit in hits} if "plaintext" in opts.memory_kinds \
            and self._settings.adapter_attach == "evidence" else None
        routed = None
        if self._settings.adapter_routing == "nearest":  # one shard per cube, never a sum
            routed = self._route(hits, on_evidence, question, scope)
        return self._adapter_sets.attachable(scope.ids(), on_evidence, routed_to=routed)

    def _route(self, hits: list[SearchHit], on_evidence: set[str] | None, question: str,
               scope: CubeScope) -> set[str]:
        """The notes whose shards may attach: each cube's best hit; with nothing retrieved,
        the nearest note (it routes, never enters the prompt), unless evidence is asked for
        (then no adapter attaches anyway, so nothing is searched)."""
        if hits or on_evidence is not None:
            return _best_per_cube(hits)
        return self._nearest_notes(question, scope)

    def _nearest_notes(self, question: str, scope: CubeScope) -> set[str]:
        """The id of the note nearest the question in each cube with sharded adapters (what
        parametric-only chat routes by)."""
        if not question.strip():
            return set()
        routed = [cube for cube in scope.cubes() if self._adapter_sets.routes(cube.id)]
        return {hit.item.id for cube in routed
                for hit in self._search(question, [cube], k=1, current_only=True)}

    def _check_context(self, prompt_tokens: int, max_new_tokens: int) -> None:
        limit = getattr(self._engine.model.config, "max_position_embeddings", None)
        if limit and prompt_tokens + max_new_tokens > limit:
            raise InvalidInput(f"prompt ({prompt_tokens} tokens) plus max_new_tokens "
                               f"({max_new_tokens}) exceeds the model's context of {limit}")

    def _with_session(self, messages: list[dict], session_id: str | None,
                      user: str | None) -> list[dict]:
        if session_id is None:
            return messages
        system = [m for m in messages if m.get("role") == "system"]
        rest = [m for m in messages if m.get("role") != "system"]
        return system + self.sessions.recent(session_id, owner=user) + rest

    def _write_back_cube(self, cube_ids, user):
        if not cube_ids:
            raise InvalidInput("write-back needs cube_ids (the first one receives the turns)")
        return self._cubes.open(cube_ids[0], user, Access.WRITE)

    def _session_cube(self, cube_ids, user, opts: ChatOptions):
        """Where turns leaving a session's window go: the first cube, if the caller may write."""
        if opts.session_id is None or not cube_ids:
            return None
        return self._cubes.writable(cube_ids[0], user)

    def _remember(self, cube, opts: ChatOptions, messages: list[dict], answer: str,
                  user, sources: Sequence[str]) -> None:
        """Store the exchange: in the write-back cube when asked, and in the session (with
        the cubes whose memories it was given: their forgets may scrub it)."""
        turns = [{"role": "user", "content": _last_user_turn(messages)},
                 {"role": "assistant", "content": answer}]
        turns = [turn for turn in turns if turn["content"].strip()]
        if cube is not None and _writes_back(opts):
            stored = turns if opts.write_back_reply else turns[:1]
            for turn in stored:
                _store_turn(cube, turn, user, opts.session_id)
        if opts.session_id is not None:
            spill = (lambda turn: _store_turn(cube, turn, user, opts.session_id)) if cube else None
            self.sessions.append(opts.session_id, turns, spill, owner=user, sources=sources)


def check_messages(messages: Sequence[dict]) -> list[dict]:
    """A conversation: role and text of each turn, checked before anything runs or is kept."""
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
        raise InvalidInput("messages must be a list of {role, content} objects")
    checked = []
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise InvalidInput(f"each message needs a role, one of {ROLES}, and a content")
        content = check_text(message.get("content") or "", "a message's content",
                             MAX_MESSAGE_CHARS)
        checked.append({**message, "content": content})
    return checked


def _sources(hits: Sequence[SearchHit], with_adapters: CubeScope | None) -> list[str]:
    """The cubes a reply drew on: those of the memories placed in its prompt, and every cube
    in scope when adapters were attached (their weights learned the scope's notes)."""
    cubes = [hit.item.cube_id for hit in hits]
    if with_adapters is not None:
        cubes += with_adapters.ids()
    return list(dict.fromkeys(cubes))


def _forget_departed(scope: CubeScope, hits: Sequence[SearchHit]) -> None:
    """A note deleted or rewritten while the reply was decoded was forgotten before this
    chat stored its KV and session turns: forget it again now that they are stored."""
    seen: dict[str, list] = {}
    for hit in hits:
        seen.setdefault(hit.item.cube_id, []).append(hit.item)
    for cube in scope.cubes():
        if cube.id in seen:
            cube.forget_departed(seen[cube.id])


def _writes_back(opts: ChatOptions) -> bool:
    return opts.write_back or opts.write_back_reply


def _store_turn(cube, turn: dict, user, session_id: str | None) -> None:
    cube.add(turn["content"], metadata={"role": turn["role"]}, source_type="chat",
             actor=user, session_id=session_id, force=True)


def canonical_order(hit: SearchHit) -> tuple:
    """Sort key of a memory in the prompt: creation time, then insertion order."""
    return hit.item.created_at, hit.item.seq, hit.item.id


def _generation(opts: ChatOptions) -> GenerationConfig:
    """The decoding settings of a turn."""
    return GenerationConfig(max_new_tokens=opts.max_new_tokens, temperature=opts.temperature,
                            top_p=opts.top_p, seed=opts.seed, stop=tuple(opts.stop))


def _user_turns(messages: Sequence[dict]) -> list[str]:
    return [m.get("content") or "" for m in messages if m.get("role") == "user"]


def _last_user_turn(messages: Sequence[dict]) -> str:
    return next((m.get("content") or "" for m in reversed(messages) if m.get("role") == "user"),
                "")


def _best_per_cube(hits: list[SearchHit]) -> set[str]:
    """The id of each cube's best hit (hits come best first)."""
    best: dict[str, str] = {}
    for hit in hits:
        best.setdefault(hit.item.cube_id, hit.item.id)
    return set(best.values())


def _within_budget(hits: list[SearchHit], prompts: PromptBuilder, budget: int):
    """Hits in rank order while their whole chunks fit the token budget."""
    kept, used = [], 0
    for hit in hits:
        cost = len(prompts.chunk_ids(hit.item.text))
        if used + cost > budget:
            break
        kept.append(hit)
        used += cost
    return kept


