from __future__ import annotations

from sqlalchemy import select, text

from incubator.accounts.models import User
from incubator.demo import DEMO_USERS
from incubator.extensions import db
from incubator.models import Base
from incubator.orgs.models import Membership, Organisation


def _snapshot(session) -> dict[str, list]:
    """Every row of every table, to prove that a second seed changes nothing."""
    return {
        table.name: sorted(map(tuple, session.execute(select(table)).all()), key=repr)
        for table in Base.metadata.sorted_tables
    }


def test_seed_demo_loads_the_demo_and_is_idempotent(app, session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert app.config["DEMO_PASSWORD"] in first.output
    for email, *_ in DEMO_USERS:
        assert email in first.output
    before = _snapshot(session)
    second = runner.invoke(args=["seed-demo"])
    assert second.exit_code == 0, second.output
    session.expire_all()
    assert _snapshot(session) == before
    slugs = set(session.execute(select(Organisation.slug)).scalars())
    assert {"bbi", "tdmu"} <= slugs
    founder = session.execute(select(User).where(User.email == "founder@bbi.example.com")).scalar_one()
    role = session.execute(select(Membership.role).where(Membership.user_id == founder.id)).scalar_one()
    assert role == "founder"
    admin = session.execute(select(User).where(User.email == "admin@example.com")).scalar_one()
    assert admin.is_admin
    # The open call's rubric says what its scores mean, in both languages.
    from incubator.intake.models import Call

    call = session.execute(select(Call).where(Call.title_en == "BBI Incubation 2027")).scalar_one()
    assert all(c.levels for c in call.criteria)
    team = next(c for c in call.criteria if c.key == "team")
    assert set(team.levels) == {"0", "3", "5"} and all(t["en"] and t["vi"] for t in team.levels.values())
    team.levels = {}  # a demo loaded before criteria had descriptions
    session.commit()
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    session.expire_all()
    assert set(team.levels) == {"0", "3", "5"}


def test_demo_accounts_sign_in_with_the_demo_password(app, client, session):
    from tests.conftest import login

    app.test_cli_runner().invoke(args=["seed-demo"])
    response = login(client, "manager@bbi.example.com", app.config["DEMO_PASSWORD"])
    assert response.headers["Location"] == "/o/bbi/"


def test_create_admin(app, session):
    result = app.test_cli_runner().invoke(args=["create-admin", "ops@example.org"])
    assert result.exit_code == 0, result.output
    user = session.execute(select(User).where(User.email == "ops@example.org")).scalar_one()
    assert user.is_admin
    assert "Password: " in result.output


def test_issue_token_prints_a_working_token_last(app, client, session):
    from tests.factories import UserFactory

    user = UserFactory(email="robot@example.org")
    session.flush()
    result = app.test_cli_runner().invoke(args=["issue-token", "robot@example.org"])
    assert result.exit_code == 0, result.output
    token = result.output.split()[-1]
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.get_json()["id"] == user.id


def test_issue_token_for_an_unknown_email_fails(app):
    result = app.test_cli_runner().invoke(args=["issue-token", "nobody@example.org"])
    assert result.exit_code != 0 and "no user" in result.output


def test_db_check_is_clean(app):
    result = app.test_cli_runner().invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output
    assert "agree" in result.output


def test_db_check_fails_when_the_models_drift_from_the_migrations(app):
    from sqlalchemy import Column, Integer, Table

    probe = Table("drift_probe", Base.metadata, Column("id", Integer, primary_key=True))
    try:
        result = app.test_cli_runner().invoke(args=["db", "check"])
    finally:
        Base.metadata.remove(probe)
    assert result.exit_code != 0
    assert "disagree" in result.output and "drift_probe" in result.output


def test_db_check_works_on_a_fresh_clone_without_a_database(tmp_path):
    """Before any `flask db upgrade`: the comparison runs on a scratch database built by the migrations."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "TEST_"))}
    env.update(INCUBATOR_ENV="development", INSTANCE_PATH=str(tmp_path / "instance"),
               DATABASE_URL=f"sqlite:///{tmp_path}/missing/never-created.db")
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "check"], env=env,
                            capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert result.returncode == 0, result.stderr
    assert "The models and the migrations agree" in result.stdout
    assert "flask db upgrade" in result.stdout


def test_db_current_revision_is_head(app, connection):
    with app.app_context():
        version = db.session.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    from alembic.script import ScriptDirectory

    from incubator.cli import alembic_config

    assert version == ScriptDirectory.from_config(alembic_config(app.config["DATABASE_URL"])).get_current_head()
