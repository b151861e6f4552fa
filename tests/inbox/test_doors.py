"""Same door for the to-do inbox: ``GET /api/v1/me/todo`` answers each kind of caller as the table says.

The list is the caller's own, across every organisation they belong to (and the invitations sent to
their address), so anyone signed in gets theirs (a member of another organisation and a platform admin
who is no member of bbi too: their list, not bbi's), and someone not signed in is asked to sign in. No
page shows that list whole: each organisation's dashboard shows its part (``tests/inbox/test_inbox.py``
checks the two agree item by item)."""

from __future__ import annotations

import pytest

from tests.doors import ROLES, Door, documented, person, walk

PERSONAL = {**dict.fromkeys(ROLES, "allowed"), "anonymous": "login"}  # everyone's own list, once signed in
NO_PAGE = ("no page lists the to-do of every organisation at once: each organisation's dashboard shows "
           "the part of it that is that organisation's")


def doors() -> list[Door]:
    return [
        Door("my to-do", ("GET", "/api/v1/me/todo", None), None, PERSONAL, no_page=NO_PAGE),
        Door("my to-do of one kind", ("GET", "/api/v1/me/todo?kind=review_assigned", None), None, PERSONAL,
             no_page=NO_PAGE),
        Door("my to-do, a page of it", ("GET", "/api/v1/me/todo?page=2&page_size=1", None), None, PERSONAL,
             no_page=NO_PAGE),
    ]


@pytest.mark.parametrize("role", ROLES)
def test_the_to_do_list_answers_each_kind_of_caller_as_the_table_says(app, session, world, role):
    wrong = walk(app, session, role, person(world, role), doors(), {})
    assert not wrong, f"{role}: {wrong}"


def test_the_table_walks_the_to_do_operation_of_the_document(app):
    """The to-do operations of the document (``/me/todo`` and any added under it) each have a row."""
    walked = {door.operation for door in doors()}
    inbox = {op for op in documented(app, {"api_accounts"}) if op[1].startswith("/api/v1/me/todo")}
    assert inbox == {("GET", "/api/v1/me/todo")} and walked == inbox
    assert all(door.no_page for door in doors() if door.page is None)
