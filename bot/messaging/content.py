"""What the core sends, as values that belong to no platform.

A reply is text with semantic emphasis (see the texts module), a picture, a file, or a
text that offers a choice; each channel renders these its own way (HTML on one, plain
text on another, a link where pictures cannot travel). `Outgoing` is a message to some
chat other than the one being answered: a group notice, a reminder to a chief.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.channel import Address


@dataclass(frozen=True, slots=True)
class Text:
    body: str  # marked text: emphasis by the texts module's delimiters, never by markup


@dataclass(frozen=True, slots=True)
class Image:
    png: bytes
    name: str  # a file name for channels that upload (`chart1.png`)
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Document:
    filename: str
    content: bytes
    caption: str = ""


@dataclass(frozen=True, slots=True)
class ContactRequest:
    """A text with a button that shares the sender's own verified phone number; a channel
    without such a button shows the text alone (so the text must stand alone too)."""

    body: str
    button: str


@dataclass(frozen=True, slots=True)
class Choice:
    """A text that offers a few answers as buttons (a record's `Đúng` / `Hủy`): pressing one
    comes back as a message with that answer's text, as if typed. A channel without buttons
    shows the text alone (so the text must say what to type)."""

    body: str  # marked text
    options: tuple[str, ...]


Content = Text | Image | Document | ContactRequest | Choice


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to another chat than the one being answered; `via` names the bot it must go
    through (a group follows a unit through one bot), None: any bot of the chat's channel.
    `automatic`: sent on a schedule (a summary), not because someone asked: a channel short
    of its sending quota keeps what is left for answers and may skip it."""

    to: Address
    content: Content
    via: str | None = None
    automatic: bool = False
