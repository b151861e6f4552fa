"""``flask backup DIR`` and ``flask restore DIR``: the database and every stored file, with a manifest.

A backup folder holds::

    manifest.json          written last: a folder without it is an unfinished backup
    database.dump          PostgreSQL: pg_dump --format=custom (or database.sqlite: SQLite's backup API)
    files/<k[:2]>/<key>    every object of the storage (local folder or S3 bucket prefix)

The manifest names each file with its size and SHA-256, and the database copy with its own. The database
is copied first and the files after it: keys are random and never rewritten, so every file that a row of
the copy names is already stored when the files are listed (a file deleted in between is the one exception,
and its row was being deleted too).

Restore checks every checksum of the folder before it writes anything, then refuses a database that has
tables or a storage that has files unless ``--force`` is given, loads the database (``pg_restore``, or
SQLite's backup API), puts every file back under its key and reads each one back to compare its checksum.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL

from incubator.core.storage import CHUNK, Readable, Storage, check_key

MANIFEST = "manifest.json"
FORMAT = 1
PG_DUMP_FILE = "database.dump"
SQLITE_FILE = "database.sqlite"


class BackupError(Exception):
    """The backup or the restore cannot go on; the message says why (nothing was written by a refusal)."""


@dataclass
class Summary:
    tables: int
    files: int
    bytes: int


def sha256_of(stream: Readable | BinaryIO) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _file_sha256(path: Path) -> tuple[str, int]:
    with path.open("rb") as stream:
        return sha256_of(stream)


def _file_path(root: Path, key: str) -> Path:
    key = check_key(key)
    return root / "files" / key[:2] / key


# -- PostgreSQL through its own tools ------------------------------------------------------------------

def _pg_env(url: URL) -> dict[str, str]:
    """libpq's variables for the URL (the password stays out of the command line)."""
    env = {**os.environ, "PGDATABASE": url.database or "postgres", "PGUSER": url.username or "postgres"}
    if url.host:
        env["PGHOST"] = url.host
    if url.port:
        env["PGPORT"] = str(url.port)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return env


def pg_schema(url: URL) -> str | None:
    """The schema that ``options=-csearch_path=...`` narrows the URL to (None: the whole database)."""
    options = url.query.get("options", "")
    found = re.search(r"search_path=(\w+)", options if isinstance(options, str) else " ".join(options))
    return found.group(1) if found else None


def _run(command: list[str], env: dict[str, str]) -> None:
    # pg_dump / pg_restore with options built here; the URL's parts travel in libpq's variables
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{command[0]} failed: {result.stderr.strip() or result.stdout.strip()}")


def _user_tables(url: str) -> list[str]:
    """The tables in the URL's schema (PostgreSQL: every non-system schema when none is named)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or not path.exists():
            return []
        with sqlite3.connect(path) as conn:
            return [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                               "AND name NOT LIKE 'sqlite_%'")]
    schema = pg_schema(parsed)
    engine = create_engine(parsed)
    try:
        with engine.connect() as conn:
            if schema:
                query = text("SELECT table_name FROM information_schema.tables WHERE table_schema = :schema")
                return list(conn.execute(query, {"schema": schema}).scalars())
            return list(conn.execute(text(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema')")).scalars())
    finally:
        engine.dispose()


def _pg_extensions(url: URL) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(text("SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' "
                                          "ORDER BY extname")).scalars())
    finally:
        engine.dispose()


def _dump_database(url: str, folder: Path) -> dict[str, Any]:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or not Path(parsed.database).exists():
            raise BackupError(f"no SQLite database at {parsed.database!r}")
        target = folder / SQLITE_FILE
        source, copy = sqlite3.connect(parsed.database), sqlite3.connect(target)
        try:
            source.backup(copy)  # a consistent copy while the app keeps writing (SQLite's online backup API)
        finally:
            copy.close()
            source.close()
        info: dict[str, Any] = {"dialect": "sqlite", "file": SQLITE_FILE}
    else:
        schema = pg_schema(parsed)
        command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={folder / PG_DUMP_FILE}"]
        if schema:
            command.append(f"--schema={schema}")
        _run(command, _pg_env(parsed))
        # A schema's dump leaves out the extensions its tables use (btree_gist): restore creates them first.
        info = {"dialect": "postgresql", "file": PG_DUMP_FILE, "schema": schema,
                "extensions": _pg_extensions(parsed) if schema else []}
    info["sha256"], info["size"] = _file_sha256(folder / info["file"])
    return info


def _load_database(url: str, folder: Path, info: dict[str, Any], force: bool) -> None:
    parsed = make_url(url)
    source = folder / info["file"]
    if info["dialect"] != parsed.get_backend_name():
        raise BackupError(f"the backup holds a {info['dialect']} database, the target is "
                          f"{parsed.get_backend_name()}")
    if info["dialect"] == "sqlite":
        if not parsed.database:
            raise BackupError("restore needs a SQLite file, not an in-memory database")
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        backup_conn, target = sqlite3.connect(source), sqlite3.connect(parsed.database)
        try:
            backup_conn.backup(target)  # replaces the target's pages whole
        finally:
            target.close()
            backup_conn.close()
        return
    schema = pg_schema(parsed)
    if schema != info.get("schema"):
        raise BackupError(f"the backup holds schema {info.get('schema') or 'public'}, "
                          f"the target URL names {schema or 'public'}")
    engine = create_engine(parsed, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            for name in info.get("extensions", []):
                conn.execute(text(f'CREATE EXTENSION IF NOT EXISTS "{name}"'))
            if schema and not force:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}"'))  # empty (checked): the dump creates it
    finally:
        engine.dispose()
    command = ["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
               f"--dbname={parsed.database or 'postgres'}"]
    if force:
        command += ["--clean", "--if-exists"]
    _run([*command, str(source)], _pg_env(parsed))


# -- the two commands ----------------------------------------------------------------------------------

def backup(url: str, store: Storage, folder: Path, revision: str | None = None) -> Summary:
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty: give a new folder for each backup")
    folder.mkdir(parents=True, exist_ok=True)
    database = _dump_database(url, folder)
    database["alembic_revision"] = revision
    files, total = [], 0
    for key in sorted(store.all_keys()):
        path = _file_path(folder, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            stream = store.open(key)
        except FileNotFoundError:  # deleted since it was listed
            continue
        digest = hashlib.sha256()
        size = 0
        with stream, path.open("wb") as out:
            while chunk := stream.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
        files.append({"key": key, "size": size, "sha256": digest.hexdigest()})
        total += size
    manifest = {"format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "database": database, "files": files}
    partial = folder / (MANIFEST + ".part")
    partial.write_text(json.dumps(manifest, indent=1))
    partial.rename(folder / MANIFEST)  # last, and whole: its presence marks a finished backup
    return Summary(tables=len(_user_tables(url)), files=len(files), bytes=total)


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} has no {MANIFEST}: not a backup, or an unfinished one")
    manifest: dict[str, Any] = json.loads(path.read_text())
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    return manifest


def verify(folder: Path, manifest: dict[str, Any]) -> None:
    """Every file of the backup folder has the size and SHA-256 the manifest says."""
    database = manifest["database"]
    entries = [("database", folder / database["file"], database),
               *((f["key"], _file_path(folder, f["key"]), f) for f in manifest["files"])]
    for name, path, entry in entries:
        if not path.is_file():
            raise BackupError(f"{name}: missing from the backup ({path})")
        digest, size = _file_sha256(path)
        if (digest, size) != (entry["sha256"], entry["size"]):
            raise BackupError(f"{name}: checksum mismatch in the backup (the file is damaged)")


def restore(url: str, store: Storage, folder: Path, *, force: bool = False) -> Summary:
    manifest = read_manifest(folder)
    verify(folder, manifest)
    if not force:
        tables = _user_tables(url)
        if tables:
            raise BackupError(f"the database is not empty ({len(tables)} tables): restore into an empty "
                              "database, or give --force to replace it")
        if next(iter(store.all_keys()), None) is not None:
            raise BackupError("the storage is not empty: restore into an empty bucket or folder, or give "
                              "--force to write over it")
    _load_database(url, folder, manifest["database"], force)
    total = 0
    for entry in manifest["files"]:
        with _file_path(folder, entry["key"]).open("rb") as stream:
            store.save_as(entry["key"], stream)
        with store.open(entry["key"]) as stored:
            digest, size = sha256_of(stored)
        if (digest, size) != (entry["sha256"], entry["size"]):
            raise BackupError(f"{entry['key']}: the storage gave back other bytes than were written")
        total += size
    return Summary(tables=len(_user_tables(url)), files=len(manifest["files"]), bytes=total)
