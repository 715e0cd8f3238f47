"""Service health (no API key needed) and Prometheus metrics (admin key or metrics token)."""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api.deps import UNAUTHORIZED, Credentials, KeysDep, MosDep
from api.metrics import kernel_metrics
from storage.disk_space import DiskSpace

if TYPE_CHECKING:
    from memos.kernel import MemOS

router = APIRouter(tags=["service"])


class HealthPublic(BaseModel):
    """What the service runs on."""

    status: str
    version: str
    model: str
    device: str
    dtype: str
    fingerprint: str
    embedder: str
    embedding_dim: int
    disk_free_bytes: int
    disk_total_bytes: int
    disk_nearly_full: bool


class ReadyPublic(BaseModel):
    """Whether the service takes model work now, and how busy its model queue is."""

    ready: bool
    running: int
    queued: int


@router.get("/ready", response_model=ReadyPublic, responses={503: {"model": ReadyPublic}})
def ready(mos: MosDep):
    """200 while the model queue has room; 503 (with Retry-After) while it is full."""
    queue = mos.model_queue
    stats = queue.stats()
    body = ReadyPublic(ready=stats["queued"] < queue.limits.max_queued, running=stats["running"],
                       queued=stats["queued"])
    if body.ready:
        return body
    return JSONResponse(body.model_dump(), status_code=503,
                        headers={"Retry-After": str(queue.limits.retry_after_s)})


@router.get("/health", response_model=HealthPublic)
async def health(request: Request):
    """Model, device, dtype, fingerprint, version, and whether the home's disk is nearly full
    (status "disk_nearly_full" then; writes may soon be refused with 507). Answered on the
    event loop, so it stays fast while the model is busy."""
    state = request.app.state
    if getattr(state, "health", None) is None:  # described once, after the models load
        state.health = await run_in_threadpool(describe_service, state.mos)
    disk = DiskSpace.of(state.mos.home)
    return state.health.model_copy(update={
        "status": "disk_nearly_full" if disk.nearly_full else "ok",
        "disk_free_bytes": disk.free_bytes, "disk_total_bytes": disk.total_bytes,
        "disk_nearly_full": disk.nearly_full})


def describe_service(mos: MemOS) -> HealthPublic:
    """What the service runs on (loads the model and embedder if they are not loaded)."""
    return HealthPublic(**mos.health())


def metrics_reader(request: Request, keys: KeysDep, credentials: Credentials) -> None:
    """Admit the metrics token (when one is set) or an administrator's API key."""
    if credentials is None:
        raise HTTPException(401, "metrics need the metrics token or an admin API key",
                            headers=UNAUTHORIZED)
    token = request.app.state.settings.metrics_token
    if token and hmac.compare_digest(credentials.credentials.encode(), token.encode()):
        return
    caller = keys.user_for_key(credentials.credentials)
    if caller is None:
        raise HTTPException(401, "invalid metrics token or API key", headers=UNAUTHORIZED)
    if not caller.is_admin:
        raise HTTPException(403, "metrics need the metrics token or an admin API key")


@router.get("/metrics", response_class=PlainTextResponse, dependencies=[Depends(metrics_reader)],
            responses={
    200: {"content": {"text/plain": {"schema": {"type": "string"}}},
          "description": "Prometheus text format."}})
def metrics(request: Request, mos: MosDep):
    """Request counts and latencies, KV cache use per tier and job counts (Prometheus text)."""
    lines = request.app.state.metrics.render() + kernel_metrics(mos)
    return PlainTextResponse("\n".join(lines) + "\n",
                             media_type="text/plain; version=0.0.4; charset=utf-8")
