"""Console dependencies: the logged-in viewer, checked forms, and cubes checked for access."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from starlette.datastructures import FormData

from api.console.csrf import CsrfRefused, tokens_match
from api.console.route import LoginRequired
from api.console.session import COOKIE, Session, SessionStore
from memcube.access import Access
from memcube.cube import MemCube
from memos.auth import Caller
from memos.kernel import MemOS


@dataclass(slots=True)
class Viewer:
    """The logged-in user of a console page and their session."""

    caller: Caller
    session: Session
    session_id: str

    @property
    def user_id(self) -> str:
        """The user's id."""
        return self.caller.user_id

    def notify(self, message: str) -> None:
        """A message to show on the next page."""
        self.session.notices.append(message)


def get_sessions(request: Request) -> SessionStore:
    """The console's sessions."""
    return request.app.state.console_sessions


def get_mos(request: Request) -> MemOS:
    """The kernel the app was built with (the same one the REST API calls)."""
    return request.app.state.mos


def get_viewer(request: Request) -> Viewer:
    """The session's user, its key checked again on every page (a revoked key logs out)."""
    sessions = get_sessions(request)
    session_id = request.cookies.get(COOKIE)
    session = sessions.get(session_id)
    if session is None:
        raise LoginRequired()
    caller = request.app.state.keys.user_for_key(session.api_key)
    if caller is None:
        sessions.close(session_id)
        raise LoginRequired()
    return Viewer(caller, session, session_id)


ViewerDep = Annotated[Viewer, Depends(get_viewer)]
MosDep = Annotated[MemOS, Depends(get_mos)]


async def checked_form(request: Request, viewer: ViewerDep) -> FormData:
    """The submitted form, refused (403) unless it carries the session's CSRF token."""
    form = await request.form()
    if not tokens_match(form.get("csrf"), viewer.session.csrf):
        raise CsrfRefused()
    return form


FormDep = Annotated[FormData, Depends(checked_form)]


def get_admin(viewer: ViewerDep) -> Viewer:
    """The viewer, who must be an administrator."""
    if not viewer.caller.is_admin:
        raise HTTPException(403, "This page is for administrators only.")
    return viewer


AdminDep = Annotated[Viewer, Depends(get_admin)]
CubeId = Annotated[str, Path(min_length=1, max_length=64)]
ItemId = Annotated[str, Path(min_length=1, max_length=64)]


def _cube_with(needed: Access):
    def dependency(cube_id: CubeId, mos: MosDep, viewer: ViewerDep) -> MemCube:
        return mos.get_cube(cube_id, viewer.user_id, needed=needed)

    dependency.__doc__ = f"The cube, if the viewer has {needed.name.lower()} access (else 404)."
    return dependency


ReadableCube = Annotated[MemCube, Depends(_cube_with(Access.READ))]
WritableCube = Annotated[MemCube, Depends(_cube_with(Access.WRITE))]
OwnedCube = Annotated[MemCube, Depends(_cube_with(Access.OWNER))]


def text_field(form: FormData, name: str, default: str = "") -> str:
    """A text field of a form ('' when absent; an uploaded file is not text)."""
    value = form.get(name, default)
    return value if isinstance(value, str) else default
