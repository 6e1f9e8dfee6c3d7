"""What every use case of the core answers: a typed result, plus the messages to send.

A use case never signals success through its text. Each reply carries a `Status`
(accepted, warned, refused, failed) and, when it is not a plain acceptance, a `reason`: a
stable code (`Refusal` for commands, the rule engine's `Reason` for reports) that tests
and channels read, while the text is only for people.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from bot import texts
from bot.messaging.content import Choice, Content, Outgoing, Text


class Status(StrEnum):
    ACCEPTED = "accepted"  # done as asked
    WARNED = "warned"  # done, with something the sender should check
    REFUSED = "refused"  # nothing changed: the reason says why
    FAILED = "failed"  # nothing changed: the server could not do it (store fault)


class Refusal(StrEnum):
    """Why a command or a message changed nothing (reports add the rule engine's reasons)."""

    ADMIN_ONLY = "admin_only"
    SUPERVISORS_ONLY = "supervisors_only"
    NOT_REGISTERED = "not_registered"
    USAGE = "usage"  # wrong arguments: the reply shows the right use
    UNKNOWN_UNIT = "unknown_unit"
    NOT_YOUR_UNIT = "not_your_unit"
    NOT_AN_AREA = "not_an_area"
    NO_UNITS_YET = "no_units_yet"
    CHOOSE_UNIT = "choose_unit"  # several units are the caller's own: name one
    GROUP_ONLY = "group_only"
    GROUP_NOT_SUBSCRIBED = "group_not_subscribed"
    NOT_SUBSCRIBED = "not_subscribed"
    SUBSCRIBE_WHO = "subscribe_who"
    NOT_OWN_CONTACT = "not_own_contact"
    BAD_PHONE = "bad_phone"
    UNKNOWN_PHONE = "unknown_phone"
    IMPORT_NEEDS_FILE = "import_needs_file"
    IMPORT_NEEDS_CAPTION = "import_needs_caption"
    IMPORT_NOT_CSV = "import_not_csv"
    IMPORT_TOO_LARGE = "import_too_large"
    IMPORT_TOO_MANY_ROWS = "import_too_many_rows"
    IMPORT_INVALID = "import_invalid"  # the file's problems, by line and column
    NO_REPORT = "no_report"  # a message with no report in it
    TEXT_ONLY = "text_only"
    UNKNOWN_COMMAND = "unknown_command"
    SLOW_DOWN = "slow_down"
    MESSAGE_TOO_LONG = "message_too_long"
    TOO_MANY_REPORTS = "too_many_reports"
    HIDDEN_CONTROLS = "hidden_controls"
    # registration by invitation code (issue 15)
    INVITATION_UNKNOWN = "invitation_unknown"  # no such code (or not a code at all)
    INVITATION_USED = "invitation_used"  # used by someone else
    INVITATION_EXPIRED = "invitation_expired"  # past its date, revoked by a reissue, or unassigned
    REGISTRATION_LOCKED = "registration_locked"  # too many wrong codes: locked out for a while
    WRONG_BOT = "wrong_bot"  # the unit is served by another bot of the channel: its link
    NO_PHONES = "no_phones"  # `/moi` on a subtree without contact phones
    ELECTION_OVER = "election_over"  # a dashboard link would expire before it is made
    # results night's reads (RESULTS.md: /ketqua, /chuakq, /xuat kq)
    NO_BALLOTS_YET = "no_ballots_yet"  # no electoral unit imported yet
    WRONG_BALLOT = "wrong_ballot"  # an electoral unit named with another ballot


@dataclass(frozen=True, slots=True)
class Reply:
    """One message back to the sender, and what it means."""

    content: Content
    status: Status = Status.ACCEPTED
    reason: str | None = None
    # The same reply in a few words, for channels whose messages are tiny (a text message): what
    # was done or what to fix, without the explanations and examples of `content`.
    brief: Text | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    """The sender's replies, in order, and messages to other chats the use case caused."""

    replies: tuple[Reply, ...]
    sends: tuple[Outgoing, ...] = ()

    @property
    def status(self) -> Status:
        """The whole answer's status: refused or failed if any reply is, else warned if any
        is, else accepted (an answer with no reply is accepted: nothing to say)."""
        statuses = {reply.status for reply in self.replies}
        for status in (Status.FAILED, Status.REFUSED, Status.WARNED):
            if status in statuses:
                return status
        return Status.ACCEPTED

    @property
    def reason(self) -> str | None:
        """The first reason given, if any."""
        return next((r.reason for r in self.replies if r.reason is not None), None)

    @property
    def ok(self) -> bool:
        return self.status in (Status.ACCEPTED, Status.WARNED)

    @property
    def texts(self) -> list[str]:
        """The marked texts of the replies (pictures and files left out)."""
        return [r.content.body for r in self.replies if isinstance(r.content, Text | Choice)]


def accepted(*bodies: str, sends: Iterable[Outgoing] = (), brief: str | None = None) -> Answer:
    """Replies that did what was asked; `brief` is the short form of the last one."""
    replies = [Reply(Text(body)) for body in bodies]
    if brief is not None and replies:
        replies[-1] = Reply(replies[-1].content, brief=Text(brief))
    return Answer(tuple(replies), tuple(sends))


def refused(reason: str, body: str, brief: str | None = None, *, naming: str = "") -> Answer:
    """A refusal: `brief` is its short form; by default the texts module's for `reason`
    (and the unit code it is `naming`, if any)."""
    short = brief if brief is not None else texts.refusal_brief(reason, naming or None)
    return Answer((Reply(Text(body), Status.REFUSED, reason, Text(short)),))


def replying(*contents: Content, sends: Iterable[Outgoing] = ()) -> Answer:
    return Answer(tuple(Reply(content) for content in contents), tuple(sends))
