"""Hybrid search, in one cube or across every cube the caller may read."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import CurrentUser, MosDep, ReadableCube
from api.routes import V1
from api.schemas.memories import CubeSearch, HitPublic, HitsPublic, Search

router = APIRouter(prefix=V1, tags=["search"])


def hits_public(hits) -> HitsPublic:
    """The response form of a list of SearchHits."""
    data = [HitPublic.model_validate(hit.to_dict()) for hit in hits]
    return HitsPublic(data=data, count=len(data))


@router.post("/cubes/{cube_id}/search", response_model=HitsPublic)
def search_cube(body: CubeSearch, cube: ReadableCube):
    """Search one cube (dense + lexical + graph), best first."""
    return hits_public(cube.search(body.query, body.k, **body.as_kwargs()))


@router.post("/search", response_model=HitsPublic)
def search(body: Search, mos: MosDep, caller: CurrentUser):
    """Search several cubes (all readable ones by default); hits merged by score."""
    return hits_public(mos.search(body.query, body.cube_ids, k=body.k, user=caller.user_id,
                                  **body.as_kwargs()))
