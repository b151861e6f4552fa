"""Secret, revocable addresses of the iCal feeds: one table and one scheme for every feed.

A feed is named by its organisation, its kind and its owner's id: a person's bookings in one
organisation (the owner is the user), a resource's bookings (the resource), a mentor's sessions (the
mentor profile). Its address carries a random token of which only the hash is stored
(``core.tokens``). Making a new address revokes the feed's previous one; a revoked token, or one of
another kind, answers 404 at the feed's door, as an unknown one does.

The owner is a plain id, not a foreign key (``core`` knows no domain's tables): the feed's door loads
the owner and answers 404 when it is gone.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import Index, String, or_, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Mapped, Session, mapped_column

from incubator.core.db import Base, OrgScoped, intpk, utcnow
from incubator.core.tenancy import all_orgs
from incubator.core.tokens import hash_token, new_token


class FeedKind(StrEnum):
    BOOKINGS = "bookings"  # a person's bookings in one organisation; owner: the user
    RESOURCE = "resource"  # a resource's bookings; owner: the resource
    MENTOR = "mentor"  # a mentor's sessions; owner: the mentor profile


class FeedToken(OrgScoped, Base):
    """One address of one feed. At most one live (unrevoked) token per feed: a partial unique index."""

    __tablename__ = "feed_tokens"
    __table_args__ = (
        Index("ix_feed_tokens_live", "org_id", "kind", "owner_id", unique=True,
              sqlite_where=text("revoked_at IS NULL"), postgresql_where=text("revoked_at IS NULL")),
    )

    id: Mapped[intpk]
    kind: Mapped[FeedKind] = mapped_column(String(12))
    owner_id: Mapped[int]
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    @property
    def is_live(self) -> bool:
        return self.revoked_at is None


def revoke_feed(session: Session, *, org_id: int, kind: FeedKind, owner_id: int,
                now: datetime | None = None) -> int:
    """Revoke the feed's live address (its URL answers 404 from now on). Answers how many were revoked."""
    with all_orgs(session):  # the statement names its organisation itself (CLI and jobs set none)
        result = session.execute(
            update(FeedToken).where(FeedToken.org_id == org_id, FeedToken.kind == kind,
                                    FeedToken.owner_id == owner_id, FeedToken.revoked_at.is_(None))
            .values(revoked_at=now or utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def _lock_feed(session: Session, org_id: int, kind: FeedKind, owner_id: int) -> None:
    """Serialise the changes of one feed's addresses until the transaction ends: a PostgreSQL
    advisory lock on the feed (SQLite's write transactions already run one at a time). Two feeds
    whose keys collide merely wait for each other."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = int.from_bytes(hashlib.sha256(f"{org_id}:{kind}:{owner_id}".encode()).digest()[:4], "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:space, :key)"), {"space": LOCK_SPACE, "key": key})


LOCK_SPACE = 1_400_013  # this module's advisory locks (the first of the two keys)


def issue_feed_token(session: Session, *, org_id: int, kind: FeedKind, owner_id: int,
                     now: datetime | None = None) -> str:
    """A new secret address for the feed; answers the token (shown once, never stored).

    Side effects: the feed's previous live token is revoked and the new one added (flushed). Two at
    once (a double click): the second waits for the first (a lock on the feed), then revokes its
    token in turn, so the one answered last is the one that works; the partial unique index stands
    behind the lock."""
    _lock_feed(session, org_id, kind, owner_id)
    token = new_token()
    revoke_feed(session, org_id=org_id, kind=kind, owner_id=owner_id, now=now)
    session.add(FeedToken(org_id=org_id, kind=kind, owner_id=owner_id, token_hash=hash_token(token),
                          created_at=now or utcnow()))
    session.flush()
    return token


def live_feed_token(session: Session, token: str, kind: FeedKind) -> FeedToken | None:
    """The live token of that kind behind an address, or ``None`` (unknown, revoked, another kind).

    The address carries no organisation, so the lookup spans them all (the hash is unique); the
    caller then reads only the token's own organisation. Its last use is recorded after the request's
    transaction, at most once an hour."""
    with all_orgs(session):  # a feed's address names no organisation: the token decides which
        record = session.execute(select(FeedToken).where(
            FeedToken.token_hash == hash_token(token), FeedToken.kind == kind,
            FeedToken.revoked_at.is_(None))).scalar_one_or_none()
    if record is None:
        return None
    from incubator.extensions import db

    token_id, last_used = record.id, record.last_used_at
    db.after_request_transaction(lambda: touch_feed_token(token_id, last_used))
    return record


TOUCH_INTERVAL = timedelta(hours=1)  # calendar apps poll a feed every few minutes


def touch_feed_token(token_id: int, last_used_at: datetime | None, now: datetime | None = None) -> bool:
    """Record that the address was used, in a short transaction of its own that waits for nobody (a
    row another transaction holds is skipped; SQLite's busy write lock means: next time). Answers
    whether it wrote."""
    from flask import current_app

    from incubator.extensions import db

    now = now or utcnow()
    cutoff = now - TOUCH_INTERVAL
    if last_used_at is not None and last_used_at > cutoff:
        return False
    due = (select(FeedToken.id)
           .where(FeedToken.id == token_id, or_(FeedToken.last_used_at.is_(None), FeedToken.last_used_at < cutoff))
           .with_for_update(skip_locked=True))
    try:
        with db.side_transaction(wait=False) as conn:
            written = conn.execute(update(FeedToken).where(FeedToken.id.in_(due)).values(last_used_at=now)).rowcount
    except OperationalError as exc:
        current_app.logger.debug("feed token %s: last use not recorded (%s)", token_id, exc)
        return False
    return bool(written)
