"""What a web worker loads: ``import wsgi`` (``create_app()``) must not pull in the heavy libraries that
only some requests, jobs or commands use. With ``gunicorn --preload`` whatever the app imports is in
every worker; the PDF stack, the migrations and the matching solver are loaded where they are used."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# weasyprint: PDF reports; alembic: `flask db`; numpy, ortools, scipy.optimize, networkx: the mentor matching
# (its scores and solver); icalendar: calendar feeds and invitations.
LAZY = ("weasyprint", "alembic", "numpy", "ortools", "scipy.optimize", "networkx", "icalendar")


def _loaded_after(code: str, tmp_path: Path) -> list[str]:
    """Run ``code`` in a fresh production-like interpreter; answer which of LAZY it left in sys.modules."""
    script = f"import json, sys\n{code}\nprint(json.dumps([m for m in {LAZY!r} if m in sys.modules]))"
    env = {**os.environ, "INCUBATOR_ENV": "production", "SECRET_KEY": "s" * 40, "INSTANCE_PATH": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'startup.db'}", "PYTHONPATH": str(ROOT),
           "REDIS_URL": "redis://127.0.0.1:6379/15"}  # production needs one; nothing connects at start
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    loaded: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return loaded


def test_create_app_leaves_the_pdf_stack_the_migrations_and_the_solver_unloaded(tmp_path):
    assert _loaded_after("import wsgi", tmp_path) == []


def test_the_check_sees_a_module_that_is_loaded(tmp_path):
    # The same probe, after the code paths that do need them: it would catch an eager import.
    code = "import wsgi\nimport incubator.reporting.pdf\nfrom incubator.cli import alembic_config\n" \
           "alembic_config('sqlite://')"
    assert _loaded_after(code, tmp_path) == ["weasyprint", "alembic", "numpy"]  # the PDF stack loads NumPy


def test_numpy_is_loaded_when_a_matching_is_scored(tmp_path):
    code = "import wsgi\nfrom incubator.mentoring import matching"
    assert "numpy" in _loaded_after(code, tmp_path)


FORK_CHECK = """
import json, os, wsgi
from incubator import after_fork
engine = wsgi.app.extensions["db_engine"]
before_fork = engine.pool.checkedin()  # create_app() opened no connection (nothing to share with --preload)
with engine.connect() as connection:
    connection.exec_driver_sql("select 1")
pid = os.fork()
if pid == 0:  # a worker
    after_fork(wsgi.app)
    empty = engine.pool.checkedin() == 0
    with engine.connect() as connection:  # its own connection
        connection.exec_driver_sql("select 1")
    os._exit(0 if empty else 3)
_pid, status = os.waitpid(pid, 0)
with engine.connect() as connection:  # the parent's pooled connection was left open for it
    connection.exec_driver_sql("select 1")
print(json.dumps([before_fork, os.waitstatus_to_exitcode(status), engine.pool.checkedin()]))
"""


def test_a_forked_worker_starts_its_own_pool_and_leaves_the_parents_connection_open(tmp_path):
    env = {**os.environ, "INCUBATOR_ENV": "production", "SECRET_KEY": "s" * 40, "INSTANCE_PATH": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'fork.db'}", "PYTHONPATH": str(ROOT),
           "REDIS_URL": "redis://127.0.0.1:6379/15"}
    done = subprocess.run([sys.executable, "-c", FORK_CHECK], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == [0, 0, 1]


def test_gunicorn_settings_preload_and_hand_the_app_to_the_fork_hook(tmp_path):
    from types import SimpleNamespace

    import config
    from incubator import create_app

    assert config.preload_app is True
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'hook.db'}"})
    engine = app.extensions["db_engine"]
    with engine.connect() as connection:
        connection.exec_driver_sql("select 1")
    assert engine.pool.checkedin() == 1
    config.post_fork(SimpleNamespace(app=SimpleNamespace(callable=None)), None)  # without --preload: nothing
    assert engine.pool.checkedin() == 1
    config.post_fork(SimpleNamespace(app=SimpleNamespace(callable=app)), None)
    assert engine.pool.checkedin() == 0
    engine.dispose()
