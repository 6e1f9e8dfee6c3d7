"""Plain typed records that cross the storage boundary (no SQL, no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass, field, fields


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
        """Field-wise difference of the additive fields (last_report_at is not additive)."""
        values = {
            f.name: getattr(self, f.name) - getattr(other, f.name)
            for f in fields(self)
            if f.name != "last_report_at"
        }
        return Totals(**values, last_report_at=self.last_report_at)


ADDITIVE_TOTALS = tuple(f.name for f in fields(Totals) if f.name != "last_report_at")


@dataclass(frozen=True, slots=True)
class NewReport:
    area_code: str
    kind: str  # "turnout" | "completion" | "covid"
    at: int  # epoch seconds the report is stored under (stated time, or arrival)
    time_stated: bool
    received_at: int
    sender_id: int
    chat_id: int
    message_id: int
    line_index: int
    text: str
    is_correction: bool = False
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
    user_id: int
    phone: str
    name: str
    chat_id: int
    units: tuple[str, ...] = field(default=())  # codes whose contacts include the phone


@dataclass(frozen=True, slots=True)
class MessageKey:
    """One delivery version of a chat message: an edit is a new version."""

    chat_id: int
    message_id: int
    version: int = 0  # 0 for the original; an edit: its update id (unique per edit)


@dataclass(frozen=True, slots=True)
class Subscription:
    chat_id: int
    unit_code: str
    title: str
    subscribed_by: int
    finished_notified: bool = False


@dataclass(frozen=True, slots=True)
class CountPoint:
    """One current turnout or completion count of an area, for the turnout-over-day chart."""

    area_code: str
    at: int
    voted: int


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: int
    user_id: int
    action: str  # "import", "assign", "lock", "unlock", "subscribe", "unsubscribe"
    detail: str
