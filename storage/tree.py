"""In-memory index of the unit tree: lookups by code, parents, children and subtrees.

Loaded once from the database and after every change to units, so walking the tree
(ancestors of an area on every report, the subtree of an export) costs no queries.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from storage.records import Unit, UnitSpec


class UnitIndex:
    """Units in topological order (every parent before its children)."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._units: list[Unit] = list(units)
        self._by_key: dict[str, Unit] = {unit.code.lower(): unit for unit in self._units}
        self._children: dict[str | None, list[Unit]] = {}
        for unit in sorted(self._units, key=lambda u: u.position):
            self._children.setdefault(unit.parent_code, []).append(unit)

    @classmethod
    def from_specs(cls, specs: Sequence[UnitSpec]) -> UnitIndex:
        """Derive depth, area-ness and position from imported specs (parents first)."""
        keys = {spec.code.lower(): spec for spec in specs}
        has_children = {spec.parent_code.lower() for spec in specs if spec.parent_code}
        depth: dict[str, int] = {}
        units = []
        for position, spec in enumerate(specs):
            key = spec.code.lower()
            parent = spec.parent_code.lower() if spec.parent_code else None
            depth[key] = 0 if parent is None else depth[parent] + 1
            units.append(
                Unit(
                    code=spec.code,
                    parent_code=keys[parent].code if parent is not None else None,
                    kind=spec.kind,
                    name=spec.name,
                    depth=depth[key],
                    is_area=key not in has_children,
                    registered_voters=spec.registered_voters,
                    staff=spec.staff,
                    contact_phones=spec.contact_phones,
                    position=position,
                )
            )
        return cls(units)

    def __iter__(self) -> Iterator[Unit]:
        return iter(self._units)

    def __len__(self) -> int:
        return len(self._units)

    def get(self, code: str) -> Unit | None:
        """The unit with this code, matched case-insensitively."""
        return self._by_key.get(code.strip().lower())

    @property
    def roots(self) -> list[Unit]:
        return list(self._children.get(None, []))

    def children(self, code: str) -> list[Unit]:
        return list(self._children.get(code, []))

    def ancestor_codes(self, code: str) -> list[str]:
        """Codes from the parent up to the root."""
        chain = []
        unit = self._by_key.get(code.lower())
        while unit is not None and unit.parent_code is not None:
            chain.append(unit.parent_code)
            unit = self._by_key.get(unit.parent_code.lower())
        return chain

    def is_within(self, code: str, ancestor_code: str) -> bool:
        """True when `code` is `ancestor_code` or lies below it."""
        target = ancestor_code.lower()
        return code.lower() == target or target in (c.lower() for c in self.ancestor_codes(code))

    def is_locked(self, code: str) -> bool:
        """Locked itself or through any ancestor."""
        for each in (code, *self.ancestor_codes(code)):
            unit = self._by_key.get(each.lower())
            if unit is not None and unit.locked:
                return True
        return False

    def subtree(self, code: str) -> list[Unit]:
        """The unit then its descendants, depth-first in import order."""
        root = self.get(code)
        if root is None:
            return []
        result: list[Unit] = []
        stack = [root]
        while stack:
            unit = stack.pop()
            result.append(unit)
            stack.extend(reversed(self._children.get(unit.code, [])))
        return result

    def areas_under(self, code: str) -> list[Unit]:
        return [unit for unit in self.subtree(code) if unit.is_area]
