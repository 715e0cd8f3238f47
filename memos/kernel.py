"""MemOS: the embedded entry point that opens a home folder and hands out MemCubes."""

from __future__ import annotations

import logging
import shutil
import threading
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from memcube.access import Access, parse_access, require
from memcube.adapter_records import AdapterRecords
from memcube.archive import ImportTarget, export_cube, import_cube
from memcube.archive_reader import ArchiveLimits
from memcube.cube import MemCube
from memcube.cube_store import CubeInfo, CubeStore
from memcube.index_sync import IndexSync
from memcube.item_store import ItemStore
from memcube.linker import Linker
from memcube.plaintext_index import PlaintextIndex
from memcube.retrieval_log import RetrievalLog
from memcube.search import SearchHit, check_k, check_query
from memos.activation.kv_records import KvRecords
from memos.activation.promotion import ActivationPromotion
from memos.admission import AdmissionLimits, FairQueue
from memos.auth import KeyStore
from memos.chat_options import ChatOptions, chat_options
from memos.chat_scope import CubeAccess
from memos.cube_files import CubeFiles
from memos.cube_search import CubeSearch
from memos.export_ledger import ExportLedger
from memos.facade.activation import ActivationCalls
from memos.facade.jobs import JobCalls
from memos.facade.parametric import ParametricCalls
from memos.facade.service import ServiceCalls
from memos.facade.users import LOCAL_USER, UserCalls
from memos.forgetting import ForgetReport, Forgetting
from memos.quotas import Quotas
from memos.scheduler import JobStore, Memories, Scheduler
from memos.scheduler.forget_retrain import queue_forget_retrain
from memos.sessions import SessionStore
from memos.settings import Settings
from storage import change_log
from storage.blobs import BlobStore
from storage.cache_failures import CacheFailures
from storage.clock import Clock, SystemClock
from storage.database import Database, sqlite_url
from storage.errors import NotFound

if TYPE_CHECKING:  # these pull in torch, transformers and peft: imported when first used
    from memos.activation.memory import ActivationMemory
    from memos.chat import ChatPipeline, ChatReply
    from memos.parametric.memory import ParametricMemory


class MemOS(UserCalls, JobCalls, ActivationCalls, ParametricCalls, ServiceCalls):
    """A memory OS over one home folder: cubes, their memories, chat and distillation.

    Its public calls match ``memos.Client``'s one for one; each takes ``user`` (None: the
    local administrator) and checks that user's access itself."""

    def __init__(self, home: str | Path | None = None, *, settings: Settings | None = None,
                 engine=None, embedder=None, clock: Clock | None = None) -> None:
        self.settings = settings or Settings()
        if home is not None:
            self.settings = self.settings.model_copy(update={"home": Path(home)})
        self.home = Path(self.settings.home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.clock = clock or SystemClock()
        self.database = Database(self.settings.database_url or sqlite_url(self.home))
        self.database.migrate()
        self.cubes = CubeStore(self.database, self.clock)
        self.items = ItemStore(self.database, self.clock,
                               history_kept=self.settings.history_versions_kept)
        self.keys = KeyStore(self.database, self.clock)
        self.blobs = BlobStore(self.home / "blobs", self.database, self.clock)
        self.kv_records = KvRecords(self.database, self.clock)
        self.adapter_records = AdapterRecords(self.database)
        self._linker = Linker(self.database, self.clock)
        self._engine = engine
        self._embedder = embedder
        self._open_cubes: dict[str, MemCube] = {}
        self._lock = threading.RLock()
        self._scheduler: Scheduler | None = None
        self._prompts = None
        self._activation: ActivationMemory | None = None
        self._activation_promotion = ActivationPromotion(
            lambda: self.activation, lambda: self._activation, self.items,
            self.settings.activation_mode, self.home / "kv")
        self._adapters: ParametricMemory | None = None
        self._decoder = None
        self._chat_pipeline: ChatPipeline | None = None
        self.sessions = SessionStore(self.database, self.clock, self.settings.session_window)
        self.chat_failures = CacheFailures(logging.getLogger("memos.chat"))  # skipped write-backs
        self._search = CubeSearch(lambda: self.embedder)
        self.quotas = Quotas(self.settings.max_memories_per_cube,
                             self.settings.max_bytes_per_user)
        self.model_queue = FairQueue(AdmissionLimits(
            self.settings.model_max_running, self.settings.model_max_queued_per_user,
            self.settings.model_max_queued))

    @property
    def embedder(self):
        """The sentence embedder (loaded on first use unless one was passed in)."""
        with self._lock:
            if self._embedder is None:
                from memos.embedder import Embedder

                self._embedder = Embedder.load(self.settings.embedder, self.settings.device)
            return self._embedder

    @property
    def engine(self):
        """The chat model (loaded on first use unless one was passed in)."""
        with self._lock:
            if self._engine is None:
                from memos.engine import Engine, EngineConfig

                self._engine = Engine.load(EngineConfig(
                    model=self.settings.model, device=self.settings.device,
                    dtype=self.settings.dtype, models_dir=self.home / "models"))
            return self._engine

    @property
    def decoder(self):
        """What decodes chat replies: the continuous batcher, or the engine when batching is off."""
        with self._lock:
            if self._decoder is None and not self.settings.batching:
                self._decoder = self.engine
            elif self._decoder is None:
                from memos.engine.batching import BatchConfig, ContinuousBatcher

                self._decoder = ContinuousBatcher(self.engine, BatchConfig(
                    self.settings.model_max_running, self.settings.batch_prefill_tokens))
            return self._decoder

    @property
    def scheduler(self) -> Scheduler:
        """The memory scheduler: policies and jobs (the service starts its workers)."""
        with self._lock:
            if self._scheduler is None:
                self._scheduler = Scheduler(self._scheduler_memories(),
                                            JobStore(self.database, self.clock))
            return self._scheduler

    def _scheduler_memories(self) -> Memories:
        """What the scheduler's policies and jobs work with (the model loads when first used)."""
        return Memories(self.settings, self.clock, self.cubes, self.get_cube, self.items,
                        RetrievalLog(self.database), self.adapter_records,
                        activation=self._activation_promotion, parametric=lambda: self.adapters,
                        enforce_budgets=self.enforce_budgets,
                        prune_changes=partial(change_log.prune, self.database))

    def create_cube(self, name: str, description: str = "", settings: dict | None = None,
                    owner: str | None = None, user: str | None = None) -> MemCube:
        """A new, empty cube owned by ``owner`` (default: ``user``, else the local user)."""
        info = self.cubes.create(name, owner or user or LOCAL_USER, description, settings)
        return self.get_cube(info.id)

    def get_cube(self, cube_id: str, user: str | None = None,
                 needed: Access = Access.READ) -> MemCube:
        """An existing cube (NotFound unless ``user`` may see it)."""
        require(self.cubes.access_of(cube_id, user), needed, cube_id)
        info = self.cubes.get(cube_id)  # fresh: another process may have changed it
        with self._lock:
            cube = self._open_cubes.get(cube_id)
            if cube is None:
                cube = self._open_unless_deleted(info)
                self._open_cubes[cube_id] = cube
            cube.info = info
            return cube

    def list_cubes(self, user: str | None = None) -> list[CubeInfo]:
        """Cubes ``user`` may read (all of them for the local caller)."""
        return self.cubes.visible_to(user)

    def update_cube(self, cube_id: str, user: str | None = None, **fields) -> CubeInfo:
        """Rename a cube or change its description or settings."""
        require(self.cubes.access_of(cube_id, user), Access.OWNER, cube_id)
        return self.cubes.update(cube_id, **fields)  # open cubes read it at their next use

    def delete_cube(self, cube_id: str, user: str | None = None) -> None:
        """Delete a cube and everything in it: notes, history, KV chunks, adapters, files."""
        require(self.cubes.access_of(cube_id, user), Access.OWNER, cube_id)
        with self._lock:
            self._open_cubes.pop(cube_id, None)
        self.forget_kv([item.text for _, item in self.items.indexable(cube_id)])
        files = CubeFiles.of(self.kv_records, self.adapter_records, cube_id)
        self.cubes.delete(cube_id)
        files.remove(self.home, self._activation, self._adapters)
        shutil.rmtree(self.cube_dir(cube_id), ignore_errors=True)

    def share_cube(self, cube_id: str, with_user: str, access: str | None,
                   user: str | None = None) -> CubeInfo:
        """Give another user read or write access (``None`` revokes it). A user may also
        leave a cube shared with them (an unwanted share): ``with_user`` themselves, None."""
        leaving = access is None and user is not None and with_user == user
        require(self.cubes.access_of(cube_id, user), Access.READ if leaving else Access.OWNER,
                cube_id)
        self.cubes.share(cube_id, with_user, parse_access(access) if access else None)
        return self.cubes.get(cube_id)

    def search(self, query: str, cube_ids: Sequence[str] | None = None, k: int = 10,
               user: str | None = None, **filters) -> list[SearchHit]:
        """Search several readable cubes at once; hits merged by score."""
        check_k(k)
        check_query(query)
        return self.search_cubes(query, self.readable_cubes(cube_ids, user), k, **filters)

    def readable_cubes(self, cube_ids: Sequence[str] | None,
                       user: str | None = None) -> list[MemCube]:
        """These cubes (each once, in order), or every cube ``user`` may read when None;
        NotFound for one ``user`` may not see."""
        return CubeAccess(self.cubes, self.get_cube).readable(cube_ids, user)

    def search_cubes(self, query: str, cubes: Sequence[MemCube], k: int = 10,
                     **filters) -> list[SearchHit]:
        """Search cubes opened for the caller (their access was checked when they were
        opened); hits merged by score."""
        return self._search(query, cubes, k, **filters)

    @property
    def prompts(self):
        """How chat prompts are cut into cacheable pieces."""
        with self._lock:
            if self._prompts is None:
                from memos.prompt import PromptBuilder

                self._prompts = PromptBuilder(self.engine, layout=self.settings.prompt_layout)
            return self._prompts

    @property
    def activation(self) -> ActivationMemory:
        """The KV chunk cache and prompt assembler (activation memory)."""
        with self._lock:
            if self._activation is None:
                from memos.activation.memory import ActivationMemory

                self._activation = ActivationMemory(
                    self.engine, self.prompts, self.home / "kv", self.settings, self.kv_records)
            return self._activation

    @property
    def adapters(self) -> ParametricMemory:
        """Distilled LoRA adapters and their attachment (parametric memory)."""
        with self._lock:
            if self._adapters is None:
                from memos.parametric.memory import ParametricMemory

                self._adapters = ParametricMemory(
                    self.engine, self.home, self.adapter_records, self.items, self.clock,
                    self.settings.adapter_budget_mib << 20,
                    self.settings.adapter_check_questions,
                    on_stale=lambda cube_id: queue_forget_retrain(self.scheduler, cube_id))
            return self._adapters

    def chat(self, messages: Sequence[dict], cube_ids: Sequence[str] | None = None, *,
             options: ChatOptions | None = None, user: str | None = None,
             cancel: threading.Event | None = None, **fields) -> ChatReply:
        """Answer a conversation with memories retrieved from ``cube_ids``; a ChatReply.
        ``options``, or ChatOptions' fields as keywords (``k=3, max_new_tokens=64``)."""
        opts = chat_options(options, fields, self.settings.chat_max_seconds)
        return self._chat().chat(messages, cube_ids, opts, user=user, cancel=cancel)

    def chat_stream(self, messages: Sequence[dict], cube_ids: Sequence[str] | None = None, *,
                    options: ChatOptions | None = None, user: str | None = None,
                    cancel: threading.Event | None = None,
                    **fields) -> Iterator[str | ChatReply]:
        """Like ``chat``, yielding text deltas and then the ChatReply."""
        opts = chat_options(options, fields, self.settings.chat_max_seconds)
        return self._chat().stream(messages, cube_ids, opts, user=user, cancel=cancel)

    def chat_prompt_ids(self, messages: Sequence[dict], cube_ids: Sequence[str] | None = None,
                        *, options: ChatOptions | None = None, user: str | None = None,
                        **fields) -> list[int]:
        """The prompt token ids ``chat`` would use for this conversation."""
        opts = chat_options(options, fields)
        return self._chat().prompt_ids(messages, cube_ids, opts, user=user)

    def _forgotten(self, cube_id: str, texts: Sequence[str], item_ids: Sequence[str],
                   erase: bool = True) -> None:
        """Notes left search or changed: drop them from KV (and, when erased, sessions and
        jobs); adapters that learned them retrain without them."""
        self.forget_memories(cube_id, texts, item_ids, erase)
        queue_forget_retrain(self.scheduler, cube_id)

    def forget_memories(self, cube_id: str, texts: Sequence[str], item_ids: Sequence[str],
                        erase: bool = True) -> ForgetReport:
        """Drop notes that left a cube from KV; ``erase`` scrubs sessions and jobs too."""
        return self._forgetting().forget(cube_id, texts, item_ids, erase)

    def _forgetting(self) -> Forgetting:
        return Forgetting(self.cubes, self.sessions, self.scheduler.jobs, self.forget_kv)

    def forget_check(self, cube_id: str, item_ids: Sequence[str] = (),
                     texts: Sequence[str] = (), probe_model: bool = True,
                     user: str | None = None) -> dict:
        """Where anything of these notes remains (SQL, indexes, sessions, KV, jobs, adapters),
        and whether search or the model still states them (``probe_model``: ask the model)."""
        from memos.forget_check import ForgetCheck

        cube = self.get_cube(cube_id, user, needed=Access.OWNER)
        return ForgetCheck(self, cube, self._forgetting(), user).run(item_ids, texts,
                                                                     probe_model)

    def enforce_budgets(self) -> dict:
        """Evict KV chunks and loaded adapters over their byte budgets; what is left."""
        kv = self.activation.cache.stats() if self._activation is not None else {}
        loaded = self._adapters.manager.loaded_bytes if self._adapters is not None else 0
        return {"kv": kv, "adapter_bytes": loaded}

    def export_cube(self, cube_id: str, path: str | Path, user: str | None = None) -> dict:
        """Write a cube to a portable archive."""
        self.get_cube(cube_id, user).save_indexes()
        manifest = export_cube(self.database, cube_id, Path(path), self.home / "adapters")
        ExportLedger(self.home).record(cube_id, Path(path))
        return manifest

    def import_cube(self, path: str | Path, name: str | None = None, owner: str | None = None,
                    user: str | None = None) -> MemCube:
        """Recreate an archived cube as a new cube of ``owner`` (default: ``user``, else the
        local user), with fresh ids; ``name`` renames it."""
        owner = self.cubes.ensure_user(owner or user or LOCAL_USER)
        target = ImportTarget(owner=owner, adapters_root=self.home / "adapters",
                              embedding_dim=self.embedder.dim, name=name,
                              limits=self._archive_limits(), quota=self.quotas.check_import)
        return self.get_cube(import_cube(self.database, Path(path), target))

    def _archive_limits(self) -> ArchiveLimits:
        return ArchiveLimits(max_total_bytes=self.settings.archive_max_mib << 20,
                             max_member_bytes=self.settings.archive_max_mib << 20,
                             max_ratio=self.settings.archive_max_ratio)

    def cube_dir(self, cube_id: str) -> Path:
        """Folder of a cube's files (indexes, adapters)."""
        return self.home / "cubes" / cube_id

    def close(self) -> None:
        """Save derived indexes and release the database."""
        if self._scheduler is not None:
            self._scheduler.stop()
        if self._decoder is not None and self._decoder is not self._engine:
            self._decoder.close()
        if self._adapters is not None:
            self._adapters.manager.unload_all()  # hand the engine back without LoRA layers
        with self._lock:
            for cube in self._open_cubes.values():
                cube.save_indexes()
            self._open_cubes.clear()
        self.database.close()

    def __enter__(self) -> MemOS:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _chat(self) -> ChatPipeline:
        with self._lock:
            if self._chat_pipeline is None:
                from memos.chat import ChatPipeline
                from memos.parametric.adapter_sets import AdapterSets
                from memos.turn_memories import TurnMemories

                self._chat_pipeline = ChatPipeline(
                    cubes=CubeAccess(self.cubes, self.get_cube), search=self._search,
                    prompts=self.prompts, engine=self.engine, decoder=self.decoder,
                    activation=lambda: self.activation, parametric=self.adapters,
                    adapter_sets=AdapterSets(self.adapters, self.engine.fingerprint),
                    sessions=self.sessions, turn_memories=TurnMemories(self.items),
                    failures=self.chat_failures, clock=self.clock, settings=self.settings)
            return self._chat_pipeline

    def _open_unless_deleted(self, info: CubeInfo) -> MemCube:
        """Open a cube; NotFound when it was deleted meanwhile (its folder going away under
        the index being opened)."""
        try:
            return self._open(info)
        except OSError:
            if self.cubes.access_of(info.id, None) == Access.NONE:
                raise NotFound(f"no cube {info.id!r}") from None
            raise

    def _open(self, info: CubeInfo) -> MemCube:
        sync = IndexSync(info.id, self.database, self.items, self._linker,
                         forget_kv=self.forget_kv, clock=self.clock,
                         resync_after_s=self.settings.change_log_keep_s / 2)
        sync.applied = sync.head()  # read first: changes made while loading are replayed
        index = PlaintextIndex.open(self.cube_dir(info.id) / "index", self.embedder.dim,
                                    self.items.indexable(info.id), self._linker.rows(info.id))
        return MemCube(info, items=self.items, index=index, embedder=self.embedder,
                       linker=self._linker, exporter=self.export_cube,
                       quota=self.quotas.check_add,
                       forget=partial(self._forgotten, info.id), sync=sync)

