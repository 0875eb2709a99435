"""The app factory: one Project per process (models load once), one generation queue, the routes of each concern
(``login``, ``chat``, ``review``, ``dashboard``, ``openai_api``), the middleware (``security``) and the error
bodies. Nothing in ``server/`` imports this module."""

from __future__ import annotations

from contextlib import asynccontextmanager, suppress
from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from ragtune.errors import InputError, RagtuneError
from ragtune.project import Project
from ragtune.server import chat, dashboard, login, openai_api, review
from ragtune.server.answers import UnknownTarget
from ragtune.server.deps import HERE, PageAuth, State
from ragtune.server.queue import QueueFull
from ragtune.server.security import BodyLimit, EnsureSession, SecurityHeaders


def create_app(project: Project | str | Path, warm: bool = True) -> FastAPI:
    """The web app and the /v1 API on a project (a folder, or a Project whose index is not open yet: the index
    belongs to the generation worker's thread); ``warm`` loads the models on that worker now."""
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
    app.add_middleware(EnsureSession, guard=state.guard)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=state.config.max_body_kb * 1024)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _errors(app)
    for module in (login, chat, review, dashboard, openai_api):
        app.include_router(module.router)
    if warm:
        state.queue.submit(lambda job: _warm(state), stream=False)

    return app


def _warm(state: State) -> None:
    """Load the index, embedder and LLM once, before the first question, and list the indexed documents."""
    project = state.project
    state.documents = sorted({Path(source).name for source in project.store.documents()})
    project.embedder.embed_query("warm up")
    llm = project.llm
    with suppress(NotImplementedError):
        llm.count_tokens("warm up")


# errors ---------------------------------------------------------------------------------------------------

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
        return JSONResponse(error_body(str(exc), 404, param="model"), status_code=404)

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
