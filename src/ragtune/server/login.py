"""Signing in (a user name and password, or the API token as the password) and out."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ragtune.server.deps import Annotator, get_state
from ragtune.server.security import SESSION_COOKIE, Principal

router = APIRouter()


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/"):
    state = get_state(request)
    session = state.guard.session(request.cookies.get(SESSION_COOKIE))
    return state.render(request, "login.html", Principal("", "annotator", session["sid"]),
                        next=safe_next(next), error=None, signed_out=True)


@router.post("/login")
async def login(request: Request):
    state = get_state(request)
    session = state.guard.session(request.cookies.get(SESSION_COOKIE))
    form = {k: v[0] for k, v in parse_qs((await request.body()).decode("utf-8", "replace")).items()}
    if session is None or not state.guard.csrf_ok(session["sid"], form.get("csrf_token")):
        raise HTTPException(403, "missing or wrong CSRF token: reload the sign-in page and try again")
    found = state.guard.login(form.get("username", ""), form.get("password", ""))
    if found is None:
        response = state.render(request, "login.html", Principal("", "annotator", session["sid"]),
                                next=safe_next(form.get("next", "/")), error="wrong user name or password",
                                signed_out=True)
        response.status_code = 401
        return response
    response = RedirectResponse(safe_next(form.get("next", "/")), status_code=303)
    response.headers.append("set-cookie", state.guard.cookie_header(state.guard.session_cookie(*found)))
    return response


@router.post("/logout")
def logout(request: Request, principal: Annotator):
    response = RedirectResponse("/login", status_code=303)
    response.headers.append("set-cookie", get_state(request).guard.cookie_header(""))
    return response


def safe_next(target: str) -> str:
    """Only local paths: no open redirect."""
    return target if target.startswith("/") and not target.startswith("//") else "/"
