"""The layers keep to themselves: `storage/` knows the domain's types (`bot.model`) and
channel identities (`bot.channel`) and nothing else of `bot/`, and neither `storage/` nor
`bot/` carries a chat platform's ids (issue 13)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from storage.schema import POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS

ROOT = Path(__file__).parents[1]
STORAGE_MAY_IMPORT = {"bot.model", "bot.channel"}


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
        modules = {
            ".".join(m.split(".")[:2]) for m in imported_modules(path) if m.split(".")[0] == "bot"
        }
        assert modules <= STORAGE_MAY_IMPORT, (path.name, modules - STORAGE_MAY_IMPORT)


def test_the_domain_model_is_a_leaf() -> None:
    modules = imported_modules(ROOT / "bot" / "model.py")
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
