"""``flask backup`` and ``flask restore``: the demo with its files, backed up and restored into an empty
database and an empty storage (a local folder, and a bucket of the moto S3 server), row for row and byte
for byte, on the run's database (SQLite, or PostgreSQL with TEST_DATABASE_URL); and what restore refuses."""

from __future__ import annotations

import hashlib
import io
import json
import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, make_url, text
from werkzeug.datastructures import FileStorage

from incubator.extensions import db
from tests.conftest import create_database_if_missing, migrate

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


def _postgres() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return url if url and make_url(url).get_backend_name() == "postgresql" else None


def _fresh_database(kind: str, tmp_path: Path, name: str) -> str:
    """An empty database of its own: a SQLite file not yet made, or a new PostgreSQL database."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path / name}.db"
    base = make_url(_postgres() or "")
    url = base.set(database=f"{base.database}_{name}").render_as_string(hide_password=False)
    server = create_engine(base.set(database="postgres", query={}), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    server.dispose()
    create_database_if_missing(url)
    return url


def _drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        return
    server = create_engine(parsed.set(database="postgres", query={}), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    server.dispose()


def _app(database_url: str, storage: dict[str, str]):
    from incubator import create_app

    return create_app({"DATABASE_URL": database_url, **storage})


def table_digests(url: str) -> dict[str, tuple[int, str]]:
    """Per table: its row count and the SHA-256 of its rows in primary key order (read by plain SQL)."""
    engine = create_engine(url)
    found: dict[str, tuple[int, str]] = {}
    try:
        with engine.connect() as conn:
            inspector = inspect(conn)
            for table in sorted(inspector.get_table_names()):
                keys = inspector.get_pk_constraint(table)["constrained_columns"] or \
                    [c["name"] for c in inspector.get_columns(table)]
                order = ", ".join(f'"{k}"' for k in keys)
                rows = conn.execute(text(f'SELECT * FROM "{table}" ORDER BY {order}')).all()  # noqa: S608
                digest = hashlib.sha256()
                for row in rows:
                    digest.update(repr(tuple(row)).encode())
                found[table] = (len(rows), digest.hexdigest())
    finally:
        engine.dispose()
    return found


def stored_files(app) -> dict[str, bytes]:
    from incubator.core.storage import storage

    with app.app_context():
        backend = storage()
        files = {}
        for key in backend.all_keys():
            with backend.open(key) as stream:
                files[key] = stream.read()
        return files


def _seed_with_files(app) -> None:
    """The demo (``flask seed-demo``: its applications carry pitch decks) and a report logo uploaded
    through the reporting service, as the branding page does."""
    from incubator.orgs.models import Organisation
    from incubator.reporting.services import save_logo

    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        from sqlalchemy import select

        from incubator.core.tenancy import ALL_ORGS

        db.session.info[ALL_ORGS] = True
        org = db.session.execute(select(Organisation).where(Organisation.slug == "bbi")).scalar_one()
        save_logo(db.session, org, FileStorage(io.BytesIO(PNG), filename="logo.png"))
        db.session.commit()


@pytest.fixture(scope="module")
def dialect() -> str:
    """The run's own database: PostgreSQL when TEST_DATABASE_URL names one (CI's second run), else SQLite.
    Each seeding of the demo is the slow part, so a run does not repeat the other run's database."""
    return "postgresql" if _postgres() else "sqlite"


# Both storage kinds on SQLite; on PostgreSQL (CI's second run) the local folder only: what differs
# between the kinds is the storage's side, which does not depend on the database.
@pytest.fixture(scope="module", params=["local"] if _postgres() else ["local", "s3"])
def storage_kind(request):
    return request.param


def _storage_settings(kind: str, request, tmp_path: Path, name: str) -> dict[str, str]:
    if kind == "s3":
        from tests.storage_fixtures import S3_BUCKET, S3_KEYS

        endpoint = request.getfixturevalue("s3_endpoint")
        return {"STORAGE_URL": f"s3://{S3_BUCKET}/bk-{name}-{uuid.uuid4().hex[:8]}", "S3_ENDPOINT_URL": endpoint,
                **S3_KEYS}
    return {"STORAGE_URL": f"file://{tmp_path / name}-{uuid.uuid4().hex[:8]}"}


@pytest.fixture(scope="module")
def backed_up(dialect, storage_kind, request, tmp_path_factory):
    """The demo with its files in a database and a storage of their own, and its backup folder (made once
    per database and storage kind: seeding is the slow part)."""
    tmp_path = tmp_path_factory.mktemp("backup-source")
    url = _fresh_database(dialect, tmp_path, f"bk_src_{uuid.uuid4().hex[:6]}")
    migrate(url)
    app = _app(url, _storage_settings(storage_kind, request, tmp_path, "src-files"))
    _seed_with_files(app)
    folder = tmp_path / "backup"
    done = app.test_cli_runner().invoke(args=["backup", str(folder)])
    assert done.exit_code == 0, done.output
    yield app, folder
    app.extensions["db_engine"].dispose()
    _drop_database(url)


@pytest.fixture()
def source(backed_up):
    return backed_up[0]


@pytest.fixture()
def backup_copy(backed_up, tmp_path):
    """A copy of the backup folder that a test may damage."""
    import shutil

    return Path(shutil.copytree(backed_up[1], tmp_path / "backup"))


@pytest.fixture()
def target(dialect, storage_kind, request, tmp_path):
    """An empty database (no tables) and an empty storage."""
    url = _fresh_database(dialect, tmp_path, f"bk_dst_{uuid.uuid4().hex[:6]}")
    app = _app(url, _storage_settings(storage_kind, request, tmp_path, "dst-files"))
    yield app
    app.extensions["db_engine"].dispose()
    _drop_database(url)


def test_a_backup_restored_into_an_empty_database_and_storage_has_every_row_and_file(source, backup_copy,
                                                                                     target):
    folder = backup_copy
    manifest = json.loads((folder / "manifest.json").read_text())
    originals = stored_files(source)
    assert len(originals) >= 2 and PNG in originals.values()  # the demo's pitch decks and the logo
    assert {f["key"]: (f["size"], f["sha256"]) for f in manifest["files"]} == {
        k: (len(v), hashlib.sha256(v).hexdigest()) for k, v in originals.items()}

    restored = target.test_cli_runner().invoke(args=["restore", str(folder)])
    assert restored.exit_code == 0, restored.output
    assert "checksums verified" in restored.output

    before, after = table_digests(source.config["DATABASE_URL"]), table_digests(target.config["DATABASE_URL"])
    assert before["users"][0] > 0 and before["applications"][0] > 0 and before["report_brandings"][0] == 1
    assert after == before
    assert stored_files(target) == originals
    # The restored app works on what it got back: the demo's manager signs in.
    client = target.test_client()
    page = client.get("/auth/login")
    assert page.status_code == 200


def test_restore_refuses_a_database_with_tables_unless_forced(source, backup_copy, tmp_path, request,
                                                              storage_kind):
    folder = backup_copy
    other = _app(source.config["DATABASE_URL"], _storage_settings(storage_kind, request, tmp_path, "empty"))
    refused = other.test_cli_runner().invoke(args=["restore", str(folder)])
    assert refused.exit_code != 0 and "database is not empty" in refused.output
    assert stored_files(other) == {}  # nothing was written into the storage either
    forced = other.test_cli_runner().invoke(args=["restore", "--force", str(folder)])
    assert forced.exit_code == 0, forced.output
    assert table_digests(other.config["DATABASE_URL"]) == table_digests(source.config["DATABASE_URL"])
    assert stored_files(other) == stored_files(source)
    other.extensions["db_engine"].dispose()


def test_restore_refuses_a_storage_with_files(backup_copy, target):
    from incubator.core.storage import storage

    folder = backup_copy
    with target.app_context():
        storage().save(io.BytesIO(b"already here"), ".txt")
    refused = target.test_cli_runner().invoke(args=["restore", str(folder)])
    assert refused.exit_code != 0 and "storage is not empty" in refused.output
    assert table_digests(target.config["DATABASE_URL"]) == {}


def test_a_damaged_backup_is_refused_before_anything_is_written(backup_copy, target):
    folder = backup_copy
    manifest = json.loads((folder / "manifest.json").read_text())
    key = manifest["files"][-1]["key"]
    damaged = folder / "files" / key[:2] / key
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    refused = target.test_cli_runner().invoke(args=["restore", str(folder)])
    assert refused.exit_code != 0 and f"{key}: checksum mismatch" in refused.output
    assert table_digests(target.config["DATABASE_URL"]) == {}
    assert stored_files(target) == {}


def test_backup_wants_a_new_folder(source, tmp_path):
    folder = tmp_path / "used"
    folder.mkdir()
    (folder / "something").write_text("x")
    refused = source.test_cli_runner().invoke(args=["backup", str(folder)])
    assert refused.exit_code != 0 and "not empty" in refused.output
