"""`fieldtally demo`: the offline election-day drill (diễn tập) on one machine.

No token and no network beyond loopback: the project's Bot-API sandbox plays Telegram, the
real bot (`handlers.run.run_bot`, the code `fieldtally run` runs) talks to it over
HTTP, and simulated people replay election day against it on a simulated clock:

* an admin imports the unit list (`/nhap`) and subscribes the district's group (`/theodoi`);
* one chief per area phone registers by sharing their contact, reports the COVID staff tests
  early, then turnout through the morning in the forms real chiefs type, with a few typos the
  bot refuses (❌) and the chief corrects (a retyped report, `sửa …`, an edited message), and
  finally the completion — every area at 100%, as Mường Khương had in 2021;
* the group receives the automatic summaries with charts, and the "all finished" notice;
* at the end the admin asks `/tonghop` and `/xuat … csv|xlsx`.

Every answer is awaited and checked against what the script expects (the planned ❌ included):
a surprise stops the drill with the conversation that led to it. The outputs (charts, exports,
the transcript, a summary) go to `--output`.

Structure, one job per module: the unit list (`units.py`, `load_unit_list`), the simulated
clock (`clock.py`, `SimClock`), the script of the day (`script.py`, `plan_day`, pure and
seeded) and the words chiefs type (`wording.py`), what was said (`conversation.py`), the drill
itself (`drill.py`, `Drill`), the checks and the files it writes (`results.py`), the progress
bar (`progress.py`) and the entry points (`run.py`, `run_demo`; `main` is what the
`fieldtally demo` command calls). The fixed facts of the day are in `constants.py`.
`--channel zalo` plays the same day with everyone on Zalo (`zalo.py`, `ZaloDrill`): only the
way people talk differs (codes instead of contacts, no edits, links instead of files).
"""

from fieldtally.demo.clock import SimClock, at
from fieldtally.demo.constants import (
    DEFAULT_OUTPUT,
    DEFAULT_SEED,
    DEFAULT_SPEED,
    ELECTION_DAY,
    FIRST_FINISH,
    LAST_FINISH,
    TZ,
    DemoError,
)
from fieldtally.demo.conversation import _quoted as _quoted  # for fieldtally.playground
from fieldtally.demo.drill import DemoOptions, DemoResult
from fieldtally.demo.drill import _started as _started  # for fieldtally.playground
from fieldtally.demo.run import main, run_demo
from fieldtally.demo.script import QUIRKS, plan_day
from fieldtally.demo.units import UnitList, load_unit_list

__all__ = [
    "DEFAULT_OUTPUT",
    "DEFAULT_SEED",
    "DEFAULT_SPEED",
    "ELECTION_DAY",
    "FIRST_FINISH",
    "LAST_FINISH",
    "QUIRKS",
    "TZ",
    "DemoError",
    "DemoOptions",
    "DemoResult",
    "SimClock",
    "UnitList",
    "at",
    "load_unit_list",
    "main",
    "plan_day",
    "run_demo",
]
