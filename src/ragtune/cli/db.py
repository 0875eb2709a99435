"""`ragtune db start|status|stop`: a local PostgreSQL 16 with pgvector (PyPI's pgserver) for the postgres store.
The server keeps running after `start` returns, until `stop`. pgserver and psycopg load inside the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ragtune.cli.output import emit_json, handle_errors, out

sub = typer.Typer(help="A local PostgreSQL + pgvector server for the postgres store (development).",
                  no_args_is_help=True)

ProjectOpt = Annotated[Path, typer.Option("--project", "-p", help="Project folder (the server's data goes under "
                                                                  "its .ragtune/postgres unless --data-dir).")]
DataDirOpt = Annotated[Path | None, typer.Option("--data-dir", help="The server's data folder.")]
DatabaseOpt = Annotated[str, typer.Option("--database", help="The database to create and print the URL of.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def register(app: typer.Typer) -> None:
    """Add this module's commands to `app`."""
    app.add_typer(sub, name="db")


def _data_dir(project: Path, data_dir: Path | None) -> Path:
    from ragtune.project import WORKDIR

    return (data_dir or project / WORKDIR / "postgres").expanduser().resolve()


def _pgserver():
    import warnings

    from ragtune.errors import ConfigError

    try:
        with warnings.catch_warnings():  # platformdirs warns when XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError:
        raise ConfigError("`ragtune db` needs pgserver: pip install 'ragtune[postgres]'") from None
    return pgserver


def _running(data_dir: Path):
    """The running server's postmaster info, or None."""
    _pgserver()
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir) if (data_dir / "postmaster.pid").is_file() else None
    return info if info is not None and info.is_running() else None


def _report(data_dir: Path, url: str | None, as_json: bool, message: str) -> None:
    if as_json:
        emit_json({"running": url is not None, "url": url, "data_dir": str(data_dir)})
    else:
        out.print(message, highlight=False, soft_wrap=True)


def _yaml_hint(url: str) -> str:
    return f"In ragtune.yaml:\n  store:\n    backend: postgres\n    url: {url}"


@sub.command("start")
@handle_errors
def start(project: ProjectOpt = Path("."), data_dir: DataDirOpt = None, database: DatabaseOpt = "ragtune",
          as_json: JsonOpt = False) -> None:
    """Start the server (or find it running), create the database, and print its postgresql:// URL."""
    import subprocess

    import psycopg

    from ragtune.errors import InputError

    folder = _data_dir(project, data_dir)
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = _pgserver().get_server(folder, cleanup_mode=None)  # None: it outlives this command
    except subprocess.SubprocessError as e:
        raise InputError(f"{folder}: PostgreSQL did not start ({e}); see {folder / 'log'}") from None
    with psycopg.connect(server.get_uri(), autocommit=True) as db:
        if db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone() is None:
            db.execute(f'CREATE DATABASE "{database}"')
    url = server.get_uri(database=database)
    _report(folder, url, as_json, f"PostgreSQL runs on {folder} (stop it with `ragtune db stop`).\n{_yaml_hint(url)}")


@sub.command("status")
@handle_errors
def status(project: ProjectOpt = Path("."), data_dir: DataDirOpt = None, database: DatabaseOpt = "ragtune",
           as_json: JsonOpt = False) -> None:
    """Whether the server runs, and its URL."""
    folder = _data_dir(project, data_dir)
    info = _running(folder)
    if info is None:
        _report(folder, None, as_json, f"No PostgreSQL runs on {folder} (start one with `ragtune db start`).")
        return
    url = info.get_uri(database=database)
    _report(folder, url, as_json, f"PostgreSQL runs on {folder} (pid {info.pid}).\n{_yaml_hint(url)}")


@sub.command("stop")
@handle_errors
def stop(project: ProjectOpt = Path("."), data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """Stop the server (a fast shutdown: open transactions roll back); its data stays."""
    import signal

    import psutil  # comes with pgserver

    from ragtune.errors import InputError

    folder = _data_dir(project, data_dir)
    info = _running(folder)
    if info is None:
        _report(folder, None, as_json, f"No PostgreSQL runs on {folder}.")
        return
    info.process.send_signal(signal.SIGINT)  # PostgreSQL's fast shutdown
    try:
        info.process.wait(timeout=60)
    except psutil.TimeoutExpired as e:
        raise InputError(f"{folder}: PostgreSQL (pid {info.pid}) did not stop within 60 s ({e})") from None
    _report(folder, None, as_json, f"Stopped PostgreSQL on {folder}.")
