"""docs/CHANNELS-ZALO.md cannot rot: every row of its table quotes a rule and names at least
one test as `tests/<file>.py::<test>`, and every test named exists (a `def` or `async def`
of that name at the top of that file, or a method of a class in it)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "CHANNELS-ZALO.md"
REFERENCE = re.compile(r"(tests/[\w/]+\.py)::(\w+)")


def table_rows(text: str) -> list[tuple[str, str]]:
    """(rule, tests) of each row of the doc's table, header and rule line left out."""
    rows = []
    for line in text.splitlines():
        if not line.startswith("|") or line.startswith("|---"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0].startswith("rule ("):
            continue
        rows.append((cells[0], cells[-1]))
    return rows


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
            "test_"
        ):
            names.add(node.name)
    return names


def test_every_rule_names_tests_that_exist() -> None:
    rows = table_rows(DOC.read_text(encoding="utf-8"))
    assert len(rows) >= 30  # the contract's Zalo section, a rule a row
    missing = []
    for rule, tests in rows:
        references = REFERENCE.findall(tests)
        assert rule and references, f"a row names no test: {rule!r}"
        for file, name in references:
            path = ROOT / file
            if not path.is_file() or name not in defined_tests(path):
                missing.append(f"{file}::{name}")
    assert missing == []


def test_the_check_itself_finds_a_missing_test() -> None:
    """The parser reads rows as the doc writes them, and a wrong name is caught."""
    rows = table_rows(
        "| rule (CHANNELS.md, Zalo) | shown by |\n|---|---|\n"
        "| a rule | tests/test_channels_zalo_doc.py::test_no_such_test, "
        "tests/test_channels_zalo_doc.py::test_every_rule_names_tests_that_exist |\n"
    )
    assert [REFERENCE.findall(tests) for _, tests in rows] == [
        [
            ("tests/test_channels_zalo_doc.py", "test_no_such_test"),
            ("tests/test_channels_zalo_doc.py", "test_every_rule_names_tests_that_exist"),
        ]
    ]
    names = defined_tests(ROOT / "tests" / "test_channels_zalo_doc.py")
    assert "test_every_rule_names_tests_that_exist" in names
    assert "test_no_such_test" not in names
