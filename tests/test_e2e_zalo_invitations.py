"""End to end on Zalo: registration by invitation code, through the webhook (CHANNELS.md,
"Registration without a phone number").

The admin asks `/moi` on Zalo and gets the invitation file as a download link; a person
registers with the right code and reports; the same code from someone else is refused as
used; five wrong codes within the hour lock the sender out (the reply says so), even from
then trying a right code; with two Zalo bots, a code sent to the bot that does not serve its
unit is refused with the right bot's link and stays usable there. Every message goes
through the Zalo sandbox's webhook; every answer is read by its type and reason."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.channel import COMMAND_LINE
from bot.messaging.answers import Answer, Refusal, Status
from bot.registration.invitations import ALPHABET, WRONG_CODES_ALLOWED, issue
from sandbox.zalo import ZaloSandbox
from tests.harness import ELECTION_DAY
from tests.zalo_harness import Observed, ZaloRun, at, prepare, zalo_identity

LINK_X2 = "https://zalo.me/s/xa-ta-ngai-cho"
_LINK = re.compile(r"https?://\S+/media/\S+")


@pytest.fixture
async def zs() -> AsyncIterator[ZaloSandbox]:
    async with ZaloSandbox() as sandbox:
        yield sandbox


class Talk:
    """People writing to one Zalo bot of a running process, and its typed answers."""

    def __init__(self, run: ZaloRun, token: str, bot_id: str) -> None:
        self.run, self.token, self.bot_id = run, token, bot_id
        self.seen = Observed(run)

    async def says(self, user: str, text: str) -> tuple[Answer, list[str]]:
        """`user` writes `text` in private; the typed answer and the texts the bot sent."""
        zs = self.run.zs
        since = zs.next_seq(self.token)
        message_id = zs.user_says(self.token, user, text, date=at(10))
        answer = await self.seen.of(self.bot_id, message_id)
        sent = [m.text for m in zs.sent_messages(self.token, user) if m.seq >= since]
        return answer, sent


def wrong_code(right: set[str]) -> str:
    """A well-formed code nobody was given."""
    code = "23456789"
    while code in right:
        code = code[1:] + ALPHABET[len(code) % len(ALPHABET)]
    return code


async def download(url: str) -> tuple[int, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.read()


async def test_a_code_from_moi_registers_once_and_wrong_codes_lock_the_sender_out(
    zs: ZaloSandbox, db_target: Path | str
) -> None:
    token, bot_id = zs.add_bot("fieldtally.bot")
    admin = zalo_identity(bot_id, zs.add_user(token, "admin"))
    await prepare(db_target)
    async with ZaloRun(
        zs, db_target, {"ZALO_BOT_TOKEN": token, "FIELDTALLY_ADMINS": str(admin)}
    ) as run:
        talk = Talk(run, token, bot_id)
        # The admin hands out codes on Zalo: the file comes as a link (Zalo takes no files).
        answer, sent = await talk.says("admin", "/moi X1")
        assert answer.status is Status.ACCEPTED
        [link] = [m.group(0) for text in sent if (m := _LINK.search(text))]
        status, body = await download(link)
        assert status == 200
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
        codes = {row["unit_code"]: row["invitation_code"] for row in rows}
        assert {row["bot_link"] for row in rows} == {f"https://zalo.me/{bot_id}"}

        # The right code (any case) registers Lan for KV01's phone; she reports at once.
        answer, [reply] = await talk.says("lan", f"dk {codes['KV01'].lower()}")
        assert answer.status is Status.ACCEPTED
        assert "(KV01)" in reply
        lan = zalo_identity(bot_id, zs.user_id(token, "lan"))
        person = await run.core.db.person(lan)
        assert person is not None and person.phone == "+84912345001"
        answer, _ = await talk.says("lan", "250/320 9h")
        assert answer.status is Status.ACCEPTED
        [stored] = await run.core.db.area_reports("KV01")
        assert (stored.sender, stored.bot) == (lan, f"zalo:{bot_id}")

        # The same code again, from someone else: used.
        answer, _ = await talk.says("binh", f"đăng ký {codes['KV01']}")
        assert (answer.status, answer.reason) == (Status.REFUSED, Refusal.INVITATION_USED)
        assert await run.core.db.person(zalo_identity(bot_id, zs.user_id(token, "binh"))) is None

        # Five wrong codes within the hour: the fifth answer says the sender is locked out,
        # and then even a right code is refused, with the same reason.
        wrong = wrong_code(set(codes.values()))
        reasons = [(await talk.says("mallory", f"/dangky {wrong}"))[0].reason for _ in range(5)]
        assert reasons == [Refusal.INVITATION_UNKNOWN] * (WRONG_CODES_ALLOWED - 1) + [
            Refusal.REGISTRATION_LOCKED
        ]
        answer, [reply] = await talk.says("mallory", f"dk {codes['KV02']}")
        assert (answer.status, answer.reason) == (Status.REFUSED, Refusal.REGISTRATION_LOCKED)
        mallory = zalo_identity(bot_id, zs.user_id(token, "mallory"))
        assert await run.core.db.person(mallory) is None
        answer, _ = await talk.says("mallory", "200/2000 9h")
        assert (answer.status, answer.reason) == (Status.REFUSED, Refusal.NOT_REGISTERED)
        # KV02's code was not spent by the locked-out attempt: its chief still registers.
        answer, _ = await talk.says("chi", f"DK {codes['KV02']}")
        assert answer.status is Status.ACCEPTED


def bots_file(tmp_path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path = tmp_path / "zalo-bots.csv"
    path.write_text("unit_code,token,link\n" + "".join(f"{u},{t},{ln}\n" for u, t, ln in rows))
    path.chmod(0o600)
    return path


async def test_a_code_sent_to_the_other_bot_is_refused_with_the_right_bots_link(
    zs: ZaloSandbox, db_target: Path | str, tmp_path: Path
) -> None:
    token_a, bot_a = zs.add_bot("bot.phalong")
    token_b, bot_b = zs.add_bot("bot.tangaicho")
    await prepare(db_target)
    path = bots_file(tmp_path, [("X1", token_a, ""), ("X2", token_b, LINK_X2)])
    async with ZaloRun(zs, db_target, {"ZALO_BOTS_FILE": str(path)}) as run:
        # `fieldtally invites X2` (the same code path): KV05's code carries bot B's link.
        issued = await issue(
            run.core.db, "X2", run.core.directory, now=run.core.now(), election_date=ELECTION_DAY,
            by=COMMAND_LINE,
        )  # fmt: skip
        [row] = [r for r in issued.rows if r.unit_code == "KV05"]
        assert row.bot_link == LINK_X2

        on_a, on_b = Talk(run, token_a, bot_a), Talk(run, token_b, bot_b)
        answer, [reply] = await on_a.says("hoa", f"dk {row.code}")
        assert (answer.status, answer.reason) == (Status.REFUSED, Refusal.WRONG_BOT)
        assert LINK_X2 in reply
        assert await run.core.db.person(zalo_identity(bot_a, zs.user_id(token_a, "hoa"))) is None
        # The code was not spent: to bot B it registers Hoa, who then reports there.
        answer, _ = await on_b.says("hoa", f"dk {row.code}")
        assert answer.status is Status.ACCEPTED
        answer, _ = await on_b.says("hoa", "200/250 9h")
        assert answer.status is Status.ACCEPTED
        [stored] = await run.core.db.area_reports("KV05")
        assert stored.bot == f"zalo:{bot_b}"
