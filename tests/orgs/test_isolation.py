"""Tenant isolation: every org route of the app, as outsiders of every role, with real ids.

The walk reads ``app.url_map``, so routes added later are covered without editing this file.
The victim organisation is ``bbi`` filled by ``seed-demo``; each ``<..._id>`` in a rule is filled
with the id of a real row of the victim organisation, found by the argument's name (``call_id``
-> the model whose table is ``calls``). Domain issues add their rows to the demo data.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

from incubator.accounts.services import create_api_token
from incubator.core.permissions import Role
from incubator.demo import seed
from incubator.models import Base
from incubator.orgs.models import Organisation
from tests.conftest import csrf_token, login
from tests.factories import member

SKIP_METHODS = {"HEAD", "OPTIONS"}
ORG_ARGS = {"org_slug", "org"}


def _models_by_table() -> dict[str, Any]:
    return {mapper.class_.__tablename__: mapper.class_ for mapper in Base.registry.mappers}


def _model_for(arg: str) -> Any:
    stem = arg.removesuffix("_id")
    tables = _models_by_table()
    for name in (stem + "s", stem + "es", stem[:-1] + "ies" if stem.endswith("y") else None, stem):
        if name and name in tables:
            return tables[name]
    raise AssertionError(f"isolation test: no model for URL argument <{arg}>; name it after a table")


def _real_id(session, model: Any, org: Organisation) -> int:
    row = session.execute(select(model.id).where(model.org_id == org.id).limit(1)).scalar()
    assert row is not None, (
        f"isolation test: the demo data has no {model.__name__} in {org.slug}; add one to seed-demo so that"
        f" its routes are walked with a real id"
    )
    return row


def org_rules(app) -> list[Any]:
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.arguments & ORG_ARGS:
            rules.append(rule)
    return sorted(rules, key=lambda r: r.rule)


def url_args(rule) -> set[str]:
    """The variable parts of a rule that are not fixed by its defaults."""
    return set(rule.arguments) - set(rule.defaults or {})


def build_url(app, rule, slug: str, ids: dict[str, int]) -> str:
    values: dict[str, Any] = dict(rule.defaults or {})
    for arg in url_args(rule):
        if arg in ORG_ARGS:
            values[arg] = slug
        elif arg.endswith("_id"):
            values[arg] = ids[arg]
        else:
            raise AssertionError(f"isolation test: cannot fill <{arg}> in {rule.rule}")
    return rule.build(values, append_unknown=False)[1]


def _is_public(app, rule) -> bool:
    return bool(getattr(app.view_functions[rule.endpoint], "_public", False))


@pytest.fixture()
def world(app, session):
    """bbi (the victim, from the demo data) and an attacker organisation with a member of every role."""
    with app.test_request_context():
        seed(session, "demo password long enough")
        session.flush()
        victim = session.execute(select(Organisation).where(Organisation.slug == "bbi")).scalar_one()
        attacker_org = session.execute(select(Organisation).where(Organisation.slug == "tdmu")).scalar_one()
        outsiders = {role: member(attacker_org, role) for role in Role}
        tokens = {role: create_api_token(session, user, "isolation")[0] for role, user in outsiders.items()}
        session.flush()
    ids: dict[str, int] = {}
    for rule in org_rules(app):
        for arg in url_args(rule) - ORG_ARGS:
            if arg not in ids:
                ids[arg] = _real_id(session, _model_for(arg), victim)
    return {"victim": victim, "attacker_org": attacker_org, "outsiders": outsiders, "tokens": tokens, "ids": ids}


def _request(client, method: str, url: str, token: str | None, csrf: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if method == "GET":
        return client.get(url, headers=headers)
    data = {"csrf_token": csrf} if csrf else None
    if url.startswith("/api/"):
        return client.open(url, method=method, headers=headers, json={})
    return client.open(url, method=method, headers=headers, data=data)


def test_walk_covers_the_org_routes(app):
    endpoints = {rule.endpoint for rule in org_rules(app)}
    assert {"orgs.dashboard", "orgs.members", "orgs.change_role", "api_orgs.get_org"} <= endpoints


@pytest.mark.parametrize("role", list(Role))
def test_outsiders_get_404_for_every_org_route(app, client, world, role):
    """Members of another organisation, whatever their role, learn nothing about bbi."""
    user = world["outsiders"][role]
    assert login(client, user.email).status_code == 302
    csrf = csrf_token(client, "/account")
    leaks = []
    for rule in org_rules(app):
        if _is_public(app, rule):
            continue
        url = build_url(app, rule, world["victim"].slug, world["ids"])
        for method in sorted(rule.methods - SKIP_METHODS):
            token = world["tokens"][role] if url.startswith("/api/") else None
            response = _request(client, method, url, token, csrf)
            if response.status_code != 404:
                leaks.append(f"{method} {url} -> {response.status_code}")
    assert not leaks, "\n".join(leaks)


def test_own_org_urls_with_the_victims_ids_answer_404(app, client, world):
    """A manager of the attacker organisation puts bbi's ids into their own organisation's URLs."""
    user = world["outsiders"][Role.OWNER]
    assert login(client, user.email).status_code == 302
    csrf = csrf_token(client, "/account")
    leaks = []
    for rule in org_rules(app):
        if not (url_args(rule) - ORG_ARGS):
            continue
        url = build_url(app, rule, world["attacker_org"].slug, world["ids"])
        for method in sorted(rule.methods - SKIP_METHODS):
            token = world["tokens"][Role.OWNER] if url.startswith("/api/") else None
            response = _request(client, method, url, token, csrf)
            if response.status_code != 404:
                leaks.append(f"{method} {url} -> {response.status_code}")
    assert not leaks, "\n".join(leaks)


def test_signed_in_user_without_membership_and_anonymous_learn_nothing(app, client, world, session):
    from tests.factories import UserFactory

    loner = UserFactory()
    session.flush()
    existing, missing = world["victim"].slug, "no-such-org"
    for rule in org_rules(app):
        if _is_public(app, rule) or rule.rule.startswith("/api/"):
            continue
        for method in sorted(rule.methods - SKIP_METHODS):
            if method != "GET":
                continue
            anon = [client.get(build_url(app, rule, s, world["ids"])) for s in (existing, missing)]
            assert [r.status_code for r in anon] == [302, 302]
            assert all(re.search(r"/auth/login", r.headers["Location"]) for r in anon)
    assert login(client, loner.email).status_code == 302
    for rule in org_rules(app):
        if _is_public(app, rule) or rule.rule.startswith("/api/"):
            continue
        if "GET" in rule.methods:
            assert client.get(build_url(app, rule, existing, world["ids"])).status_code == 404
