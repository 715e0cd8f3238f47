"""Service health and Prometheus metrics (no API key needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from api.deps import MosDep
from api.metrics import kernel_metrics
from memos import __version__
from storage.disk_space import DiskSpace

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


@router.get("/health", response_model=HealthPublic)
def health(mos: MosDep):
    """Model, device, dtype, fingerprint, version, and whether the home's disk is nearly full
    (status "disk_nearly_full" then; writes may soon be refused with 507)."""
    embedder = mos.embedder
    disk = DiskSpace.of(mos.home)
    return HealthPublic(status="disk_nearly_full" if disk.nearly_full else "ok",
                        version=__version__, **mos.engine.describe(), embedder=embedder.name,
                        embedding_dim=embedder.dim, disk_free_bytes=disk.free_bytes,
                        disk_total_bytes=disk.total_bytes, disk_nearly_full=disk.nearly_full)


@router.get("/metrics", response_class=PlainTextResponse, responses={
    200: {"content": {"text/plain": {"schema": {"type": "string"}}},
          "description": "Prometheus text format."}})
def metrics(request: Request, mos: MosDep):
    """Request counts and latencies, KV cache use per tier and job counts (Prometheus text)."""
    lines = request.app.state.metrics.render() + kernel_metrics(mos)
    return PlainTextResponse("\n".join(lines) + "\n",
                             media_type="text/plain; version=0.0.4; charset=utf-8")
