"""The layers hold: no platform's ids, markup, limits or settings in the core or the store.

`bot/` (the domain) and `storage/` (the only SQL) must read the same whatever channel a
message came through; everything a platform defines lives in `handlers/` (and the Telegram
sandbox in `sandbox/`). These greps fail on the first platform-shaped line outside them.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORE_PACKAGES = ("bot", "storage")

# What only Telegram means: its name, its HTML markup, its text limit, its settings, the id
# of its updates.
PLATFORM_SHAPED = re.compile(r"telegram|<b>|</b>|<code>|4096|TELEGRAM_|update_id", re.IGNORECASE)


def _sources(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def test_the_core_and_the_store_hold_nothing_of_any_platform() -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _sources(*CORE_PACKAGES)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if PLATFORM_SHAPED.search(line)
    ]
    assert hits == [], "\n".join(hits)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


@pytest.mark.parametrize(
    ("packages", "forbidden"),
    [
        (("bot", "storage"), ("telegram", "handlers", "sandbox", "fieldtally", "aiohttp")),
        (("storage",), ("bot.core", "bot.texts", "bot.intake", "bot.commands")),
    ],
    ids=["the core imports no adapter", "the store imports only the domain's types"],
)
def test_imports_point_one_way(packages: tuple[str, ...], forbidden: tuple[str, ...]) -> None:
    hits = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in _sources(*packages)
        for module in sorted(_imports(path))
        if any(module == f or module.startswith(f + ".") for f in forbidden)
    ]
    assert hits == [], "\n".join(hits)


def test_the_grep_finds_what_it_looks_for() -> None:
    """The check above cannot pass by matching nothing."""
    for shaped in ("TELEGRAM_BOT_TOKEN", "<b>x</b>", "limit 4096", "update.update_id"):
        assert PLATFORM_SHAPED.search(shaped)
    assert not PLATFORM_SHAPED.search("zalo:bot:user sms:+84912345678 Address channel")
