"""Backups: `pg_dump | gzip` into a folder (keeping the last N days) and `gunzip | psql` back.

The dump is plain SQL with `--no-owner --no-privileges`, so any role can restore it. A restore
replaces the database's `public` schema as a whole (drop, recreate, load), in one transaction:
into an empty database or over an existing one, it ends with exactly the backup's content, or,
on any error, with what was there before. (`pg_dump --clean` can't be used instead: it cannot drop
the constraints a partitioned table's partitions inherit.) The PostgreSQL client programs (pg_dump,
psql) must be on PATH and at least as new as the server. SQLite databases are copied with SQLite's
online backup API and gzip'ed; restoring one replaces the file (stop the service first).
"""

from __future__ import annotations

import gzip
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import make_url

CHUNK = 1 << 16
# Sent before the dump, in the same transaction as the load.
REPLACE_SCHEMA = b"DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n"
NAME = re.compile(r"^assistant-(\d{8}-\d{6})\.(sql|sqlite)\.gz$")
STAMP = "%Y%m%d-%H%M%S"


class BackupError(Exception):
    """A client program failed or is missing; the message says which and why."""


def _program(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found on PATH: install the PostgreSQL client programs.")
    return path


def libpq_env(database_url: str) -> dict[str, str]:
    """The environment that points pg_dump/psql at DATABASE_URL (password never on argv)."""
    url = make_url(database_url)
    env = dict(os.environ)
    values = {
        "PGHOST": url.host,
        "PGPORT": str(url.port) if url.port else None,
        "PGUSER": url.username,
        "PGPASSWORD": url.password,
        "PGDATABASE": url.database,
    }
    ssl = url.query.get("sslmode") or url.query.get("ssl")
    if isinstance(ssl, str):
        values["PGSSLMODE"] = ssl
    env.update({key: str(value) for key, value in values.items() if value})
    return env


def _is_sqlite(database_url: str) -> bool:
    return database_url.startswith("sqlite")


def _sqlite_path(database_url: str) -> Path:
    database = make_url(database_url).database
    if not database or database == ":memory:":
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(database)


def backup(
    database_url: str, directory: Path, *, keep_days: int = 7, now: datetime | None = None
) -> Path:
    """Write `assistant-YYYYmmdd-HHMMSS.sql.gz` into `directory`; prune backups older than
    `keep_days` (0: keep all). Returns the new file."""
    now = now or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True)
    kind = "sqlite" if _is_sqlite(database_url) else "sql"
    target = directory / f"assistant-{now:{STAMP}}.{kind}.gz"
    partial = target.with_name(target.name + ".partial")
    try:
        if kind == "sqlite":
            _backup_sqlite(_sqlite_path(database_url), partial)
        else:
            _backup_postgres(database_url, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    prune(directory, keep_days=keep_days, now=now, keep=target)
    return target


def _backup_postgres(database_url: str, out: Path) -> None:
    command = [
        _program("pg_dump"),
        "--format=plain",
        "--no-owner",
        "--no-privileges",
    ]
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, env=libpq_env(database_url)
        ) as dump,
        gzip.open(out, "wb") as gz,
    ):
        assert dump.stdout is not None
        while chunk := dump.stdout.read(CHUNK):
            gz.write(chunk)
        code = dump.wait()
        if code != 0:
            errors.seek(0)
            raise BackupError(f"pg_dump failed ({code}): {errors.read().decode(errors='replace')}")


def _backup_sqlite(path: Path, out: Path) -> None:
    if not path.exists():
        raise BackupError(f"No SQLite database at {path}.")
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "copy.db"
        # The online backup API gives a consistent copy even while the service writes.
        source, dest = sqlite3.connect(path), sqlite3.connect(copy)
        try:
            source.backup(dest)
        finally:
            source.close()
            dest.close()
        with copy.open("rb") as src, gzip.open(out, "wb") as gz:
            shutil.copyfileobj(src, gz, CHUNK)


def prune(
    directory: Path, *, keep_days: int, now: datetime, keep: Path | None = None
) -> list[Path]:
    """Delete our backups (by the time in their name) older than `keep_days`."""
    if keep_days <= 0:
        return []
    cutoff = now - timedelta(days=keep_days)
    removed = []
    for path in directory.iterdir():
        match = NAME.match(path.name)
        if match is None or path == keep:
            continue
        taken = datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC)
        if taken < cutoff:
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def restore(database_url: str, file: Path) -> None:
    """Load a backup made by `backup` into DATABASE_URL (in one transaction for PostgreSQL)."""
    if not file.is_file():
        raise BackupError(f"No backup file at {file}.")
    if _is_sqlite(database_url):
        target = _sqlite_path(database_url)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".restoring")
        with gzip.open(file, "rb") as gz, partial.open("wb") as out:
            shutil.copyfileobj(gz, out, CHUNK)
        os.replace(partial, target)
        return
    command = [
        _program("psql"),
        "--no-psqlrc",
        "--quiet",
        "--single-transaction",
        "--set=ON_ERROR_STOP=1",
    ]
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,  # the dump's SELECTs print rows nobody needs
            stderr=errors,
            env=libpq_env(database_url),
        ) as psql,
        gzip.open(file, "rb") as gz,
    ):
        assert psql.stdin is not None
        try:
            psql.stdin.write(REPLACE_SCHEMA)
            while chunk := gz.read(CHUNK):
                psql.stdin.write(chunk)
        except BrokenPipeError:
            pass  # psql stopped on an error; its exit code and stderr say which
        finally:
            psql.stdin.close()
        code = psql.wait()
        if code != 0:
            errors.seek(0)
            raise BackupError(f"psql failed ({code}): {errors.read().decode(errors='replace')}")
