"""Dependencies shared by the routers: the kernel, the caller, and cubes checked for access."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from memcube.access import Access
from memcube.cube import MemCube
from memos.auth import Caller, KeyStore
from memos.kernel import MemOS

bearer = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer <key>`.")
UNAUTHORIZED = {"WWW-Authenticate": "Bearer"}


def get_mos(request: Request) -> MemOS:
    """The kernel the app was built with."""
    return request.app.state.mos


def get_keys(request: Request) -> KeyStore:
    """Users and API keys."""
    return request.app.state.keys


MosDep = Annotated[MemOS, Depends(get_mos)]
KeysDep = Annotated[KeyStore, Depends(get_keys)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def get_caller(keys: KeysDep, credentials: Credentials) -> Caller:
    """The user whose API key came with the request (401 without a valid one)."""
    if credentials is None:
        raise HTTPException(401, "an API key is required (Authorization: Bearer <key>)",
                            headers=UNAUTHORIZED)
    caller = keys.user_for_key(credentials.credentials)
    if caller is None:
        raise HTTPException(401, "invalid API key", headers=UNAUTHORIZED)
    return caller


CurrentUser = Annotated[Caller, Depends(get_caller)]


def get_admin(caller: CurrentUser) -> Caller:
    """The caller, who must be an administrator."""
    if not caller.is_admin:
        raise HTTPException(403, "administrator access is required")
    return caller


AdminUser = Annotated[Caller, Depends(get_admin)]
CubeId = Annotated[str, Path(min_length=1, max_length=64, description="The cube's id.")]
UserPath = Annotated[str, Path(min_length=1, max_length=64, description="A user's id.")]
ItemId = Annotated[str, Path(min_length=1, max_length=64, description="The memory's id.")]


def _cube_with(needed: Access):
    def dependency(cube_id: CubeId, mos: MosDep, caller: CurrentUser) -> MemCube:
        return mos.get_cube(cube_id, caller.user_id, needed=needed)

    dependency.__doc__ = f"The cube, if the caller has {needed.name.lower()} access (else 404)."
    return dependency


ReadableCube = Annotated[MemCube, Depends(_cube_with(Access.READ))]
WritableCube = Annotated[MemCube, Depends(_cube_with(Access.WRITE))]
OwnedCube = Annotated[MemCube, Depends(_cube_with(Access.OWNER))]
