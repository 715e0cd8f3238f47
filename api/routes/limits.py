"""The limits this service enforces, and how much of them the caller uses."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, MosDep
from api.limits import BODY_LIMIT, IMPORT_LIMIT
from api.routes import V1
from api.schemas.system import LimitsPublic

router = APIRouter(prefix=V1, tags=["service"])


@router.get("/limits", response_model=LimitsPublic)
def limits(mos: MosDep, caller: CurrentUser):
    """Every limit (queues, jobs, quotas, request sizes) and the caller's current use."""
    return LimitsPublic(**mos.limits(caller.user_id),
                        requests={"body_bytes": BODY_LIMIT, "import_bytes": IMPORT_LIMIT})
