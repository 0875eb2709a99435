"""`ragtune serve` security: escaped document text, CSRF on web writes, body size limits, the refusal to serve
beyond loopback without a token or users, sign-in with roles, no CORS wildcard."""

import re

import pytest
import yaml
from typer.testing import CliRunner

from ragtune.cli.main import app as cli
from ragtune.config import ServerUser
from ragtune.errors import ConfigError
from ragtune.server.security import check_bind, hash_password, verify_password


def _page_csrf(http, path="/") -> str:
    html = http.get(path).text
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', html).group(1)


def test_document_script_renders_as_text(served):
    with served.client() as http:
        r = http.post("/v1/chat/completions", json={"messages": [
            {"role": "user", "content": "What is the override code in the security notice?"}]})
        answer_id = r.json()["ragtune"]["answer_id"]
        assert "<script>" in " ".join(c["text"] for c in r.json()["citations"])  # the API returns the raw text
        page = http.get(f"/?answer={answer_id}")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(&#39;xss&#39;)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_web_writes_need_the_csrf_token(served):
    answer_id = served.state.project.feedback.record_answer("Q?", "A.", ())
    vote = {"answer_id": answer_id, "kind": "rating", "rating": "up"}
    with served.client() as http:
        token = _page_csrf(http)
        assert http.post("/api/feedback", json=vote).status_code == 403
        r = http.post("/api/feedback", json=vote, headers={"x-csrf-token": "forged"})
        assert r.status_code == 403 and "CSRF" in r.json()["error"]["message"]
        with served.client() as other:  # another visitor's token is not valid for this session
            assert other.post("/api/feedback", json=vote, headers={"x-csrf-token": token}).status_code == 403
        assert not [f for f in served.state.project.feedback.feedback() if answer_id in f.answer_ids]
        ok = http.post("/api/feedback", json=vote, headers={"x-csrf-token": token})
        assert ok.status_code == 200 and ok.json()["saved"]


def test_oversize_and_malformed_bodies_are_refused(served):
    limit = served.state.config.max_body_kb * 1024
    with served.client() as http:
        big = {"messages": [{"role": "user", "content": "x" * (limit + 10)}]}
        r = http.post("/v1/chat/completions", json=big)
        assert r.status_code == 413 and "too large" in r.json()["error"]["message"]
        long_q = {"messages": [{"role": "user", "content": "why " * 2000}]}
        r = http.post("/v1/chat/completions", json=long_q)
        assert r.status_code == 400 and "limit is 4000" in r.json()["error"]["message"]
        token = _page_csrf(http)
        r = http.post("/api/feedback", json={"answer_id": "abc", "kind": "rating"}, headers={"x-csrf-token": token})
        assert r.status_code == 422 and "answer_id" in r.json()["error"]["message"]


def test_no_cors_for_other_origins(served):
    with served.client() as http:
        r = http.options("/v1/chat/completions", headers={"Origin": "http://evil.example",
                                                         "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in r.headers
    from ragtune.config import ServerConfig

    with pytest.raises(ValueError, match="not allowed"):
        ServerConfig(allowed_origins=["*"])


def test_refuses_a_public_address_without_token_or_users(new_project, monkeypatch):
    monkeypatch.delenv("RAGTUNE_API_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["serve", "-p", str(new_project.root), "--host", "0.0.0.0"])
    assert result.exit_code == 1 and "refusing to serve on 0.0.0.0" in result.stderr
    config = new_project.config.server
    check_bind("127.0.0.1", config)  # loopback is fine
    monkeypatch.setenv("RAGTUNE_API_TOKEN", "s3cret")
    check_bind("0.0.0.0", config)
    monkeypatch.delenv("RAGTUNE_API_TOKEN")
    with pytest.raises(ConfigError):
        check_bind("192.168.1.5", config)
    user = ServerUser(name="ann", password_hash=hash_password("pw"))
    check_bind("0.0.0.0", config.model_copy(update={"users": [user]}))


def test_passwords_are_scrypt_hashed():
    stored = hash_password("correct horse")
    assert stored.startswith("scrypt$") and "correct horse" not in stored
    assert verify_password("correct horse", stored) and not verify_password("wrong", stored)
    assert not verify_password("x", "garbage")


@pytest.fixture
def closed_app(new_project, monkeypatch):
    """A server with users (annotator, admin) and an API token, in process."""
    from fastapi.testclient import TestClient

    from ragtune.server.app import create_app

    monkeypatch.setenv("RAGTUNE_API_TOKEN", "t0ken")
    data = yaml.safe_load(new_project.config_path.read_text(encoding="utf-8"))
    data["server"]["users"] = [{"name": "ann", "password_hash": hash_password("ann-pw"), "role": "annotator"},
                               {"name": "root", "password_hash": hash_password("root-pw"), "role": "admin"}]
    new_project.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")
    app = create_app(new_project.root, warm=False)
    with TestClient(app, base_url="http://127.0.0.1") as http:
        yield http


def _login(http, name, password):
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get("/login").text).group(1)
    return http.post("/login", data={"username": name, "password": password, "csrf_token": token, "next": "/review"},
                     follow_redirects=False)


def test_sign_in_roles_and_the_api_token(closed_app):
    http = closed_app
    assert http.get("/v1/models").status_code == 401
    assert http.get("/v1/models", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert http.get("/v1/models", headers={"Authorization": "Bearer t0ken"}).status_code == 200
    assert http.get("/review", follow_redirects=False).headers["location"].startswith("/login")
    assert http.post("/api/feedback", json={"answer_id": 1, "kind": "rating", "rating": "up"}).status_code == 401
    assert _login(http, "ann", "wrong").status_code == 401
    r = http.post("/login", data={"username": "ann", "password": "ann-pw", "csrf_token": "forged"})
    assert r.status_code == 403
    r = _login(http, "ann", "ann-pw")
    assert r.status_code == 303 and r.headers["location"] == "/review"
    assert http.get("/review").status_code == 200
    assert http.get("/dashboard").status_code == 403  # annotators do not see the admin page
    token = _page_csrf(http, "/review")
    assert http.post("/api/export", json={"format": "dpo"}, headers={"x-csrf-token": token}).status_code == 403
    http.cookies.clear()
    assert _login(http, "root", "root-pw").status_code == 303
    assert http.get("/dashboard").status_code == 200
    token = _page_csrf(http, "/dashboard")
    r = http.post("/api/export", json={"format": "dpo"}, headers={"x-csrf-token": token})
    assert r.status_code == 200 and r.json()["rows"] == 0


def test_feedback_is_recorded_under_the_callers_name_and_stats_need_an_admin(closed_app):
    http = closed_app
    store = http.app.state.ragtune.project.feedback
    aid = store.record_answer("What is the term?", "Two years [1].")
    bearer = {"Authorization": "Bearer t0ken"}
    r = http.post("/v1/feedback", json={"answer_id": aid, "rating": "up", "rater": "ann"}, headers=bearer)
    assert r.status_code == 403 and "rater" in r.json()["error"]["message"]
    r = http.post("/v1/feedback", json={"answer_id": aid, "rating": "down"}, headers=bearer)
    assert r.status_code == 200
    assert [(f.rater, f.rating) for f in store.feedback()] == [("api-token", "down")]
    assert http.get("/api/stats", headers=bearer).status_code == 200
    assert _login(http, "ann", "ann-pw").status_code == 303
    assert http.get("/api/stats").status_code == 403  # an annotator does not see the loop's command and log
    r = http.post("/v1/feedback", json={"answer_id": aid, "rating": "up", "rater": "root"})
    assert r.status_code == 403
    assert http.post("/v1/feedback", json={"answer_id": aid, "rating": "up"}).status_code == 200
    assert [f.rater for f in store.feedback()] == ["api-token", "ann"]


def test_the_pages_list_what_the_registries_hold(closed_app):
    from ragtune.datasets.exports import FORMATS
    from ragtune.generation.strategies import strategies
    from ragtune.server.deps import seconds

    http = closed_app
    assert _login(http, "root", "root-pw").status_code == 303
    chat = http.get("/").text
    assert all(f'<option value="{s}"' in chat for s in strategies.names())
    dashboard = http.get("/dashboard").text
    assert all(f'data-format="{f}"' in dashboard for f in FORMATS) and 'data-format="verdicts"' in dashboard
    assert (seconds(11.5772), seconds(0.4213), seconds(None)) == ("11.6 s", "0.42 s", "-")
