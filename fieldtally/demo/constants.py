"""The drill's fixed facts: the election day and its times, the speed and the waits, who is
who (the admin, the group, the chiefs' ids), the sample's figures, how an expected answer is
written (✅, ❌, any, a photo, a document), and ``DemoError``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Final
from zoneinfo import ZoneInfo

from bot import texts

ELECTION_DAY: Final = dt.date(2021, 5, 23)  # the 2021 election, when the seed district drilled
TZ: Final = ZoneInfo("Asia/Ho_Chi_Minh")
DAY_START: Final = dt.time(5, 0)  # the drill starts when reports may start
POLLS_OPEN: Final = dt.time(7, 0)
FIRST_FINISH: Final = dt.time(10, 30)  # Mường Khương's areas finished by 12:30
LAST_FINISH: Final = dt.time(12, 30)
REPORT_MARKS: Final = tuple(
    dt.time(h, m)
    for h, m in ((8, 0), (9, 0), (9, 30), (10, 0), (10, 30), (11, 0), (11, 30), (12, 0))
)

DEFAULT_SPEED: Final = 900.0  # simulated seconds per real second: 05:00–12:45 in about 31 s
DEFAULT_SEED: Final = 2021
DEFAULT_OUTPUT: Final = Path("demo-output")
# The simulated day pauses while the bot is more than this behind the oldest unanswered message.
CLOCK_LEAD: Final = dt.timedelta(minutes=2)
# Real seconds for one answer, the bot's start or its stop: a safety net against a hung bot
# only, never the pace (the clock waits for answers), so long enough that a busy machine
# never meets it (the rate limiter queues bursts; CI runs beside other work).
REPLY_TIMEOUT: Final = 300.0
SUMMARY_SIM_INTERVAL: Final = dt.timedelta(hours=1)
# Each automatic summary is 3 messages (text, 2 charts); Telegram allows a group 20 a minute,
# which the bot's rate limiter enforces: 3 per 10 s never makes the group's notice wait.
MIN_SUMMARY_EVERY_S: Final = 10

ADMIN_ID: Final = 1_000_001
ADMIN_NAME: Final = "Ban bầu cử (quản trị)"
GROUP_ID: Final = -1_001_500_000_001
NIGHT_GROUP_ID: Final = -1_001_500_000_002  # a commune's board, following results night
FIRST_CHIEF_ID: Final = 5_000_001

SAMPLE_NAME: Final = "muong_khuong_2021_units.csv"
# The seed report's figures for the sample (fieldtally/data/SOURCES.md): 139 areas, 38,851
# voters, 2,157 members of the polling teams of whom 2,123 were COVID-tested, all negative.
SAMPLE_FIGURES: Final = {
    "areas_total": 139,
    "areas_finished": 139,
    "registered_voters": 38_851,
    "voted": 38_851,
    "staff_total": 2_157,
    "staff_tested": 2_123,
    "positives": 0,
}
UNTESTED_SHARE: Final = (2_157 - 2_123) / 2_157  # the seed's untested share, for any list
_SYNTHETIC_PHONE_PREFIX: Final = "+84919"  # for areas without a phone; none in bundled data

OK, NO, WARN = texts.OK, texts.NO, texts.WARN
ANY: Final = "*"  # expected reply: any text
PHOTO: Final = "[photo]"
DOCUMENT: Final = "[document]"


class DemoError(Exception):
    """The drill cannot run, or the bot did not answer as the script expected."""
