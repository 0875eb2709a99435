"""What the routes depend on: the shared ``State`` (``get_state``), the caller (``Annotator``, ``Admin`` and their
page forms, which redirect to the sign-in page) and the JSON body (``parse_body``). Routers import these from
here; nothing in ``server/`` imports ``server/app.py``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from pydantic import BaseModel, ValidationError

from ragtune.server.loop import LoopRun
from ragtune.server.queue import GenerationQueue
from ragtune.server.security import SESSION_COOKIE, Guard, Principal

if TYPE_CHECKING:
    from ragtune.project import Project

HERE = Path(__file__).parent
BaseModelT = TypeVar("BaseModelT", bound=BaseModel)
T = TypeVar("T")


class State:
    """What every route shares: the project, the generation queue, the guard, the templates, the loop round the
    dashboard started, the indexed documents' names, and the figures computed from the whole feedback store (kept
    until it changes)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.config = project.config.server
        self.queue = GenerationQueue(self.config.queue_max, self.config.queue_timeout_s)
        self.guard = Guard(self.config, project.workdir)
        env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True)  # every value escaped
        env.filters["seconds"] = seconds
        self.templates = Jinja2Templates(env=env)
        self.loop = LoopRun()
        self.documents: list[str] = []  # the indexed documents' names, read on the generation worker (``warm``)
        self._derived: dict[str, tuple[tuple[int, int], Any, float]] = {}  # name -> (version, value, seconds)
        self._refreshing: set[str] = set()
        self._derived_lock = threading.Lock()

    def render(self, request: Request, name: str, principal: Principal | None, **context: Any) -> HTMLResponse:
        sid = principal.sid if principal else ""
        context |= {"principal": principal, "csrf": self.guard.csrf_token(sid) if sid else "",
                    "project_name": self.project.config.name, "auth_open": self.guard.open}
        return self.templates.TemplateResponse(request, name, context)

    def derived(self, name: str, compute: Callable[[], T], stale_ok: bool = False) -> T:
        """``compute()`` (a figure that reads the whole feedback store), computed again only when an answer or
        feedback was added since (the store only grows). With ``stale_ok`` (dashboard figures), a figure that took
        longer than ``server.stale_figures_after_s`` is returned as last computed while a background thread
        computes it for the changed store."""
        version = self.project.feedback.version()
        with self._derived_lock:
            kept = self._derived.get(name)
            if kept is not None and kept[0] == version:
                return kept[1]
            if kept is not None and stale_ok and kept[2] > self.config.stale_figures_after_s:
                if name not in self._refreshing:
                    self._refreshing.add(name)
                    threading.Thread(target=self._refresh, args=(name, compute), daemon=True).start()
                return kept[1]
        return self._compute(name, compute, version)

    def _compute(self, name: str, compute: Callable[[], T], version: tuple[int, int]) -> T:
        started = time.perf_counter()
        value = compute()
        with self._derived_lock:
            self._derived[name] = (version, value, time.perf_counter() - started)
        return value

    def _refresh(self, name: str, compute: Callable[[], Any]) -> None:
        try:
            self._compute(name, compute, self.project.feedback.version())
        finally:
            with self._derived_lock:
                self._refreshing.discard(name)


def seconds(value: float | None) -> str:
    """A duration for people: "11.6 s", "0.42 s", "-" when there is none yet."""
    if value is None:
        return "-"
    return f"{value:.1f} s" if value >= 1 else f"{value:.2f} s"


def get_state(request: Request) -> State:
    return request.app.state.ragtune


def current(request: Request) -> Principal | None:
    """The caller, from a Bearer token or the session cookie; None: nobody signed in."""
    return get_state(request).guard.principal(request.headers.get("authorization"),
                                              request.cookies.get(SESSION_COOKIE))


def require(role: str = "annotator"):
    """An API dependency: the signed-in caller with at least ``role`` (401/403 otherwise), CSRF-checked on writes
    that come with the session cookie."""

    def dependency(request: Request) -> Principal:
        principal = current(request)
        if principal is None:
            raise HTTPException(401, "sign in first, or send `Authorization: Bearer TOKEN`")
        if not principal.can(role):
            raise HTTPException(403, f"this needs the {role} role")
        get_state(request).guard.check_csrf(request, principal)
        return principal

    return Depends(dependency)


class PageAuth(Exception):
    """Nobody is signed in on a page: the app redirects to the sign-in page, then back to ``next_url``."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def page(role: str = "annotator"):
    """A page dependency: redirects to the sign-in page when nobody is signed in."""

    def dependency(request: Request) -> Principal:
        principal = current(request)
        if principal is None:
            raise PageAuth(str(request.url.path))
        if not principal.can(role):
            raise HTTPException(403, f"this page needs the {role} role")
        return principal

    return Depends(dependency)


Annotator = Annotated[Principal, require("annotator")]
Admin = Annotated[Principal, require("admin")]
AnnotatorPage = Annotated[Principal, page("annotator")]
AdminPage = Annotated[Principal, page("admin")]


async def read_json(request: Request) -> dict:
    """The request body as a JSON object, or a 400 naming the problem."""
    raw = await request.body()
    try:
        data = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise HTTPException(400, f"the request body is not valid JSON ({e})") from None
    if not isinstance(data, dict):
        raise HTTPException(400, "the request body must be a JSON object")
    return data


async def parse_body(request: Request, model: type[BaseModelT]) -> BaseModelT:
    """The JSON body validated by ``model``; a 422 naming each bad field otherwise."""
    try:
        return model.model_validate(await read_json(request))
    except ValidationError as e:
        raise RequestValidationError(e.errors()) from None
