"""Benchmark on PostgreSQL: one call with many applications (default 600), each scored by three of
ten reviewers: rank them with the normalised score, render the managers' list page, export as CSV
and XLSX, and assign K=3 reviewers automatically to all of them.

    .venv/bin/python bench/intake.py [--applications N] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]

It works in its own schema (``bench_intake``) of that database, rebuilt by the migrations. The last
line is a JSON object with the medians in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("INSTANCE_PATH", tempfile.mkdtemp(prefix="incubator-bench-"))
os.environ["INCUBATOR_ENV"] = "testing"

from sqlalchemy import create_engine, make_url, text  # noqa: E402

REVIEWERS = 10
PASSWORD = "bench password long enough"


def prepare(url: str, count: int) -> None:
    from alembic import command

    from incubator import create_app
    from incubator.accounts.models import User
    from incubator.accounts.services import hash_password
    from incubator.cli import alembic_config
    from incubator.cohorts.models import Programme
    from incubator.core.db import utcnow
    from incubator.core.permissions import Role
    from incubator.core.tenancy import all_orgs
    from incubator.extensions import db
    from incubator.intake.demo import FORM, RUBRIC
    from incubator.intake.models import Application, Call, Criterion, FormVersion, Review, ReviewStatus, Stage
    from incubator.orgs.models import Membership, Organisation

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS bench_intake CASCADE"))
        conn.execute(text("CREATE SCHEMA bench_intake"))
    engine.dispose()
    command.upgrade(alembic_config(url), "head")
    app = create_app({"DATABASE_URL": url})
    rng = random.Random(7)
    with app.test_request_context():
        session = db.session
        with all_orgs(session):
            org = Organisation(slug="bench", name="Bench incubator")
            session.add(org)
            session.flush()
            digest = hash_password(PASSWORD)
            manager = User(email="manager@bench.example.org", name="Manager", password_hash=digest)
            reviewers = [User(email=f"r{n}@bench.example.org", name=f"Reviewer {n}", password_hash=digest)
                         for n in range(REVIEWERS)]
            applicants = [User(email=f"a{n}@bench.example.org", name=f"Applicant {n}", password_hash=digest)
                          for n in range(count)]
            session.add_all([manager, *reviewers, *applicants])
            session.flush()
            session.add_all([Membership(org=org, user=manager, role=Role.OWNER),
                             *[Membership(org=org, user=u, role=Role.REVIEWER) for u in reviewers],
                             *[Membership(org=org, user=u, role=Role.FOUNDER) for u in applicants]])
            programme = Programme(org_id=org.id, name="Bench programme")
            now = utcnow()
            call = Call(org_id=org.id, programme=programme, title_en="Bench call", title_vi="Bench call",
                        opens_at=now - timedelta(days=10), closes_at=now + timedelta(days=10))
            call.versions.append(FormVersion(org_id=org.id, number=1, questions=FORM))
            call.criteria = [Criterion(org_id=org.id, key=k, label_en=en, label_vi=vi, scale_min=lo, scale_max=hi,
                                       weight=w, position=i) for i, (k, en, vi, lo, hi, w) in enumerate(RUBRIC)]
            session.add(call)
            session.flush()
            leniency = {u.id: rng.uniform(-1.5, 1.5) for u in reviewers}
            for n, user in enumerate(applicants):
                application = Application(
                    org_id=org.id, call=call, form_version=call.current_version, applicant=user,
                    stage=Stage.IN_REVIEW, submitted_at=now,
                    answers={"startup_name": f"Startup {n}", "sector": "agritech", "stage": "mvp", "country": "vn",
                             "problem": "x" * 800, "team_size": 4, "contact_email": user.email})
                session.add(application)
                quality = rng.uniform(0, 5)
                for reviewer in rng.sample(reviewers, 3):
                    scores = {c.key: max(c.scale_min, min(c.scale_max, round(
                        (quality + leniency[reviewer.id]) / 5 * c.scale_max))) for c in call.criteria}
                    session.add(Review(org_id=org.id, application=application, reviewer=reviewer, scores=scores,
                                       status=ReviewStatus.SUBMITTED, recommendation="maybe", submitted_at=now))
            session.commit()
    app.extensions["db_engine"].dispose()


def _median(samples: list[float]) -> float:
    return round(statistics.median(samples), 1)


def measure(url: str) -> dict[str, float]:
    from sqlalchemy import select

    from incubator import create_app
    from incubator.core.tenancy import set_current_org
    from incubator.extensions import db
    from incubator.intake import exports, ranking, review
    from incubator.intake.models import Application, Call, Review
    from incubator.orgs.models import Organisation

    app = create_app({"DATABASE_URL": url, "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False})
    result: dict[str, float] = {}
    with app.test_request_context():
        session = db.session
        org = session.execute(select(Organisation)).scalar_one()
        set_current_org(session, org)
        call = session.execute(select(Call)).scalar_one()
        samples = []
        for _run in range(10):
            began = time.perf_counter()
            rows = ranking.rank(session, call, sort="normalised")
            samples.append((time.perf_counter() - began) * 1000)
            session.expire_all()
        result["rank_normalised_ms"] = _median(samples)
        assert len(rows) == session.execute(select(Application.id)).all().__len__()
        for fmt, export in (("csv", exports.to_csv), ("xlsx", exports.to_xlsx)):
            began = time.perf_counter()
            export(session, call, "en")
            result[f"export_{fmt}_ms"] = round((time.perf_counter() - began) * 1000, 1)
        session.execute(Review.__table__.delete())
        session.expire_all()
        applications = session.execute(select(Application)).scalars().all()
        began = time.perf_counter()
        made = review.auto_assign(session, call, applications, k=3)
        result["auto_assign_k3_ms"] = round((time.perf_counter() - began) * 1000, 1)
        assert made == 3 * len(applications)
        session.rollback()
    client = app.test_client()
    client.post("/auth/login", data={"email": "manager@bench.example.org", "password": PASSWORD})
    with app.app_context():
        call_id = db.session.execute(select(Call.id).execution_options(all_orgs=True)).scalar_one()
    samples = []
    for _run in range(5):
        began = time.perf_counter()
        response = client.get(f"/o/bench/calls/{call_id}/applications?sort=normalised")
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    result["list_page_ms"] = _median(samples)
    app.extensions["db_engine"].dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applications", type=int, default=600)
    parser.add_argument("--url", default=os.environ.get("TEST_DATABASE_URL",
                                                        "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    url = make_url(args.url).update_query_dict({"options": "-csearch_path=bench_intake"}).render_as_string(
        hide_password=False)
    began = time.perf_counter()
    prepare(url, args.applications)
    print(f"prepared in {time.perf_counter() - began:.1f} s", file=sys.stderr)
    result = measure(url)
    print(json.dumps({"applications": args.applications, "reviews": 3 * args.applications, **result}))


if __name__ == "__main__":
    main()
