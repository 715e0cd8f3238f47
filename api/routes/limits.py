"""The limits this service enforces, and how much of them the caller uses."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, MosDep
from api.limits import BODY_LIMIT, IMPORT_LIMIT
from api.routes import V1
from api.schemas.system import LimitsPublic
from memos.quotas import service_limits

router = APIRouter(prefix=V1, tags=["service"])


@router.get("/limits", response_model=LimitsPublic)
def limits(mos: MosDep, caller: CurrentUser):
    """Every limit (queues, jobs, quotas, request sizes) and the caller's current use."""
    queue = mos.model_queue.stats()
    usage = {"bytes": mos.items.text_bytes_of_owner(caller.user_id),
             "model_running": queue["running_by_user"].get(caller.user_id, 0),
             "model_queued": queue["queued_by_user"].get(caller.user_id, 0)}
    return LimitsPublic(**service_limits(mos.settings),
                        requests={"body_bytes": BODY_LIMIT, "import_bytes": IMPORT_LIMIT},
                        usage=usage)
