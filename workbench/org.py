"""The organisation hierarchy: units, their parents, subtrees and levels.

A :class:`Hierarchy` is built from ``units.csv`` (``unit_id, parent_id, name`` and optional
``name_en``, ``kind``). The root has an empty parent. :func:`hierarchy_problems` finds what
makes a table of units unusable as a tree (cycles, orphans, several roots, duplicate ids)
before a :class:`Hierarchy` is built.

Reorganisations between waves come from ``successors.csv`` (``wave, unit_id,
successor_id``): :class:`Lineage` maps a unit of one wave to its unit(s) in the next or the
previous wave (renamed, merged, split); :func:`successor_problems` checks the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from workbench.errors import DatasetError

__all__ = ["Hierarchy", "UnitProblem", "hierarchy_problems", "Lineage", "SuccessorProblem",
           "successor_problems"]


@dataclass(frozen=True)
class UnitProblem:
    """A row of ``units.csv`` that breaks the tree (index = position in the table)."""

    index: int
    unit_id: str
    column: str
    value: str
    code: str


def hierarchy_problems(unit_ids: list[str], parent_ids: list[str]) -> list[UnitProblem]:
    """Find duplicate ids, orphans, missing or extra roots and cycles.

    Parameters
    ----------
    unit_ids, parent_ids
        Columns of ``units.csv`` in file order; an empty parent marks the root.

    Returns
    -------
    list of UnitProblem
        ``code`` is one of ``duplicate_unit``, ``orphan_unit``, ``no_root``,
        ``several_roots``, ``cycle``.
    """
    problems: list[UnitProblem] = []
    first: dict[str, int] = {}
    for i, uid in enumerate(unit_ids):
        if uid in first:
            problems.append(UnitProblem(i, uid, "unit_id", uid, "duplicate_unit"))
        else:
            first[uid] = i
    parent_of = {uid: parent_ids[i] for uid, i in first.items()}
    roots = [uid for uid, p in parent_of.items() if p == ""]
    for uid, i in first.items():
        p = parent_of[uid]
        if p and p not in parent_of:
            problems.append(UnitProblem(i, uid, "parent_id", p, "orphan_unit"))
    if not roots and unit_ids:
        problems.append(UnitProblem(0, unit_ids[0], "parent_id", parent_ids[0], "no_root"))
    for uid in roots[1:]:
        problems.append(UnitProblem(first[uid], uid, "parent_id", "", "several_roots"))
    # Walk up from every unit; a walk that returns to a unit on its own path is a cycle.
    state: dict[str, int] = {}  # 1 = on the current path, 2 = known to reach a root or orphan
    for start in first:
        path = []
        uid = start
        while uid and uid in parent_of and state.get(uid) is None:
            state[uid] = 1
            path.append(uid)
            uid = parent_of[uid]
        if uid and state.get(uid) == 1:
            cycle = path[path.index(uid):]
            for member in cycle:
                problems.append(UnitProblem(first[member], member, "parent_id",
                                            parent_of[member], "cycle"))
        for member in path:
            state[member] = 2
    return sorted(problems, key=lambda p: (p.index, p.code))


@dataclass(frozen=True, eq=False)
class Hierarchy:
    """An org tree. Build it with :meth:`from_frame`; it never changes afterwards.

    Attributes
    ----------
    units
        One row per unit in file order: ``unit_id, parent_id, name, name_en, kind, level``
        (``level`` 0 = the root).
    """

    units: pd.DataFrame
    _parent: Mapping[str, str] = field(repr=False)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> "Hierarchy":
        """Build from a table with ``unit_id, parent_id, name`` (+ ``name_en, kind``)."""
        ids = [str(u) for u in frame["unit_id"]]
        parents = ["" if pd.isna(p) else str(p) for p in frame["parent_id"]]
        problems = hierarchy_problems(ids, parents)
        if problems:
            p = problems[0]
            raise DatasetError(f"units: unit {p.unit_id!r} breaks the tree ({p.code})")
        parent = dict(zip(ids, parents))
        units = pd.DataFrame({
            "unit_id": ids,
            "parent_id": parents,
            "name": [str(n) for n in frame["name"]],
            "name_en": [str(n) for n in frame.get("name_en", frame["name"])],
            "kind": [("" if pd.isna(k) else str(k)) for k in frame.get("kind", [""] * len(ids))],
        })
        levels = {}
        for uid in ids:
            chain = []
            node = uid
            while node and node not in levels:
                chain.append(node)
                node = parent[node]
            base = levels[node] if node else -1
            for depth, member in enumerate(reversed(chain), start=1):
                levels[member] = base + depth
        units["level"] = [levels[u] for u in ids]
        return cls(units=units, _parent=parent)

    @property
    def root(self) -> str:
        return next(u for u, p in self._parent.items() if p == "")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(self.units["unit_id"])

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self._parent

    def require(self, unit: str, wave: str) -> None:
        """UsageError naming the closest unit ids (case and spaces ignored) when ``unit`` is
        not in this tree of ``wave``."""
        if unit in self:
            return
        from workbench.errors import UsageError
        from workbench.io import closest

        names = closest(unit, self.ids, n=3)
        hint = f"; did you mean {', '.join(names)}?" if names else ""
        raise UsageError(f"unit {unit!r} is not in the hierarchy of wave {wave}{hint}")

    def __len__(self) -> int:
        return len(self._parent)

    def parent(self, unit_id: str) -> str | None:
        """The parent of ``unit_id`` (None for the root)."""
        return self._parent[unit_id] or None

    @cached_property
    def _children(self) -> dict[str, tuple[str, ...]]:
        children: dict[str, list[str]] = {u: [] for u in self._parent}
        for uid, parent in self._parent.items():
            if parent:
                children[parent].append(uid)
        return {u: tuple(c) for u, c in children.items()}

    def children(self, unit_id: str) -> tuple[str, ...]:
        """Direct children of ``unit_id`` in file order."""
        return self._children[unit_id]

    def ancestors(self, unit_id: str) -> tuple[str, ...]:
        """Path from the root down to ``unit_id``'s parent."""
        chain = []
        node = self._parent[unit_id]
        while node:
            chain.append(node)
            node = self._parent[node]
        return tuple(reversed(chain))

    def path(self, unit_id: str) -> tuple[str, ...]:
        """Path from the root down to and including ``unit_id``."""
        return self.ancestors(unit_id) + (unit_id,)

    def subtree(self, unit_id: str) -> tuple[str, ...]:
        """``unit_id`` and all its descendants, depth first in file order."""
        out = []
        stack = [unit_id]
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(self._children[node]))
        return tuple(out)

    def level(self, unit_id: str) -> int:
        """Depth of ``unit_id``: 0 for the root."""
        return int(self.units["level"].iloc[self._position[unit_id]])

    @cached_property
    def _position(self) -> dict[str, int]:
        return {u: i for i, u in enumerate(self.units["unit_id"])}

    def name(self, unit_id: str, lang: str = "nb") -> str:
        """The unit's display name in ``lang``."""
        return self._names["name_en" if lang == "en" else "name"][unit_id]

    @cached_property
    def _names(self) -> dict[str, dict[str, str]]:
        ids = self.units["unit_id"]
        return {column: dict(zip(ids, self.units[column].astype(str)))
                for column in ("name", "name_en")}

    def subtree_matrix(self, unit_ids: Iterable[str] | None = None) -> np.ndarray:
        """Boolean matrix M[i, j]: unit j lies in the subtree of unit i (in ``ids`` order).

        This is what rolls leaf sums up the tree in one matrix product.
        """
        ids = self.ids if unit_ids is None else tuple(unit_ids)
        pos = self._position
        matrix = np.zeros((len(ids), len(self.ids)), dtype=bool)
        for i, uid in enumerate(ids):
            matrix[i, [pos[u] for u in self.subtree(uid)]] = True
        return matrix


@dataclass(frozen=True, eq=False)
class Lineage:
    """Units across waves (``successors.csv``): who a unit of one wave becomes in the next.

    A row ``wave, unit_id, successor_id`` says that unit X of ``wave`` lives on as Y in the
    next wave of ``survey.yaml``: renamed (X -> Y), merged (X -> Y and Z -> Y) or split
    (X -> Y and X -> Z). A unit with no row lives on under its own id when the next wave's
    hierarchy has it, and ends otherwise.

    Build it with :meth:`workbench.survey.Survey.lineage`.

    Examples
    --------
    >>> from workbench import load_survey
    >>> survey = load_survey("tests/exports/questback")
    >>> lineage = survey.lineage()
    >>> lineage.next("helse", "2022")              # a split
    ('omsorg', 'hjemme')
    >>> lineage.previous("skolen", "2024")         # a merger
    ('skole_nord', 'skole_sor')
    >>> lineage.previous("kommune", "2024")        # unchanged
    ('kommune',)
    >>> lineage.change("helse", "2022")
    'split'
    """

    waves: tuple[str, ...]
    table: pd.DataFrame
    hierarchies: Mapping[str, Hierarchy] = field(repr=False)

    def _wave_after(self, wave: str, step: int) -> str | None:
        if wave not in self.waves:
            raise DatasetError(f"wave {wave!r} is not in this survey; waves: "
                               f"{', '.join(self.waves)}")
        k = self.waves.index(wave) + step
        return self.waves[k] if 0 <= k < len(self.waves) else None

    def next(self, unit_id: str, wave: str) -> tuple[str, ...]:
        """The unit(s) that ``unit_id`` of ``wave`` becomes in the next wave (empty: none,
        or ``wave`` is the last)."""
        after = self._wave_after(wave, 1)
        if after is None:
            return ()
        rows = self.table[(self.table["wave"] == wave) & (self.table["unit_id"] == unit_id)]
        if len(rows):
            return tuple(rows["successor_id"])
        return (unit_id,) if unit_id in self.hierarchies[after] else ()

    def previous(self, unit_id: str, wave: str) -> tuple[str, ...]:
        """The unit(s) of the previous wave that ``unit_id`` of ``wave`` continues (empty:
        a new unit, or ``wave`` is the first)."""
        before = self._wave_after(wave, -1)
        if before is None:
            return ()
        in_before = self.table[self.table["wave"] == before]
        found = list(in_before.loc[in_before["successor_id"] == unit_id, "unit_id"])
        if unit_id not in found and unit_id in self.hierarchies[before] and \
                not (in_before["unit_id"] == unit_id).any():
            found.append(unit_id)  # no row: it lives on under its own id
        return tuple(found)

    def change(self, unit_id: str, wave: str) -> str:
        """What happens to ``unit_id`` of ``wave`` in the next wave: ``same``, ``renamed``,
        ``merged`` (it and others become one unit), ``split`` (it becomes several) or
        ``ended``."""
        after = self.next(unit_id, wave)
        if not after:
            return "ended"
        if len(after) > 1:
            return "split"
        next_wave = self._wave_after(wave, 1)
        if len(self.previous(after[0], next_wave)) > 1:
            return "merged"
        return "same" if after[0] == unit_id else "renamed"


@dataclass(frozen=True)
class SuccessorProblem:
    """A row of ``successors.csv`` that breaks the lineage (index = position in the table)."""

    index: int
    code: str
    column: str
    value: str
    detail: Mapping[str, object]


def successor_problems(table: pd.DataFrame, waves: tuple[str, ...],
                       hierarchies: Mapping[str, Hierarchy]) -> list[SuccessorProblem]:
    """Check ``successors.csv`` rows (text cells ``wave, unit_id, successor_id``).

    Returns
    -------
    list of SuccessorProblem
        ``unknown_wave`` (not in survey.yaml), ``successor_last_wave`` (no next wave),
        ``successor_unknown_unit`` (unit not in its wave's hierarchy, successor not in the
        next wave's), ``successor_duplicate`` (the same row twice), ``successor_cycle``
        (within one wave, successors that lead back to the unit they start from: ids
        mixed up between the waves). Each problem's row is rejected.
    """
    problems: list[SuccessorProblem] = []
    seen: dict[tuple[str, str, str], int] = {}
    ok = []
    for i, (wave, unit, successor) in enumerate(zip(table["wave"], table["unit_id"],
                                                    table["successor_id"])):
        if wave not in waves:
            problems.append(SuccessorProblem(i, "unknown_wave", "wave", wave,
                                             {"expected": ", ".join(waves)}))
            continue
        position = waves.index(wave)
        if position == len(waves) - 1:
            problems.append(SuccessorProblem(i, "successor_last_wave", "wave", wave, {}))
            continue
        after = waves[position + 1]
        if unit not in hierarchies[wave]:
            problems.append(SuccessorProblem(i, "successor_unknown_unit", "unit_id", unit,
                                             {"wave": wave, "ids": hierarchies[wave].ids}))
            continue
        if successor not in hierarchies[after]:
            problems.append(SuccessorProblem(i, "successor_unknown_unit", "successor_id",
                                             successor,
                                             {"wave": after, "ids": hierarchies[after].ids}))
            continue
        key = (wave, unit, successor)
        if key in seen:
            problems.append(SuccessorProblem(i, "successor_duplicate", "successor_id", unit,
                                             {"wave": wave, "successor": successor,
                                              "first": seen[key]}))
            continue
        seen[key] = i
        ok.append(i)
    # cycles within one wave: unit -> successor read again as a unit of the same wave
    by_wave: dict[str, dict[str, list[tuple[str, int]]]] = {}
    for i in ok:
        wave, unit, successor = table["wave"].iloc[i], table["unit_id"].iloc[i], \
            table["successor_id"].iloc[i]
        if successor != unit:
            by_wave.setdefault(wave, {}).setdefault(unit, []).append((successor, i))
    for wave, edges in by_wave.items():
        for start in edges:
            stack = [(start, [start], [])]
            while stack:
                node, path, rows = stack.pop()
                for nxt, row in edges.get(node, []):
                    if nxt == start:
                        problems.append(SuccessorProblem(
                            rows[0] if rows else row, "successor_cycle", "successor_id", start,
                            {"path": " -> ".join([*path, start]), "wave": wave}))
                        stack.clear()
                        break
                    if nxt not in path:
                        stack.append((nxt, [*path, nxt], [*rows, row]))
    unique: dict[tuple[int, str], SuccessorProblem] = {}
    for p in problems:
        unique.setdefault((p.index, p.code), p)
    return sorted(unique.values(), key=lambda p: (p.index, p.code))
