"""Who may do what: the bind check, API token and users (scrypt hashes, roles), signed session cookies (the one
place that writes the cookie), the session middleware, CSRF tokens and checks, request size limits and security
headers. Standard library only (plus Starlette / FastAPI types)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request

from ragtune.errors import ConfigError

if TYPE_CHECKING:
    from ragtune.config import ServerConfig

SESSION_COOKIE = "ragtune_session"
CSRF_HEADER = "x-csrf-token"
ROLES = {"annotator": 1, "admin": 2}
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def is_loopback(host: str) -> bool:
    if host in ("localhost", "127.0.0.1", "::1"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def api_token(config: ServerConfig) -> str | None:
    token = os.environ.get(config.token_env, "").strip()
    return token or None


def check_bind(host: str, config: ServerConfig) -> None:
    """Refuse a non-loopback address unless someone must sign in (an API token or users)."""
    if not is_loopback(host) and api_token(config) is None and not config.users:
        raise ConfigError(f"refusing to serve on {host}: anyone who can reach it could read the documents and write "
                          f"feedback. Set an API token in the environment variable {config.token_env} or add "
                          "server.users to ragtune.yaml (password hashes from `ragtune serve --hash-password`), or "
                          "serve on 127.0.0.1")


# passwords --------------------------------------------------------------------------------------------------

def hash_password(password: str, n: int = 2**14, r: int = 8, p: int = 1) -> str:
    """``scrypt$n$r$p$salt$hash`` (base64), for ``server.users[].password_hash``."""
    if not password:
        raise ConfigError("the password is empty")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, _unb64(digest))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# principals and sessions -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Principal:
    """Who is asking: a user name and role; ``sid`` ties CSRF tokens to the session."""

    name: str
    role: str
    sid: str

    def can(self, role: str) -> bool:
        return ROLES[self.role] >= ROLES[role]


class Guard:
    """Authentication for one server: open (loopback, nobody configured: everyone is the local admin) or
    closed (a Bearer token or a signed-in user is needed)."""

    def __init__(self, config: ServerConfig, workdir: Path) -> None:
        self.config = config
        self.token = api_token(config)
        self.users = {u.name: u for u in config.users}
        self.open = self.token is None and not self.users
        self.secret = _secret(workdir)

    # cookies
    def _sign(self, payload: dict) -> str:
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        mac = _b64(hmac.new(self.secret, body.encode(), hashlib.sha256).digest())
        return f"{body}.{mac}"

    def _unsign(self, value: str) -> dict | None:
        body, _, mac = value.partition(".")
        want = _b64(hmac.new(self.secret, body.encode(), hashlib.sha256).digest())
        if not mac or not hmac.compare_digest(mac, want):
            return None
        try:
            payload = json.loads(_unb64(body))
        except ValueError:
            return None
        return payload if isinstance(payload, dict) and payload.get("exp", 0) > time.time() else None

    def session_cookie(self, name: str, role: str) -> str:
        return self._sign({"sid": secrets.token_urlsafe(16), "name": name, "role": role,
                           "exp": time.time() + self.config.session_hours * 3600})

    def anonymous_cookie(self) -> str:
        return self._sign({"sid": secrets.token_urlsafe(16), "name": None, "role": None,
                           "exp": time.time() + self.config.session_hours * 3600})

    def session(self, cookie: str | None) -> dict | None:
        return self._unsign(cookie) if cookie else None

    def cookie_header(self, value: str) -> str:
        """The ``Set-Cookie`` header that stores the session cookie ``value`` (an empty value deletes it)."""
        age = int(self.config.session_hours * 3600) if value else 0
        return f"{SESSION_COOKIE}={value}; HttpOnly; Max-Age={age}; Path=/; SameSite=strict"

    def principal(self, authorization: str | None, cookie: str | None) -> Principal | None:
        """The caller, from a Bearer token or the session cookie; None: not signed in."""
        bearer = bool(authorization) and authorization.lower().startswith("bearer ")
        if self.open:  # loopback and nobody configured: any caller is the local admin
            session = self.session(cookie)
            return Principal("local", "admin", "bearer" if bearer else session["sid"] if session else "")
        if bearer:
            given = authorization[7:].strip()
            if self.token is not None and hmac.compare_digest(given.encode(), self.token.encode()):
                return Principal("api-token", "admin", "bearer")
            return None
        session = self.session(cookie)
        if session and session.get("role") in ROLES:
            return Principal(session["name"], session["role"], session["sid"])
        return None

    def login(self, name: str, password: str) -> tuple[str, str] | None:
        """(name, role) for a right user name and password, or for the API token given as the password."""
        user = self.users.get(name)
        if user is not None and verify_password(password, user.password_hash):
            return user.name, user.role
        if self.token is not None and password and hmac.compare_digest(password.encode(), self.token.encode()):
            return name or "api-token", "admin"
        return None

    # CSRF: an HMAC of the session id, sent back in a header or a form field
    def csrf_token(self, sid: str) -> str:
        return _b64(hmac.new(self.secret, f"csrf:{sid}".encode(), hashlib.sha256).digest())

    def csrf_ok(self, sid: str, given: str | None) -> bool:
        return bool(sid) and bool(given) and hmac.compare_digest(self.csrf_token(sid), given)

    def check_csrf(self, request: Request, principal: Principal) -> None:
        """Web writes carry the session's CSRF token (403 otherwise). API writes (/v1) carry no cookie-based
        credential to abuse; they must be JSON (415 otherwise), which a cross-site page cannot send without a CORS
        preflight this server refuses."""
        if request.method not in UNSAFE or principal.sid == "bearer":
            return
        if request.url.path.startswith("/v1/"):
            if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
                raise HTTPException(415, "send the request body as JSON (Content-Type: application/json)")
        elif not self.csrf_ok(principal.sid, request.headers.get(CSRF_HEADER)):
            raise HTTPException(403, "missing or wrong CSRF token: reload the page and try again")


def _secret(workdir: Path) -> bytes:
    """The key that signs sessions, kept in ``.ragtune/server-secret`` (owner-only) so sessions survive a restart."""
    path = workdir / "server-secret"
    if path.is_file():
        return path.read_bytes()
    workdir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key)
    return key


# ASGI middleware ---------------------------------------------------------------------------------------------

class EnsureSession:
    """Gives every visitor without a valid session cookie an anonymous one (a random session id to bind CSRF
    tokens to), visible to the request already and set on the response."""

    def __init__(self, app, guard: Guard) -> None:
        self.app = app
        self.guard = guard

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request = Request(scope)
        if self.guard.session(request.cookies.get(SESSION_COOKIE)) is not None or \
                scope["path"].startswith(("/v1/", "/static/")):
            return await self.app(scope, receive, send)
        cookie = self.guard.anonymous_cookie()
        others = [(k, v) for k, v in scope["headers"] if k != b"cookie"]
        kept = "; ".join(f"{k}={v}" for k, v in request.cookies.items() if k != SESSION_COOKIE)
        value = f"{SESSION_COOKIE}={cookie}" + (f"; {kept}" if kept else "")
        scope = dict(scope, headers=[*others, (b"cookie", value.encode())])
        header = self.guard.cookie_header(cookie).encode()

        async def with_cookie(message):
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"set-cookie", header)]
            await send(message)

        await self.app(scope, receive, with_cookie)


class BodyLimit:
    """Refuses request bodies over ``max_bytes`` with 413 (by Content-Length, and while reading a stream)."""

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            return await _reject(send, 413, f"request body too large: the limit is {self.max_bytes // 1024} KiB "
                                            "(server.max_body_kb)")
        seen = 0

        async def limited():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _reject(send, 413, f"request body too large: the limit is {self.max_bytes // 1024} KiB")


class _TooLarge(Exception):
    pass


async def _reject(send, status: int, message: str) -> None:
    body = json.dumps({"error": {"message": message, "type": "invalid_request_error", "code": status}}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                 b"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
]


class SecurityHeaders:
    """No inline scripts, no framing, no sniffing; every asset from this server."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def with_headers(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = list(message["headers"]) + SECURITY_HEADERS
            await send(message)

        await self.app(scope, receive, with_headers)
