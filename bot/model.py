"""The domain's own types: units, reports, totals, people, subscriptions, audit entries.

Plain typed records, no SQL and no behaviour; `storage/` maps its rows to them. Whoever
sends or receives is an `Address` (a channel and that channel's id), never a platform's
integer; the bot a message came through is named by the bot's own address as text
(`bot: str`, e.g. `"zalo:1234"`; empty for work done without any bot, such as the command
line and tests). A leaf module: it imports nothing from `bot/` but `bot.channel`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from bot.channel import Address


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """A unit as imported: what the units file says."""

    code: str
    parent_code: str | None
    kind: str
    name: str
    registered_voters: int | None
    staff: int | None
    contact_phones: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Unit:
    code: str
    parent_code: str | None
    kind: str
    name: str
    depth: int
    is_area: bool
    registered_voters: int | None  # the imported list size (areas only)
    staff: int | None
    contact_phones: tuple[str, ...]
    position: int  # import order, for stable listings
    locked: bool = False


@dataclass(frozen=True, slots=True)
class Totals:
    """Running totals of a unit's subtree; for an area, its own current state."""

    areas_total: int = 0
    areas_reported: int = 0
    areas_finished: int = 0
    registered_voters: int = 0  # current list sizes
    voted: int = 0
    staff_total: int = 0
    staff_tested: int = 0
    positives: int = 0
    last_report_at: int | None = None  # epoch seconds

    def minus(self, other: Totals) -> Totals:
        """Field-wise difference of the additive fields (last_report_at is not additive).
        Every additive field is named here: tests/test_totals.py checks none is missed."""
        return Totals(
            areas_total=self.areas_total - other.areas_total,
            areas_reported=self.areas_reported - other.areas_reported,
            areas_finished=self.areas_finished - other.areas_finished,
            registered_voters=self.registered_voters - other.registered_voters,
            voted=self.voted - other.voted,
            staff_total=self.staff_total - other.staff_total,
            staff_tested=self.staff_tested - other.staff_tested,
            positives=self.positives - other.positives,
            last_report_at=self.last_report_at,
        )


ADDITIVE_TOTALS = tuple(f.name for f in fields(Totals) if f.name != "last_report_at")


@dataclass(frozen=True, slots=True)
class NewReport:
    area_code: str
    kind: str  # "turnout" | "completion" | "covid"
    at: int  # epoch seconds the report is stored under (stated time, or arrival)
    time_stated: bool
    received_at: int
    sender: Address
    chat: Address
    message_ref: str  # the channel's id of the message, within its chat
    line_index: int
    text: str
    is_correction: bool = False
    bot: str = ""  # the bot the message came through
    voted: int | None = None
    list_size: int | None = None
    staff_tested: int | None = None
    staff_total: int | None = None
    positives: int | None = None


@dataclass(frozen=True, slots=True)
class Report(NewReport):
    id: int = 0
    replaced_by: int | None = None


@dataclass(frozen=True, slots=True)
class Person:
    identity: Address
    phone: str
    name: str
    chat: Address  # where to write to them privately
    units: tuple[str, ...] = field(default=())  # codes whose contacts include the phone


@dataclass(frozen=True, slots=True)
class MessageKey:
    """One revision of a chat message, received through one bot: an edit is a new revision."""

    bot: str
    chat: Address
    message_ref: str
    revision: int = 0  # 0 for the original; an edit: a number unique per edit


@dataclass(frozen=True, slots=True)
class Subscription:
    """A group chat following a unit's summaries through one bot."""

    chat: Address
    bot: str
    unit_code: str
    title: str
    subscribed_by: Address
    finished_notified: bool = False


@dataclass(frozen=True, slots=True)
class CountPoint:
    """One current turnout or completion count of an area, for the turnout-over-day chart."""

    area_code: str
    at: int
    voted: int


@dataclass(frozen=True, slots=True)
class Invitation:
    """An invitation code as stored: only its hash, bound to one (unit, phone). Times are
    epoch seconds; `used_by` is the identity that registered with it."""

    code_hash: str
    unit_code: str
    phone: str
    issued_at: int
    expires_at: int
    used_at: int | None = None
    used_by: Address | None = None
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: int
    actor: Address  # COMMAND_LINE for the server's command line
    action: str  # "import", "assign", "lock", "unlock", "subscribe", "unsubscribe"
    detail: str


@dataclass(frozen=True, slots=True)
class DashboardLink:
    """A live dashboard link: the SHA-256 of its token (the token itself is never stored),
    the unit whose subtree it shows, and when it stops working."""

    token_hash: str  # hex
    unit_code: str
    created_at: int  # epoch seconds
    expires_at: int  # valid while now < expires_at
    created_by: Address
    revoked_at: int | None = None

    def valid_at(self, now: float) -> bool:
        return self.revoked_at is None and now < self.expires_at
