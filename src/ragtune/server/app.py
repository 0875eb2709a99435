"""The app factory: one Project per process (models load once), one generation queue, the routes of each concern
(``chat``, ``review``, ``dashboard``, ``openai_api``), authentication, CSRF and error pages."""

from __future__ import annotations

import json
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader
from pydantic import BaseModel, ValidationError

from ragtune.errors import InputError, RagtuneError
from ragtune.server.answers import UnknownTarget
from ragtune.server.queue import GenerationQueue, QueueFull
from ragtune.server.security import CSRF_HEADER, SESSION_COOKIE, BodyLimit, Guard, Principal, SecurityHeaders

if TYPE_CHECKING:
    from ragtune.project import Project

HERE = Path(__file__).parent
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
BaseModelT = TypeVar("BaseModelT", bound=BaseModel)


class State:
    """What every route shares: the project, the generation queue, the guard and the templates."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.config = project.config.server
        self.queue = GenerationQueue(self.config.queue_max, self.config.queue_timeout_s)
        self.guard = Guard(self.config, project.workdir)
        env = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=True)  # every value escaped
        self.templates = Jinja2Templates(env=env)
        self.extras: dict[str, Any] = {}

    def render(self, request: Request, name: str, principal: Principal | None, **context: Any) -> HTMLResponse:
        sid = principal.sid if principal else ""
        context |= {"principal": principal, "csrf": self.guard.csrf_token(sid) if sid else "",
                    "project_name": self.project.config.name, "auth_open": self.guard.open}
        return self.templates.TemplateResponse(request, name, context)


def create_app(project: Project | str | Path, warm: bool = True) -> FastAPI:
    """The web app and the /v1 API on a project (a folder, or a Project whose index is not open yet: the index
    belongs to the generation worker's thread); ``warm`` loads the models on that worker now."""
    from ragtune.project import Project
    from ragtune.server import chat, dashboard, openai_api, review

    if not isinstance(project, Project):
        project = Project(project)
    elif project.built("store"):
        raise ValueError("create_app needs a Project whose index is not open yet (pass the project folder)")
    state = State(project)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        state.queue.close()

    app = FastAPI(title="ragtune", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.ragtune = state
    if state.config.allowed_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=state.config.allowed_origins, allow_credentials=False,
                           allow_methods=["GET", "POST"], allow_headers=["Authorization", "Content-Type"])
    app.add_middleware(EnsureSession, state=state)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=state.config.max_body_kb * 1024)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _errors(app)
    _auth_routes(app, state)
    for module in (chat, review, dashboard, openai_api):
        app.include_router(module.router)
    if warm:
        state.queue.submit(lambda job: _warm(project), stream=False)

    return app


def _warm(project: Project) -> None:
    """Load the index, embedder and LLM once, before the first question."""
    project.store.count_chunks()
    project.embedder.embed_query("warm up")
    llm = project.llm
    with suppress(NotImplementedError):
        llm.count_tokens("warm up")


# dependencies ---------------------------------------------------------------------------------------------

def get_state(request: Request) -> State:
    return request.app.state.ragtune


def current(request: Request) -> Principal | None:
    state = get_state(request)
    return state.guard.principal(request.headers.get("authorization"), request.cookies.get(SESSION_COOKIE))


def _check_csrf(request: Request, principal: Principal) -> None:
    """Web writes carry the session's CSRF token. API writes (/v1) carry no cookie-based credential to abuse;
    they must be JSON, which a cross-site page cannot send without a CORS preflight this server refuses."""
    if request.method not in UNSAFE or principal.sid == "bearer":
        return
    if request.url.path.startswith("/v1/"):
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            raise HTTPException(415, "send the request body as JSON (Content-Type: application/json)")
    else:
        given = request.headers.get(CSRF_HEADER)
        if not get_state(request).guard.csrf_ok(principal.sid, given):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def require(role: str = "annotator"):
    """An API dependency: the signed-in caller with at least ``role`` (401/403 otherwise), CSRF-checked on writes
    that come with the session cookie."""

    def dependency(request: Request) -> Principal:
        principal = current(request)
        if principal is None:
            raise HTTPException(401, "sign in first, or send `Authorization: Bearer TOKEN`")
        if not principal.can(role):
            raise HTTPException(403, f"this needs the {role} role")
        _check_csrf(request, principal)
        return principal

    return Depends(dependency)


class PageAuth(Exception):
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


def with_session(response: Response, request: Request) -> Response:
    """(Kept for the routes' symmetry: every visitor already has a session from ``EnsureSession``.)"""
    return response


class EnsureSession:
    """Gives every visitor without a valid session cookie an anonymous one (a random session id to bind CSRF
    tokens to), visible to the request already and set on the response."""

    def __init__(self, app, state: State) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        if self.state.guard.session(request.cookies.get(SESSION_COOKIE)) is not None or \
                scope["path"].startswith(("/v1/", "/static/")):
            return await self.app(scope, receive, send)
        cookie = self.state.guard.anonymous_cookie()
        others = [(k, v) for k, v in scope["headers"] if k != b"cookie"]
        kept = "; ".join(f"{k}={v}" for k, v in request.cookies.items() if k != SESSION_COOKIE)
        value = f"{SESSION_COOKIE}={cookie}" + (f"; {kept}" if kept else "")
        scope = dict(scope, headers=[*others, (b"cookie", value.encode())])
        header = (f"{SESSION_COOKIE}={cookie}; HttpOnly; Max-Age={int(self.state.config.session_hours * 3600)}; "
                  "Path=/; SameSite=strict").encode()

        async def with_cookie(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", header)]
            await send(message)

        await self.app(scope, receive, with_cookie)


def _set_cookie(response: Response, value: str, state: State) -> None:
    response.set_cookie(SESSION_COOKIE, value, httponly=True, samesite="strict",
                        max_age=int(state.config.session_hours * 3600))


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


# errors and sign-in ---------------------------------------------------------------------------------------

def error_body(message: str, status: int, kind: str = "invalid_request_error", param: str | None = None) -> dict:
    return {"error": {"message": message, "type": kind, "param": param, "code": status}}


def _errors(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        parts = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e["loc"] if p != "body")
            parts.append(f"{loc}: {e['msg']}" if loc else e["msg"])
        return JSONResponse(error_body("invalid request: " + "; ".join(parts), 422), status_code=422)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        return JSONResponse(error_body(str(exc.detail), exc.status_code), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(UnknownTarget)
    async def unknown_model(request: Request, exc: UnknownTarget):
        return JSONResponse(error_body(str(exc), 404, param="model") | {}, status_code=404)

    @app.exception_handler(QueueFull)
    async def busy(request: Request, exc: QueueFull):
        return JSONResponse(error_body(str(exc), 503, "server_busy"), status_code=503, headers={"Retry-After": "5"})

    @app.exception_handler(RagtuneError)
    async def user_error(request: Request, exc: RagtuneError):
        status = 400 if isinstance(exc, InputError) else 500
        return JSONResponse(error_body(str(exc), status), status_code=status)

    @app.exception_handler(PageAuth)
    async def to_login(request: Request, exc: PageAuth):
        return RedirectResponse(f"/login?next={exc.next_url}", status_code=303)


def _auth_routes(app: FastAPI, state: State) -> None:
    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/"):
        session = state.guard.session(request.cookies.get(SESSION_COOKIE))
        return state.render(request, "login.html", Principal("", "annotator", session["sid"]),
                            next=_safe_next(next), error=None, signed_out=True)

    @app.post("/login")
    async def login(request: Request):
        session = state.guard.session(request.cookies.get(SESSION_COOKIE))
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
        if session is None or not state.guard.csrf_ok(session["sid"], form.get("csrf_token")):
            raise HTTPException(403, "missing or wrong CSRF token: reload the sign-in page and try again")
        found = state.guard.login(form.get("username", ""), form.get("password", ""))
        if found is None:
            response = state.render(request, "login.html", Principal("", "annotator", session["sid"]),
                                    next=_safe_next(form.get("next", "/")), error="wrong user name or password",
                                    signed_out=True)
            response.status_code = 401
            return response
        response = RedirectResponse(_safe_next(form.get("next", "/")), status_code=303)
        _set_cookie(response, state.guard.session_cookie(*found), state)
        return response

    @app.post("/logout")
    def logout(request: Request, principal: Annotator):
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE)
        return response


def _safe_next(target: str) -> str:
    """Only local paths: no open redirect."""
    return target if target.startswith("/") and not target.startswith("//") else "/"
