"""The layers keep to themselves (issue 13): imports point one way (`handlers/` → `bot/` →
`storage/`, and `storage/` knows of `bot/` only the domain's types, `bot.model`, and channel
identities, `bot.channel`), and neither `bot/` nor `storage/` carries any platform's ids,
markup, limits or settings: everything a platform defines lives in `handlers/` (and the
Telegram sandbox in `sandbox/`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from storage.schema import POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS

ROOT = Path(__file__).parents[1]
STORAGE_MAY_IMPORT = {"bot.model", "bot.channel", "bot.results.model"}


def _module_named(module: str) -> str:
    """The module an import names, as the rule counts it: `bot.results.model` for the
    results night's types (the store may import them, not the rest of `bot.results`), else the
    first two parts (`bot.model`)."""
    parts = module.split(".")
    return ".".join(parts[:3] if parts[:2] == ["bot", "results"] else parts[:2])


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_storage_imports_from_bot_only_the_model_and_channel_identities() -> None:
    for path in sorted((ROOT / "storage").glob("*.py")):
        # `from bot.model import Unit` names bot.model (and bot.model.Unit): the modules
        modules = {_module_named(m) for m in imported_modules(path) if m.split(".")[0] == "bot"}
        assert modules <= STORAGE_MAY_IMPORT, (path.name, modules - STORAGE_MAY_IMPORT)


@pytest.mark.parametrize("model", ["bot/model.py", "bot/results/model.py"])
def test_the_domain_model_is_a_leaf(model: str) -> None:
    modules = imported_modules(ROOT / model)
    assert {m for m in modules if m.startswith(("bot", "storage", "handlers"))} <= {
        "bot.channel",
        "bot.channel.Address",
    }


def _code_outside_frozen_migrations(path: Path) -> str:
    """The file's text; for the schema, without the released migrations' SQL, which is
    history (append-only) and must keep naming the columns it created."""
    text = path.read_text()
    if path.name == "schema.py":
        for migration in (*SQLITE_MIGRATIONS, *POSTGRES_MIGRATIONS):
            assert migration in text
            text = text.replace(migration, "")
    return text


def test_storage_carries_no_platform_ids_or_names() -> None:
    for path in sorted((ROOT / "storage").glob("*.py")):
        text = _code_outside_frozen_migrations(path)
        for word in ("telegram", "update_id", "chat_id", "user_id", "message_id", "bot_id"):
            assert not re.search(word, text, re.IGNORECASE), (path.name, word)


def test_the_core_has_no_update_ids() -> None:
    for path in sorted((ROOT / "bot").glob("*.py")):
        assert "update_id" not in path.read_text(), path.name


# What only Telegram means: its name, its HTML markup, its text limit, its settings, the id
# of its updates (the acceptance list of issue 13).
PLATFORM_SHAPED = re.compile(r"telegram|<b>|</b>|<code>|4096|TELEGRAM_|update_id", re.IGNORECASE)


def test_the_core_and_the_store_hold_nothing_of_any_platform() -> None:
    hits = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for package in ("bot", "storage")
        for path in sorted((ROOT / package).rglob("*.py"))
        for number, line in enumerate(_code_outside_frozen_migrations(path).splitlines(), 1)
        if PLATFORM_SHAPED.search(line)
    ]
    assert hits == [], "\n".join(hits)


def test_the_grep_finds_what_it_looks_for() -> None:
    """The check above cannot pass by matching nothing."""
    for shaped in ("TELEGRAM_BOT_TOKEN", "<b>x</b>", "limit 4096", "update.update_id", "Telegram"):
        assert PLATFORM_SHAPED.search(shaped)
    assert not PLATFORM_SHAPED.search("zalo:bot:user sms:+84912345678 Address channel")


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("bot", ("telegram", "handlers", "sandbox", "fieldtally", "aiohttp")),
        ("storage", ("telegram", "handlers", "sandbox", "fieldtally", "aiohttp")),
    ],
    ids=["the core imports no adapter", "the store imports no adapter"],
)
def test_imports_point_one_way(package: str, forbidden: tuple[str, ...]) -> None:
    hits = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for module in sorted(imported_modules(path))
        if any(module == f or module.startswith(f + ".") for f in forbidden)
    ]
    assert hits == [], "\n".join(hits)
