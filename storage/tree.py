"""In-memory index of the unit tree: lookups by code, parents, children and subtrees.

Loaded once from the database and after every change to units, so walking the tree
(ancestors of an area on every report, the subtree of an export) costs no queries.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence

from bot.model import Unit, UnitSpec


def _depth(unit: Unit) -> int:
    return unit.depth


class UnitIndex:
    """Units in topological order (every parent before its children)."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self._units: list[Unit] = list(units)
        self._by_key: dict[str, Unit] = {unit.code.lower(): unit for unit in self._units}
        self._children: dict[str | None, list[Unit]] = {}
        for unit in sorted(self._units, key=lambda u: u.position):
            self._children.setdefault(unit.parent_code, []).append(unit)

    @classmethod
    def from_specs(
        cls,
        specs: Sequence[UnitSpec],
        stored: Mapping[str, str] | None = None,
        locked: Collection[str] = (),
        assigned: Mapping[str, Sequence[str]] | None = None,
    ) -> UnitIndex:
        """Derive depth, area-ness and position from imported specs (parents first).

        The same index as reading the stored tree back (`storage.rows.read_units`), without
        the read: `stored` maps a code's lower case to its spelling in the database (kept
        on re-import), `locked` holds the lower-case codes of locked units, `assigned` the
        phones assigned to a unit by hand (by stored code, sorted). A unit's phones are then
        its assigned ones, then its imported ones, sorted, without repeats; units come in
        depth order, then import order — as the database returns them."""
        stored = stored or {}
        assigned = assigned or {}
        keys = [spec.code.lower() for spec in specs]
        codes = {key: stored.get(key, spec.code) for key, spec in zip(keys, specs, strict=True)}
        parents = [spec.parent_code.lower() if spec.parent_code else None for spec in specs]
        has_children = set(parents)
        depth: dict[str | None, int] = {None: -1}
        units: list[Unit] = []
        append = units.append
        for position, (spec, key, parent) in enumerate(zip(specs, keys, parents, strict=True)):
            code = codes[key]
            depth[key] = level = depth[parent] + 1
            phones = spec.contact_phones
            if len(phones) > 1 or code in assigned:
                phones = tuple(dict.fromkeys([*assigned.get(code, ()), *sorted(phones)]))
            append(
                Unit(
                    code,
                    None if parent is None else codes[parent],
                    spec.kind,
                    spec.name,
                    level,
                    key not in has_children,
                    spec.registered_voters,
                    spec.staff,
                    phones,
                    position,
                    key in locked,
                )
            )
        units.sort(key=_depth)  # stable: import order within a depth
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
