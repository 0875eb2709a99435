"""`ragtune serve`: the feedback web app and the OpenAI-compatible API on one project. FastAPI and uvicorn load
inside the command, so `ragtune --help` stays fast."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ragtune.cli.output import err, handle_errors, out


def register(app: typer.Typer) -> None:
    """Add this module's command to `app`."""
    app.command("serve")(serve)


@handle_errors
def serve(project: Annotated[Path, typer.Option("--project", "-p", help="Project folder (holds ragtune.yaml).")]
          = Path("."),
          host: Annotated[str | None, typer.Option(help="Address to listen on (default: server.host, 127.0.0.1). "
                                                  "Any other than loopback needs an API token or server.users.")]
          = None,
          port: Annotated[int | None, typer.Option(min=0, max=65535, help="Port (default: server.port, 8000).")]
          = None,
          hash_password: Annotated[str | None, typer.Option("--hash-password", help="Print the hash of this password "
                                                            "for server.users[].password_hash, and exit.")] = None,
          ) -> None:
    """Serve the web app (chat with sources, votes, corrections, blind A/B, review queue, dashboard) and the
    OpenAI-compatible API (/v1/models, /v1/chat/completions with citations, /v1/feedback). Every answer is
    recorded in the feedback store. Security: 127.0.0.1 by default; the API token is read from the environment
    variable server.token_env (RAGTUNE_API_TOKEN)."""
    from ragtune.server.security import check_bind
    from ragtune.server.security import hash_password as make_hash

    if hash_password is not None:
        out.print(make_hash(hash_password), highlight=False)
        return
    from ragtune.project import Project

    proj = Project(project)
    config = proj.config.server
    host = host or config.host
    port = config.port if port is None else port
    check_bind(host, config)
    import uvicorn

    from ragtune.server.app import create_app

    app = create_app(proj)
    err.print(f"ragtune serve: http://{host}:{port}/  (API: http://{host}:{port}/v1, project {proj.root})",
              highlight=False)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False, access_log=False)
    finally:
        proj.close()
