"""Browser journeys: Playwright driving Debian's Chromium against a live server.

The server runs in a thread on a free loopback port with its own database (a SQLite file, or a
``browser`` schema in the PostgreSQL database of ``TEST_DATABASE_URL``), migrated and loaded
with the demo data, as after ``make run``. Under pytest-xdist the journeys form one group (one
worker), and that worker's ``TEST_DATABASE_URL`` already names its own database (tests/conftest.py).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from sqlalchemy import make_url
from werkzeug.serving import make_server

from tests.conftest import ALLOWED_PORTS, migrate, reset_database

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups (its own hook of the same name)
def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if Path(item.fspath).is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            # Under xdist (--dist loadgroup) the journeys share one worker: one seeded server, one Chromium.
            item.add_marker(pytest.mark.xdist_group("browser"))
            if not CHROMIUM.exists():
                item.add_marker(pytest.mark.skip(reason="Debian's chromium is not installed (make chromium)"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "locale": "en-GB", "viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    from incubator import create_app
    from incubator.demo import seed
    from incubator.extensions import db

    pg = os.environ.get("TEST_DATABASE_URL")
    if pg:
        url = make_url(pg).update_query_dict({"options": "-csearch_path=browser"}).render_as_string(
            hide_password=False)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'live.db'}"
    reset_database(url)
    migrate(url)
    app = create_app({"DATABASE_URL": url, "SERVER_NAME": None})
    with app.app_context():
        seed(db.session, app.config["DEMO_PASSWORD"])
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # The fake payment gateway posts its signed webhooks to this server, as Stripe would.
    app.config.update(PUBLIC_URL=f"http://127.0.0.1:{server.server_port}", FAKE_STRIPE_DELIVERY="http")
    ALLOWED_PORTS.add(server.server_port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app, "password": app.config["DEMO_PASSWORD"]}
    server.shutdown()
    thread.join(5)
    app.extensions["db_engine"].dispose()


@pytest.fixture(scope="session")
def seeded_languages(live_server):
    """Every user's saved language as the demo left it, read once before the first journey."""
    from sqlalchemy import select

    from incubator.accounts.models import User
    from incubator.extensions import db

    with live_server["app"].app_context():
        return {user_id: locale for user_id, locale in db.session.execute(select(User.id, User.locale))}


@pytest.fixture(autouse=True)
def demo_languages(live_server, seeded_languages):
    """Each journey starts with the languages the demo saved, whatever an earlier journey chose (or
    left chosen when it failed half-way): a journey may depend on what the demo gives, never on
    which journeys ran before it in the same worker."""
    from sqlalchemy import select

    from incubator.accounts.models import User
    from incubator.extensions import db

    with live_server["app"].app_context():
        for user in db.session.execute(select(User).where(User.id.in_(seeded_languages))).scalars():
            if user.locale != seeded_languages[user.id]:
                user.locale = seeded_languages[user.id]
        db.session.commit()


@pytest.fixture()
def shot():
    """Save a screenshot of a page under test-results/ (to look at; nothing asserts on pixels)."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def _shot(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return _shot
