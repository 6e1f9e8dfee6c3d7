"""Live dashboard links: random tokens bound to one unit's subtree, expiring, revocable.

A link is `{origin}/d/{token}`. The token is `secrets.token_urlsafe(TOKEN_BYTES)` (32
base64url characters, 192 bits); the store keeps only its SHA-256, so a copy of the database
opens no dashboard. A link works until the end of the second day after the election date (in
FIELDTALLY_TZ), or for N days (a decimal) when asked; 0 days makes a link that has already
expired (for tests). Revoking works per unit: every link of that unit stops at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

from bot.channel import Address
from bot.model import DashboardLink, Unit
from bot.settings import Settings
from storage.database import Database, Transaction

TOKEN_BYTES = 24  # 32 base64url characters; the contract asks for at least 22 (128 bits)
DAYS_AFTER_ELECTION = 2  # a link works until the end of the second day after the election
# What a token looks like in a URL: anything else is a wrong link at once, with no read.
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22,128}")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """What the store keeps of a token (hex SHA-256)."""
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def link_expiry(settings: Settings, now: dt.datetime, days: float | None = None) -> dt.datetime:
    """When a link made at `now` stops working: `days` from now (0: at once), else the end
    of the second day after the election date, in the election's time zone."""
    if days is not None:
        if days < 0:
            raise ValueError("days must not be negative")
        return now + dt.timedelta(days=days)
    tz = settings.tz
    last_day = settings.election_day(now) + dt.timedelta(days=DAYS_AFTER_ELECTION)
    return dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)


def link_origin(settings: Settings) -> str:
    """The origin links are built on: FIELDTALLY_PUBLIC_URL, else the HTTP server's own
    address (a wall screen on the LAN)."""
    if settings.public_url:
        return settings.public_url
    host = settings.http_listen
    if ":" in host and not host.startswith("["):  # an IPv6 address
        host = f"[{host}]"
    return f"http://{host}:{settings.http_port}"


def link_url(settings: Settings, token: str) -> str:
    return f"{link_origin(settings)}/d/{token}"


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A link just made: the only moment its token exists outside the viewer's URL."""

    url: str
    unit: Unit
    expires_at: dt.datetime


async def issue_link(
    db: Database,
    settings: Settings,
    unit: Unit,
    by: Address,
    now: dt.datetime,
    days: float | None = None,
) -> IssuedLink:
    """Store a new link to `unit`'s dashboard (audited, without its token) and return it."""
    token = new_token()
    expires = link_expiry(settings, now, days)
    link = DashboardLink(
        token_hash=token_hash(token),
        unit_code=unit.code,
        created_at=int(now.timestamp()),
        expires_at=int(expires.timestamp()),
        created_by=by,
    )

    def store(tx: Transaction) -> None:
        tx.add_dashboard_link(link)
        tx.audit(by, "dashboard_link", unit.code)

    await db.write(store)
    return IssuedLink(link_url(settings, token), unit, expires.astimezone(settings.tz))


async def revoke_links(db: Database, unit: Unit, by: Address, now: dt.datetime) -> int:
    """Revoke every link of `unit` (audited); how many still worked or were unrevoked."""
    at = int(now.timestamp())

    def revoke(tx: Transaction) -> int:
        count = tx.revoke_dashboard_links(unit.code, at)
        tx.audit(by, "dashboard_revoke", unit.code)
        return count

    return await db.write(revoke)


async def find_link(db: Database, token: str, now: float) -> DashboardLink | None:
    """The link a token opens at `now`, or None (wrong, expired or revoked: all alike)."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    link = await db.dashboard_link(token_hash(token))
    if link is None or not link.valid_at(now) or db.units.get(link.unit_code) is None:
        return None
    return link
