"""The workshop store: what each unit decided at its workshop, kept with who changed what when.

Per unit and wave the store keeps the analysis cross (votes per factor: pleased / must
improve, with reasons), the chosen factors (1-3), the future picture (employees, leader,
organisation), the action plan (each measure with its place in the priority matrix) and the
parking lot. Every change is logged (``ws_changes``): when, by whom and through what (a
signed link, the analyst, an import), and the record before and after.

Where it lives: SQLite at ``DATASET/.workbench/workshop.sqlite`` (WAL, a busy timeout and
``BEGIN IMMEDIATE`` for writes, so several kernels and commands write safely at once), or
the PostgreSQL database named by ``$WORKBENCH_DB`` (a SQLAlchemy URL, e.g.
``postgresql://user:password@host/db``; one database or schema per dataset). The schema is
versioned and migrated when a store is opened (:mod:`workbench._workshop_schema`).

Two layers:

- :class:`Store` opens the database and reads (the analyst's side: export, overview,
  follow-up). It never writes records.
- :class:`Workshop` is what a caller may do with an :class:`Access`: every call checks that
  the access covers the record's unit and wave, then writes in one transaction with the
  change log. A leader page makes ``Workshop(store, Access.leader(grant, token))``; a signed
  link writes its own unit and wave only, whatever the browser sends.

Optimistic concurrency: every record carries a ``version``. A save names the version it was
based on; when the store holds another version, the save is refused with :class:`Conflict`,
which carries the stored record (who saved it, when), so a page can tell the later saver and
show the earlier save: nothing is lost silently. (An import differs on purpose: see
:meth:`Workshop.import_actions`.)

Examples
--------
>>> import tempfile
>>> from workbench.workshop import Access, Action, Workshop, open_store
>>> store = open_store(tempfile.mkdtemp())
>>> ws = Workshop(store, Access.analyst("kari"))
>>> saved = ws.save_action(Action(wave="2023", unit_id="OPP-NOS", factor="F3",
...                               measure="Ukentlig planleggingsmøte", status="started"))
>>> saved.version, store.actions(wave="2023")[0].measure
(1, 'Ukentlig planleggingsmøte')
>>> store.close()
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import re
import time
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import sqlalchemy as sa

from workbench._workshop_schema import LATEST, migrate, schema_version, tables
from workbench.errors import UsageError, WorkbenchError

__all__ = ["DB_ENV", "STORE_PATH", "ACTION_COLUMNS", "ACTION_EXTRA", "STATUSES", "IMPACTS",
           "FEASIBILITIES", "QUADRANTS", "PICTURE_PARTS", "MAX_CHOSEN",
           "StoreError", "Conflict", "Forbidden", "InvalidRecord", "FieldProblem",
           "Catalog", "Actor", "Access", "Votes", "Choice", "Picture", "Action", "Parking",
           "WorkshopState", "Store", "Workshop", "open_store", "store_url", "clean_action",
           "as_dict", "LATEST"]

#: Environment variable with the store's database URL (default: SQLite in the dataset).
DB_ENV = "WORKBENCH_DB"
#: Where a dataset keeps its SQLite store.
STORE_PATH = Path(".workbench") / "workshop.sqlite"

#: The columns of ``actions.csv`` (DESIGN.md), in order; any extra columns follow.
ACTION_COLUMNS = ("wave", "unit_id", "factor", "area", "measure", "goal", "responsible",
                  "deadline", "status")
#: Extra columns the workbench itself writes after :data:`ACTION_COLUMNS` and reads back:
#: the priority matrix, the action's id (stable across stores) and its version.
ACTION_EXTRA = ("impact", "feasibility", "action_id", "version")
STATUSES = ("planned", "started", "done", "dropped")
IMPACTS = ("large", "small")
FEASIBILITIES = ("easy", "hard")
#: The priority matrix: (impact, feasibility) -> quadrant.
QUADRANTS = {("large", "easy"): "quick_win", ("large", "hard"): "consider",
             ("small", "easy"): "consider", ("small", "hard"): "drop"}
PICTURE_PARTS = ("employees", "leader", "organisation")
MAX_CHOSEN = 3

# Words a Norwegian handout may hold, to the codes the store keeps.
_ALIASES = {
    "status": {"planlagt": "planned", "startet": "started", "påbegynt": "started",
               "i gang": "started", "pågår": "started", "ferdig": "done", "utført": "done",
               "gjennomført": "done", "fullført": "done", "droppet": "dropped",
               "avbrutt": "dropped", "forkastet": "dropped"},
    "impact": {"stor": "large", "liten": "small", "høy": "large", "lav": "small"},
    "feasibility": {"lett": "easy", "enkel": "easy", "vanskelig": "hard",
                    "krevende": "hard"},
}
_LIMITS = {"measure": 500, "area": 2000, "goal": 2000, "responsible": 500, "reasons": 8000,
           "picture": 8000, "parking": 4000, "extra": 2000}
_MAX_VOTES = 100_000
_ID = re.compile(r"^[0-9a-f]{32}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# --------------------------------------------------------------------------------------------
# Errors


class StoreError(WorkbenchError):
    """The store cannot be opened or used (database missing, unreachable, locked too long)."""


class Forbidden(WorkbenchError):
    """The access does not cover this unit and wave (e.g. a leader link for another unit),
    or the link has expired."""

    def __init__(self, key: str = "forbidden", **fields: Any):
        self.key = key
        self.fields = fields
        super().__init__(_say(key, "en", **fields))

    def text(self, lang: str = "nb") -> str:
        """The refusal in bokmål or English."""
        return _say(self.key, lang, **self.fields)


class Conflict(WorkbenchError):
    """A save based on an old version: ``current`` is the stored record (None: deleted).

    A page shows ``current`` and :meth:`text` to the later saver; nothing was written.
    """

    exit_code = 1

    def __init__(self, current: Any, attempted: Any = None, reason: str = "version"):
        self.current = current
        self.attempted = attempted
        self.reason = reason
        super().__init__(self.text("en"))

    def text(self, lang: str = "nb") -> str:
        """One sentence for the later saver, in bokmål or English."""
        if self.current is None:
            return _say("conflict_deleted", lang)
        when = self.current.updated_at.replace("T", " ")[:16]
        key = "conflict_measure" if self.reason == "measure" else "conflict"
        return _say(key, lang, by=self.current.updated_by, at=when)


class InvalidRecord(WorkbenchError):
    """A record that breaks the rules (unknown factor, bad date, ...); ``problems`` says
    which fields."""

    def __init__(self, problems: Sequence["FieldProblem"]):
        self.problems = tuple(problems)
        super().__init__("; ".join(p.message("en") for p in self.problems))


# --------------------------------------------------------------------------------------------
# Messages (bokmål, English)

_TEXTS: dict[str, tuple[str, str]] = {
    "empty_required": ("verdien er tom; hver rad må ha en", "the value is empty; every row "
                       "needs one"),
    "unknown_wave": ("runden {value!r} finnes ikke i undersøkelsen (runder: {expected})",
                     "wave {value!r} is not a wave of this survey (waves: {expected})"),
    "unknown_unit": ("enheten {value!r} finnes ikke i runde {wave}{hint}",
                     "unit {value!r} is not in the hierarchy of wave {wave}{hint}"),
    "unknown_factor": ("faktoren {value!r} finnes ikke i instrumentet (faktorer: {expected})",
                       "factor {value!r} is not a factor of the instrument (factors: "
                       "{expected})"),
    "bad_date": ("verdien {value!r} er ikke en dato; forventet ÅÅÅÅ-MM-DD",
                 "value {value!r} is not a date; expected YYYY-MM-DD"),
    "bad_code": ("verdien {value!r} er ikke tillatt; forventet {expected}",
                 "value {value!r} is not allowed; expected {expected}"),
    "too_long": ("teksten har {length} tegn; høyst {limit} er tillatt",
                 "the text has {length} characters; at most {limit} are allowed"),
    "bad_count": ("verdien {value!r} er ikke et antall stemmer (et helt tall fra 0)",
                  "value {value!r} is not a number of votes (a whole number from 0)"),
    "bad_version": ("verdien {value!r} er ikke et versjonsnummer (et helt tall fra 1)",
                    "value {value!r} is not a version number (a whole number from 1)"),
    "bad_id": ("verdien {value!r} er ikke en tiltaks-id (32 heksadesimale tegn)",
               "value {value!r} is not an action id (32 hexadecimal digits)"),
    "too_many_factors": ("velg 1 til {limit} faktorer, ikke {length}",
                         "choose 1 to {limit} factors, not {length}"),
    "repeated_factor": ("faktoren {value!r} er valgt to ganger",
                        "factor {value!r} is chosen twice"),
    "duplicate_row": ("samme tiltak som rad {first} (runde, enhet, faktor og tiltak)",
                      "the same measure as row {first} (wave, unit, factor and measure)"),
    "other_unit": ("tiltaket {value} hører til enhet {unit}, runde {wave}, ikke til denne "
                   "raden", "action {value} belongs to unit {unit}, wave {wave}, not to this "
                   "row"),
    "stale_row": ("tiltaket er endret i lageret etter at filen ble laget (versjon {current} "
                  "fra {by}, {at}); eksporter på nytt og gjør endringen der",
                  "the action was changed in the store after this file was made (version "
                  "{current} by {by}, {at}); export again and make the change there"),
    "measure_taken": ("enheten har allerede et tiltak med denne teksten for denne faktoren",
                      "the unit already has an action with this text for this factor"),
    "conflict": ("Noen andre lagret dette i mellomtiden ({by}, {at}). Det de lagret, vises nå; "
                 "gjør endringen din på nytt oppå det.",
                 "Someone else saved this in the meantime ({by}, {at}). What they saved is "
                 "shown now; make your change again on top of it."),
    "conflict_measure": ("Tiltaket finnes allerede ({by}, {at}); det vises nå.",
                         "This measure exists already ({by}, {at}); it is shown now."),
    "conflict_deleted": ("Noen andre har slettet dette i mellomtiden; det du ville lagre, er "
                         "ikke lagret.", "Someone else deleted this in the meantime; your "
                         "change was not saved."),
    "forbidden": ("denne lenken kan bare endre {allowed}, ikke enhet {unit} i runde {wave}",
                  "this link may change {allowed} only, not unit {unit} in wave {wave}"),
    "expired": ("lenken er utløpt; be om en ny", "the link has expired; ask for a new one"),
}


def _say(key: str, lang: str = "en", **fields: Any) -> str:
    nb, en = _TEXTS[key]
    return (nb if lang == "nb" else en).format(**fields)


@dataclass(frozen=True)
class FieldProblem:
    """One field of a record or one cell of a file that breaks the rules."""

    code: str
    column: str
    value: str
    detail: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        """What is wrong, without where."""
        return _say(self.code, lang, value=self.value, **self.detail)

    def message(self, lang: str = "en", file: str | None = None, row: int | None = None) -> str:
        """``file, row, column: what is wrong`` (the parts that are known)."""
        where = [file] if file else []
        if row is not None:
            where.append(f"{'rad' if lang == 'nb' else 'row'} {row}")
        where.append(f"{'kolonne' if lang == 'nb' else 'column'} {self.column}")
        return f"{', '.join(where)}: {self.text(lang)}"


# --------------------------------------------------------------------------------------------
# What records may name: waves, units, factors


@dataclass(frozen=True)
class Catalog:
    """The waves, units per wave and factors a record may name (from a release).

    Without a catalog the store checks formats only (a page always has one).
    """

    waves: tuple[str, ...]
    units: Mapping[str, frozenset[str]]
    factors: tuple[str, ...]
    names: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_release(cls, release) -> "Catalog":
        """The catalog of a :class:`~workbench.release.Release` (or a Survey)."""
        def build() -> Catalog:
            units = {w: frozenset(release.hierarchy(w).ids) for w in release.waves}
            factors = tuple(f.id for f in release.instrument.factors)
            names: dict[str, str] = {}
            for f in release.instrument.factors:
                for lang in ("nb", "en"):
                    names.setdefault(_fold(f.name(lang)), f.id)
                names[_fold(f.id)] = f.id
            return cls(waves=tuple(release.waves), units=units, factors=factors, names=names)

        memo = getattr(release, "memo", None)
        return memo(("workshop", "catalog"), build) if memo else build()

    def factor(self, value: str) -> str | None:
        """The factor id for an id or a name (nb or en), ignoring case; None when unknown."""
        return self.names.get(_fold(value))


def _fold(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _hint(value: str, choices: Iterable[str]) -> str:
    import difflib

    close = difflib.get_close_matches(value, list(choices), n=2, cutoff=0.6)
    return f"; did you mean {', '.join(close)}?" if close else ""


# --------------------------------------------------------------------------------------------
# Who acts, and what they may touch


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the change log shows it.

    ``via`` is ``link`` (a leader's signed link), ``analyst``, ``import`` or ``command``;
    ``name`` identifies the link (a fingerprint of its token, never the token), the analyst
    or the file.
    """

    via: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.via} {self.name}".strip()


@dataclass(frozen=True)
class Access:
    """What a caller may read and write: some (unit, wave) pairs, or everything (analyst).

    Build it on the server side from what the server verified (a signed link's grant),
    never from a browser's values.
    """

    actor: Actor
    scope: frozenset[tuple[str, str]] | None = None
    expires: float | None = None

    @classmethod
    def leader(cls, grant, link: str, also: Iterable[tuple[str, str]] = ()) -> "Access":
        """The access of a verified leader link: the grant's unit in the grant's wave.

        Parameters
        ----------
        grant
            A :class:`workbench.access.Grant` from :func:`workbench.access.verify`.
        link
            The link's token; only a fingerprint of it is kept (the change log names the
            link, never its key).
        also
            Further (unit, wave) pairs this link may write, computed on the server: at
            follow-up, the unit's own predecessor(s) in the previous wave, so the leader can
            mark last wave's measures done.
        """
        fingerprint = hashlib.sha256(str(link).encode("utf-8")).hexdigest()[:12]
        scope = frozenset({(str(grant.unit), str(grant.wave)),
                           *((str(u), str(w)) for u, w in also)})
        return cls(Actor("link", f"{fingerprint} ({grant.unit} {grant.wave})"), scope,
                   float(grant.expires))

    @classmethod
    def analyst(cls, name: str = "") -> "Access":
        """Every unit and wave (the analyst, a notebook, the command line)."""
        return cls(Actor("analyst", name or _user()))

    @classmethod
    def command(cls, what: str) -> "Access":
        """Every unit and wave, logged as a command (e.g. an import of a file)."""
        return cls(Actor("import", f"{what} ({_user()})"))

    def allows(self, unit: str, wave: str) -> bool:
        return self.scope is None or (str(unit), str(wave)) in self.scope

    def check(self, unit: str, wave: str) -> None:
        """Raise :class:`Forbidden` unless this access covers ``unit`` in ``wave`` now."""
        if self.expires is not None and time.time() >= self.expires:
            raise Forbidden("expired")
        if not self.allows(unit, wave):
            allowed = ", ".join(f"{u} {w}" for u, w in sorted(self.scope or ()))
            raise Forbidden("forbidden", allowed=allowed, unit=unit, wave=wave)


def _user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


# --------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Votes:
    """The analysis cross for one factor: votes pleased and must improve, with reasons."""

    wave: str
    unit_id: str
    factor: str
    pleased: int = 0
    improve: int = 0
    pleased_reasons: str = ""
    improve_reasons: str = ""
    version: int = 0
    updated_at: str = ""
    updated_by: str = ""


@dataclass(frozen=True)
class Choice:
    """The factors the unit chose to work on (1-3, in order)."""

    wave: str
    unit_id: str
    factors: tuple[str, ...] = ()
    version: int = 0
    updated_at: str = ""
    updated_by: str = ""


@dataclass(frozen=True)
class Picture:
    """The future picture: what employees, the leader and the organisation do when the unit
    has succeeded."""

    wave: str
    unit_id: str
    employees: str = ""
    leader: str = ""
    organisation: str = ""
    version: int = 0
    updated_at: str = ""
    updated_by: str = ""


@dataclass(frozen=True)
class Action:
    """A measure of the action plan with its place in the priority matrix.

    ``id`` is empty for a new action; ``extra`` holds extra columns of an ``actions.csv``.
    """

    wave: str
    unit_id: str
    measure: str
    factor: str = ""
    area: str = ""
    goal: str = ""
    responsible: str = ""
    deadline: str | None = None
    status: str = "planned"
    impact: str | None = None
    feasibility: str | None = None
    extra: Mapping[str, str] = field(default_factory=dict)
    id: str = ""
    version: int = 0
    ordinal: int = 0
    updated_at: str = ""
    updated_by: str = ""

    @property
    def quadrant(self) -> str | None:
        """``quick_win``, ``consider`` or ``drop`` (None until placed in the matrix)."""
        return QUADRANTS.get((self.impact, self.feasibility))


@dataclass(frozen=True)
class Parking:
    """An issue the unit cannot solve itself: who passes it on, to whom, and the answer."""

    wave: str
    unit_id: str
    issue: str
    passed_by: str = ""
    passed_to: str = ""
    answer: str = ""
    id: str = ""
    version: int = 0
    ordinal: int = 0
    updated_at: str = ""
    updated_by: str = ""


@dataclass(frozen=True)
class WorkshopState:
    """Everything recorded for one unit in one wave."""

    wave: str
    unit_id: str
    votes: tuple[Votes, ...] = ()
    choice: Choice | None = None
    picture: Picture | None = None
    actions: tuple[Action, ...] = ()
    parking: tuple[Parking, ...] = ()

    @property
    def held(self) -> bool:
        """True when the workshop has left a trace: votes, chosen factors or a plan."""
        return bool(self.votes or (self.choice and self.choice.factors) or self.actions)


_DATA = {
    "votes": ("pleased", "improve", "pleased_reasons", "improve_reasons"),
    "choices": ("factors",),
    "pictures": PICTURE_PARTS,
    "actions": ("factor", "area", "measure", "goal", "responsible", "deadline", "status",
                "impact", "feasibility", "extra"),
    "parking": ("issue", "passed_by", "passed_to", "answer"),
}


def _data(record: Any, kind: str) -> dict[str, Any]:
    out = {name: getattr(record, name) for name in _DATA[kind]}
    if "factors" in out:
        out["factors"] = list(out["factors"])
    if "extra" in out:
        out["extra"] = dict(out["extra"])
    return out


# --------------------------------------------------------------------------------------------
# Checking records


def _text(problems: list[FieldProblem], column: str, value: Any, limit: int,
          required: bool = False) -> str:
    text = "" if value is None else str(value)
    # control characters (NUL above all) cannot be stored in PostgreSQL text nor written to a
    # spreadsheet, and no one types them on purpose; tabs and line breaks stay
    text = _CONTROL.sub("", text).strip()
    if required and not text:
        problems.append(FieldProblem("empty_required", column, ""))
    elif len(text) > limit:
        problems.append(FieldProblem("too_long", column, text[:40],
                                     {"length": len(text), "limit": limit}))
    return text


def _code(problems: list[FieldProblem], column: str, value: Any, allowed: Sequence[str],
          default: str | None) -> str | None:
    text = "" if value is None else " ".join(str(value).split()).casefold()
    if not text:
        return default
    text = _ALIASES.get(column, {}).get(text, text)
    if text not in allowed:
        problems.append(FieldProblem("bad_code", column, str(value),
                                     {"expected": ", ".join(allowed)}))
        return default
    return text


_DATE_FORMATS = (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]00:00(?::00(?:\.0+)?)?)?$"),
                 re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"))


def _date(problems: list[FieldProblem], column: str, value: Any) -> str | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, _dt.datetime):
        value = value.date() if value.time() == _dt.time() else value.isoformat()
    if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
        return value.isoformat()
    text = str(value).strip()
    iso, norwegian = (pattern.match(text) for pattern in _DATE_FORMATS)
    try:
        if iso:
            return _dt.date(int(iso[1]), int(iso[2]), int(iso[3])).isoformat()
        if norwegian:  # a Norwegian hand writes 31.12.2025
            return _dt.date(int(norwegian[3]), int(norwegian[2]),
                            int(norwegian[1])).isoformat()
    except ValueError:
        pass
    problems.append(FieldProblem("bad_date", column, text))
    return None


def _whole(problems: list[FieldProblem], column: str, value: Any, code: str, low: int,
           high: int, default: int | None) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        number = float(str(value).strip().replace(",", "."))
        if number != int(number):
            raise ValueError
        number = int(number)
        if not low <= number <= high:
            raise ValueError
        return number
    except (ValueError, OverflowError):
        problems.append(FieldProblem(code, column, str(value)))
        return default


def _place(problems: list[FieldProblem], wave: Any, unit: Any,
           catalog: Catalog | None) -> tuple[str, str]:
    wave = _text(problems, "wave", wave, 32, required=True)
    unit = _text(problems, "unit_id", unit, 200, required=True)
    if catalog is not None and wave:
        if wave not in catalog.waves:
            problems.append(FieldProblem("unknown_wave", "wave", wave,
                                         {"expected": ", ".join(catalog.waves)}))
        elif unit and unit not in catalog.units[wave]:
            problems.append(FieldProblem("unknown_unit", "unit_id", unit,
                                         {"wave": wave,
                                          "hint": _hint(unit, catalog.units[wave])}))
    return wave, unit


def _factor(problems: list[FieldProblem], value: Any, catalog: Catalog | None,
            required: bool, column: str = "factor") -> str:
    text = _text(problems, column, value, 64, required=required)
    if not text or catalog is None:
        return text
    found = catalog.factor(text)
    if found is None:
        problems.append(FieldProblem("unknown_factor", column, text,
                                     {"expected": ", ".join(catalog.factors)}))
        return text
    return found


def clean_action(values: Mapping[str, Any], catalog: Catalog | None = None
                 ) -> tuple[Action | None, list[FieldProblem]]:
    """Check and normalise an action given as column -> value (a file row or a form).

    Columns: :data:`ACTION_COLUMNS` and :data:`ACTION_EXTRA`; any other column is kept in
    ``extra`` (empty values left out). Status, impact and feasibility take the English codes
    or their bokmål words (``ferdig``, ``stor``, ``lett``, ...); a deadline is YYYY-MM-DD
    (a spreadsheet date, or 31.12.2025, is accepted and written as YYYY-MM-DD); a factor is
    its id or its name.

    Returns
    -------
    (Action or None, problems)
        The action (``id`` and ``version`` as given, else empty and 0) when there is no
        problem.
    """
    problems: list[FieldProblem] = []
    wave, unit = _place(problems, values.get("wave"), values.get("unit_id"), catalog)
    factor = _factor(problems, values.get("factor"), catalog, required=False)
    measure = _text(problems, "measure", values.get("measure"), _LIMITS["measure"],
                    required=True)
    area = _text(problems, "area", values.get("area"), _LIMITS["area"])
    goal = _text(problems, "goal", values.get("goal"), _LIMITS["goal"])
    responsible = _text(problems, "responsible", values.get("responsible"),
                        _LIMITS["responsible"])
    deadline = _date(problems, "deadline", values.get("deadline"))
    status = _code(problems, "status", values.get("status"), STATUSES, "planned")
    impact = _code(problems, "impact", values.get("impact"), IMPACTS, None)
    feasibility = _code(problems, "feasibility", values.get("feasibility"), FEASIBILITIES,
                        None)
    ident = _text(problems, "action_id", values.get("action_id", values.get("id")), 64)
    ident = ident.lower()
    if ident and not _ID.match(ident):
        problems.append(FieldProblem("bad_id", "action_id", ident))
    version = _whole(problems, "version", values.get("version"), "bad_version", 1, 2**31 - 1,
                     0)
    extra: dict[str, str] = {}
    known = {*ACTION_COLUMNS, *ACTION_EXTRA, "id", "extra"}
    given = dict(values.get("extra") or {})
    given.update({k: v for k, v in values.items() if k not in known})
    for key, value in given.items():
        key = _CONTROL.sub("", str(key)).strip()[:200]
        text = _text(problems, key, value, _LIMITS["extra"])
        if key and text:
            extra[key] = text
    if problems:
        return None, problems
    return Action(wave=wave, unit_id=unit, measure=measure, factor=factor, area=area,
                  goal=goal, responsible=responsible, deadline=deadline, status=status or
                  "planned", impact=impact, feasibility=feasibility, extra=extra,
                  id=ident, version=int(version or 0)), []


def _measure_key(measure: str) -> str:
    """Two measures that differ only in case or spacing are the same measure."""
    return hashlib.sha256(_fold(measure).encode("utf-8")).hexdigest()[:40]


# --------------------------------------------------------------------------------------------
# The store


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def store_url(dataset: str | Path | None = None, url: str | None = None) -> str:
    """The store's database URL: ``url``, else ``$WORKBENCH_DB``, else SQLite in the dataset."""
    chosen = url or os.environ.get(DB_ENV, "").strip()
    if chosen:
        return chosen
    if dataset is None:
        raise UsageError(f"no workshop store: give the dataset folder or set {DB_ENV}")
    return f"sqlite:///{(Path(dataset) / STORE_PATH).resolve()}"


def _engine(url: str) -> tuple[sa.Engine, Path | None]:
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError:
        raise UsageError(f"{DB_ENV} must be a database URL such as "
                         "postgresql://user:password@host/db or sqlite:///path/workshop.sqlite"
                         f", got {url!r}") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        try:
            engine = sa.create_engine(parsed, pool_pre_ping=True,
                                      connect_args={"connect_timeout": 10})
        except ImportError as exc:
            raise StoreError(f"the PostgreSQL driver is missing ({exc}); install psycopg") \
                from None
        return engine, None
    if backend != "sqlite":
        raise UsageError(f"the workshop store runs on SQLite or PostgreSQL, not {backend!r} "
                         f"({DB_ENV})")
    path = Path(parsed.database) if parsed.database and parsed.database != ":memory:" \
        else None
    if path is not None:
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot make the folder of the workshop store {path.parent} "
                             f"({exc.strerror}); set {DB_ENV} to a database you can write "
                             "to") from None
    engine = sa.create_engine(parsed, connect_args={"timeout": 60})

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi, record):
        dbapi.isolation_level = None  # transactions are begun below, not by the driver
        cursor = dbapi.cursor()
        cursor.execute("PRAGMA busy_timeout = 60000")
        cursor.execute("PRAGMA journal_mode = WAL")  # readers never block the writer
        cursor.execute("PRAGMA synchronous = FULL")  # a saved record survives a crash
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn):
        # A writer takes the write lock when it begins, so its reads and writes see one
        # state and two writers queue (busy timeout) instead of failing on lock upgrade.
        write = conn.get_execution_options().get("workbench_write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine, path


def _describe(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return " ".join(str(orig).split())[:300]


class Store:
    """An open workshop store: the database, its tables, and reads of every record.

    Open it with :func:`open_store`. Reading needs no access; writing goes through
    :class:`Workshop`, which checks access.
    """

    def __init__(self, engine: sa.Engine, url: str):
        self.engine = engine
        self.url = url
        self.tables = tables()
        self._writer = engine.execution_options(workbench_write=True)

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def backend(self) -> str:
        return self.engine.dialect.name

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @contextmanager
    def transaction(self, write: bool = False) -> Iterator[sa.Connection]:
        """A connection in one transaction (``write``: holding the write lock on SQLite)."""
        try:
            with (self._writer if write else self.engine).begin() as conn:
                yield conn
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"the workshop store {self.url} failed: {_describe(exc)}") \
                from None

    @property
    def version(self) -> int:
        """The schema version of the database."""
        with self.transaction() as conn:
            return schema_version(conn)

    # -- reads ------------------------------------------------------------------------------

    def _rows(self, conn: sa.Connection, name: str, wave: str | None = None,
              unit: str | None = None, units: Iterable[str] | None = None):
        table = self.tables[name]
        query = sa.select(table)
        if wave is not None:
            query = query.where(table.c.wave == str(wave))
        if unit is not None:
            query = query.where(table.c.unit_id == str(unit))
        if units is not None:
            query = query.where(table.c.unit_id.in_([str(u) for u in units]))
        rows = conn.execute(query).mappings().all()
        # sorted here, by code point: a database's collation (PostgreSQL's locale) would
        # order unit ids differently from SQLite's, and an export must not depend on it
        if "ordinal" in table.c:
            return sorted(rows, key=lambda r: (r["wave"], r["unit_id"], r["ordinal"], r["id"]))
        if "factor" in table.c:
            return sorted(rows, key=lambda r: (r["wave"], r["unit_id"], r["factor"]))
        return sorted(rows, key=lambda r: (r["wave"], r["unit_id"]))

    def state(self, unit: str, wave: str) -> WorkshopState:
        """Everything recorded for ``unit`` in ``wave`` (no access check: see Workshop)."""
        unit, wave = str(unit), str(wave)
        with self.transaction() as conn:
            votes = tuple(_votes(r) for r in self._rows(conn, "votes", wave, unit))
            choice = next((_choice(r) for r in self._rows(conn, "choices", wave, unit)), None)
            picture = next((_picture(r) for r in self._rows(conn, "pictures", wave, unit)),
                           None)
            actions = tuple(_action(r) for r in self._rows(conn, "actions", wave, unit))
            parking = tuple(_parking(r) for r in self._rows(conn, "parking", wave, unit))
        return WorkshopState(wave=wave, unit_id=unit, votes=votes, choice=choice,
                             picture=picture, actions=actions, parking=parking)

    def states(self, wave: str, units: Iterable[str] | None = None) -> dict[str, WorkshopState]:
        """Everything recorded in ``wave``, per unit (one read per table, for a batch of
        handouts); units with nothing recorded are left out."""
        wave = str(wave)
        units = None if units is None else [str(u) for u in units]
        found: dict[str, dict[str, Any]] = {}
        with self.transaction() as conn:
            for name, read in _READ.items():
                for row in self._rows(conn, name, wave, units=units):
                    found.setdefault(row["unit_id"], {}).setdefault(name, []).append(read(row))
        return {unit: WorkshopState(
            wave=wave, unit_id=unit, votes=tuple(parts.get("votes", ())),
            choice=next(iter(parts.get("choices", ())), None),
            picture=next(iter(parts.get("pictures", ())), None),
            actions=tuple(parts.get("actions", ())), parking=tuple(parts.get("parking", ())))
            for unit, parts in sorted(found.items())}

    def actions(self, wave: str | None = None, unit: str | None = None,
                units: Iterable[str] | None = None) -> list[Action]:
        """The action plans, ordered by wave, unit and the order the actions were made."""
        with self.transaction() as conn:
            return [_action(r) for r in self._rows(conn, "actions", wave, unit, units)]

    def parking(self, wave: str | None = None, unit: str | None = None) -> list[Parking]:
        """The parking lots, ordered by wave, unit and the order the issues were made."""
        with self.transaction() as conn:
            return [_parking(r) for r in self._rows(conn, "parking", wave, unit)]

    def counts(self, wave: str | None = None):
        """What each unit has recorded, one row per unit and wave.

        Returns
        -------
        DataFrame
            ``wave, unit_id, votes, chosen, measures, planned, started, done, dropped,
            parking`` (votes: factors with votes; chosen: chosen factors).
        """
        import pandas as pd

        t = self.tables
        frames = []
        with self.transaction() as conn:
            def grouped(table, *columns, where=None):
                query = sa.select(table.c.wave, table.c.unit_id, *columns)
                if wave is not None:
                    query = query.where(table.c.wave == str(wave))
                query = query.group_by(table.c.wave, table.c.unit_id)
                rows = conn.execute(query).all()
                names = ["wave", "unit_id", *(c.name for c in columns)]
                return pd.DataFrame([tuple(r) for r in rows], columns=names)

            frames.append(grouped(t["votes"], sa.func.count().label("votes")))
            status = [sa.func.sum(sa.case((t["actions"].c.status == s, 1), else_=0)).label(s)
                      for s in STATUSES]
            frames.append(grouped(t["actions"], sa.func.count().label("measures"), *status))
            frames.append(grouped(t["parking"], sa.func.count().label("parking")))
            query = sa.select(t["choices"].c.wave, t["choices"].c.unit_id,
                              t["choices"].c.factors)
            if wave is not None:
                query = query.where(t["choices"].c.wave == str(wave))
            chosen = [(r.wave, r.unit_id, len(json.loads(r.factors)))
                      for r in conn.execute(query)]
            frames.append(pd.DataFrame(chosen, columns=["wave", "unit_id", "chosen"]))
        out = frames[0]
        for frame in frames[1:]:
            out = out.merge(frame, on=["wave", "unit_id"], how="outer")
        columns = ["votes", "chosen", "measures", *STATUSES, "parking"]
        out = out.reindex(columns=["wave", "unit_id", *columns])
        out[columns] = out[columns].fillna(0).astype("int64")
        return out.sort_values(["wave", "unit_id"]).reset_index(drop=True)

    def changes(self, wave: str | None = None, unit: str | None = None):
        """The change log, oldest first.

        Returns
        -------
        DataFrame
            ``at, wave, unit_id, record, record_id, operation, version, via, actor, before,
            after`` (before and after: the record's content as JSON text).
        """
        import pandas as pd

        table = self.tables["changes"]
        query = sa.select(table)
        if wave is not None:
            query = query.where(table.c.wave == str(wave))
        if unit is not None:
            query = query.where(table.c.unit_id == str(unit))
        with self.transaction() as conn:
            rows = conn.execute(query.order_by(table.c.id)).mappings().all()
        columns = ["at", "wave", "unit_id", "record", "record_id", "operation", "version",
                   "via", "actor", "before", "after"]
        return pd.DataFrame([{c: r[c] for c in columns} for r in rows], columns=columns)


def open_store(dataset: str | Path | None = None, url: str | None = None) -> Store:
    """Open (and create or migrate) the workshop store of a dataset.

    Parameters
    ----------
    dataset
        The dataset folder: the store is ``DATASET/.workbench/workshop.sqlite`` unless a URL
        is given.
    url
        A SQLAlchemy URL (default: ``$WORKBENCH_DB``): ``sqlite:///path`` or
        ``postgresql://user:password@host[:port]/db``.

    Raises
    ------
    UsageError
        A URL that is not SQLite or PostgreSQL, or a store written by a newer workbench.
    StoreError
        The database cannot be reached or created.
    """
    chosen = store_url(dataset, url)
    engine, path = _engine(chosen)
    shown = sa.make_url(chosen).render_as_string(hide_password=True)
    created = path is not None and not path.exists()
    try:
        migrate(engine, now=_now())
    except WorkbenchError:
        engine.dispose()
        raise
    except sa.exc.SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(f"cannot open the workshop store {shown}: {_describe(exc)}") from None
    if created and path is not None and path.exists():
        os.chmod(path, 0o600)  # leaders' own words: the owner reads them, no one else
    return Store(engine, shown)


# --------------------------------------------------------------------------------------------
# Rows to records


def _audit(row) -> dict[str, Any]:
    return {"version": int(row["version"]), "updated_at": row["updated_at"],
            "updated_by": row["updated_by"]}


def _votes(row) -> Votes:
    return Votes(wave=row["wave"], unit_id=row["unit_id"], factor=row["factor"],
                 pleased=int(row["pleased"]), improve=int(row["improve"]),
                 pleased_reasons=row["pleased_reasons"],
                 improve_reasons=row["improve_reasons"], **_audit(row))


def _choice(row) -> Choice:
    return Choice(wave=row["wave"], unit_id=row["unit_id"],
                  factors=tuple(json.loads(row["factors"])), **_audit(row))


def _picture(row) -> Picture:
    return Picture(wave=row["wave"], unit_id=row["unit_id"],
                   **{p: row[p] for p in PICTURE_PARTS}, **_audit(row))


def _action(row) -> Action:
    return Action(wave=row["wave"], unit_id=row["unit_id"], measure=row["measure"],
                  factor=row["factor"], area=row["area"], goal=row["goal"],
                  responsible=row["responsible"], deadline=row["deadline"],
                  status=row["status"], impact=row["impact"], feasibility=row["feasibility"],
                  extra=json.loads(row["extra"] or "{}"), id=row["id"],
                  ordinal=int(row["ordinal"]), **_audit(row))


def _parking(row) -> Parking:
    return Parking(wave=row["wave"], unit_id=row["unit_id"], issue=row["issue"],
                   passed_by=row["passed_by"], passed_to=row["passed_to"],
                   answer=row["answer"], id=row["id"], ordinal=int(row["ordinal"]),
                   **_audit(row))


_READ = {"votes": _votes, "choices": _choice, "pictures": _picture, "actions": _action,
         "parking": _parking}


def _columns(record: Any, kind: str) -> dict[str, Any]:
    """A record's data as table columns."""
    out = _data(record, kind)
    if kind == "choices":
        out["factors"] = json.dumps(out["factors"])
    if kind == "actions":
        out["extra"] = json.dumps(out["extra"], ensure_ascii=False, sort_keys=True)
        out["measure_key"] = _measure_key(record.measure)
    return out


# --------------------------------------------------------------------------------------------
# Writing, with access checks


def _insert(conn: sa.Connection, table: sa.Table, values: Mapping[str, Any]) -> bool:
    """Insert unless a row with the same key exists (then nothing); True when inserted."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(**values).on_conflict_do_nothing()
    if conn.dialect.name == "postgresql":
        # psycopg reports no row count for an insert that returns its key: ask for it
        key = list(table.primary_key.columns)[0]
        return conn.execute(statement.returning(key)).first() is not None
    return conn.execute(statement).rowcount == 1


class Workshop:
    """What one caller may do with the store; every call checks the caller's access.

    Parameters
    ----------
    store
        An open :class:`Store`.
    access
        Who acts and what they may touch (:meth:`Access.leader` for a signed link).
    release
        The release (or a :class:`Catalog`): records may then only name its waves, its
        units in that wave and its instrument's factors. A page always passes it.
    """

    def __init__(self, store: Store, access: Access, release=None):
        self.store = store
        self.access = access
        if release is None or isinstance(release, Catalog):
            self.catalog = release
        else:
            self.catalog = Catalog.from_release(release)

    # -- reads ------------------------------------------------------------------------------

    def state(self, unit: str, wave: str) -> WorkshopState:
        """Everything recorded for ``unit`` in ``wave``."""
        self.access.check(unit, wave)
        return self.store.state(unit, wave)

    def history(self, unit: str, wave: str):
        """The change log of ``unit`` in ``wave`` (see :meth:`Store.changes`)."""
        self.access.check(unit, wave)
        return self.store.changes(wave=wave, unit=unit)

    def followup(self, release, unit: str, wave: str, predecessors=None, lang: str = "nb"):
        """The unit's follow-up view (:func:`workbench.followup.followup`)."""
        from workbench.followup import followup

        self.access.check(unit, wave)
        return followup(release, self.store, unit, wave, predecessors=predecessors,
                        lang=lang)

    # -- the checks shared by every write ---------------------------------------------------

    def _checked(self, wave: Any, unit: Any) -> tuple[str, str]:
        problems: list[FieldProblem] = []
        wave, unit = _place(problems, wave, unit, self.catalog)
        if problems:
            raise InvalidRecord(problems)
        self.access.check(unit, wave)
        return wave, unit

    def _log(self, conn: sa.Connection, now: str, kind: str, record: Any, record_id: str,
             operation: str, version: int, before: Any, after: Any) -> None:
        def dump(value):
            return None if value is None else json.dumps(_data(value, kind),
                                                         ensure_ascii=False, sort_keys=True)

        conn.execute(sa.insert(self.store.tables["changes"]).values(
            at=now, wave=record.wave, unit_id=record.unit_id, record=kind,
            record_id=record_id, operation=operation, version=version,
            via=self.access.actor.via, actor=self.access.actor.label[:200],
            before=dump(before), after=dump(after)))

    def _save_keyed(self, kind: str, record: Any, key: Mapping[str, str]) -> Any:
        """Save a record that one unit has at most one of per key (votes per factor, the
        choice, the picture)."""
        table = self.store.tables[kind]
        where = [table.c[c] == v for c, v in key.items()]
        read = _READ[kind]
        actor = self.access.actor.label[:200]
        with self.store.transaction(write=True) as conn:
            now = _now()
            row = conn.execute(sa.select(table).where(*where)).mappings().first()
            if row is None:
                values = {**key, **_columns(record, kind), "version": 1, "created_at": now,
                          "updated_at": now, "updated_by": actor}
                if not _insert(conn, table, values):  # saved by another at this moment
                    raise Conflict(read(conn.execute(sa.select(table).where(*where))
                                        .mappings().one()), record)
                saved = read(values)
                self._log(conn, now, kind, saved, key.get("factor", ""), "insert", 1, None,
                          saved)
                return saved
            current = read(row)
            if record.version != current.version:
                raise Conflict(current, record)
            if _data(current, kind) == _data(record, kind):
                return current  # nothing to change
            values = {**_columns(record, kind), "version": current.version + 1,
                      "updated_at": now, "updated_by": actor}
            done = conn.execute(sa.update(table).where(*where,
                                                       table.c.version == current.version)
                                .values(**values))
            if done.rowcount != 1:
                raise Conflict(read(conn.execute(sa.select(table).where(*where))
                                    .mappings().one()), record)
            saved = read({**row, **values})
            self._log(conn, now, kind, saved, key.get("factor", ""), "update", saved.version,
                      current, saved)
            return saved

    # -- the analysis cross, the choice, the future picture ---------------------------------

    def save_votes(self, votes: Votes) -> Votes:
        """Save one factor's tally (pleased / must improve) and reasons.

        ``votes.version`` is the version the caller read (0 for none); the saved record,
        with its new version, is returned.

        Raises
        ------
        Forbidden, InvalidRecord, Conflict
        """
        wave, unit = self._checked(votes.wave, votes.unit_id)
        problems: list[FieldProblem] = []
        factor = _factor(problems, votes.factor, self.catalog, required=True)
        pleased = _whole(problems, "pleased", votes.pleased, "bad_count", 0, _MAX_VOTES, 0)
        improve = _whole(problems, "improve", votes.improve, "bad_count", 0, _MAX_VOTES, 0)
        reasons = [_text(problems, name, getattr(votes, name), _LIMITS["reasons"])
                   for name in ("pleased_reasons", "improve_reasons")]
        if problems:
            raise InvalidRecord(problems)
        clean = replace(votes, wave=wave, unit_id=unit, factor=factor, pleased=pleased,
                        improve=improve, pleased_reasons=reasons[0],
                        improve_reasons=reasons[1])
        return self._save_keyed("votes", clean, {"wave": wave, "unit_id": unit,
                                                 "factor": factor})

    def save_choice(self, choice: Choice) -> Choice:
        """Save the chosen factors (1-3, in order of priority).

        Raises
        ------
        Forbidden, InvalidRecord, Conflict
        """
        wave, unit = self._checked(choice.wave, choice.unit_id)
        problems: list[FieldProblem] = []
        chosen = [_factor(problems, f, self.catalog, required=True) for f in choice.factors]
        if not 1 <= len(chosen) <= MAX_CHOSEN:
            problems.append(FieldProblem("too_many_factors", "factors", "",
                                         {"limit": MAX_CHOSEN, "length": len(chosen)}))
        for i, f in enumerate(chosen):
            if f in chosen[:i]:
                problems.append(FieldProblem("repeated_factor", "factors", f))
        if problems:
            raise InvalidRecord(problems)
        clean = replace(choice, wave=wave, unit_id=unit, factors=tuple(chosen))
        return self._save_keyed("choices", clean, {"wave": wave, "unit_id": unit})

    def save_picture(self, picture: Picture) -> Picture:
        """Save the future picture (employees, leader, organisation).

        Raises
        ------
        Forbidden, InvalidRecord, Conflict
        """
        wave, unit = self._checked(picture.wave, picture.unit_id)
        problems: list[FieldProblem] = []
        parts = {p: _text(problems, p, getattr(picture, p), _LIMITS["picture"])
                 for p in PICTURE_PARTS}
        if problems:
            raise InvalidRecord(problems)
        clean = replace(picture, wave=wave, unit_id=unit, **parts)
        return self._save_keyed("pictures", clean, {"wave": wave, "unit_id": unit})

    # -- the action plan --------------------------------------------------------------------

    def _action_clean(self, action: Action) -> Action:
        values = {name: getattr(action, name) for name in
                  ("wave", "unit_id", "factor", "area", "measure", "goal", "responsible",
                   "deadline", "status", "impact", "feasibility")}
        values.update(extra=action.extra, action_id=action.id or None,
                      version=action.version or None)
        clean, problems = clean_action(values, self.catalog)
        if problems:
            raise InvalidRecord(problems)
        return clean

    def save_action(self, action: Action) -> Action:
        """Add a measure (``id`` empty) or change one (``id`` and the ``version`` read).

        A new measure with the text of one the unit already has for the same factor is
        refused with :class:`Conflict` (``reason`` ``measure``) carrying the existing one.

        Raises
        ------
        Forbidden, InvalidRecord, Conflict
        """
        clean = self._action_clean(action)
        self.access.check(clean.unit_id, clean.wave)
        with self.store.transaction(write=True) as conn:
            saved, _ = self._put_action(conn, clean, strict=True)
        return saved

    def delete_action(self, action: Action) -> None:
        """Delete a measure (the version read must be the stored one).

        Raises
        ------
        Forbidden, Conflict
        """
        self._delete("actions", action)

    def _row_by_id(self, conn: sa.Connection, kind: str, ident: str):
        table = self.store.tables[kind]
        return conn.execute(sa.select(table).where(table.c.id == ident)).mappings().first()

    def _put_action(self, conn: sa.Connection, clean: Action, strict: bool,
                    now: str | None = None) -> tuple[Action, str]:
        """Write one checked action inside ``conn``'s transaction.

        ``strict`` (a page): a given id must exist, and the version must be the stored one.
        Otherwise (an import): an unknown id or none is matched by the measure (wave, unit,
        factor, measure), a row without a version overwrites (the log keeps the old one),
        and a new action keeps the id and version it came with.

        Returns
        -------
        (Action, outcome)
            ``outcome`` is ``new``, ``changed`` or ``unchanged``.
        """
        table = self.store.tables["actions"]
        now = now or _now()
        actor = self.access.actor.label[:200]
        row = self._row_by_id(conn, "actions", clean.id) if clean.id else None
        if row is not None and (row["wave"], row["unit_id"]) != (clean.wave, clean.unit_id):
            # another unit's action passed off as this unit's: the stored record decides
            if strict:
                raise Forbidden("forbidden", allowed=f"{clean.unit_id} {clean.wave}",
                                unit=row["unit_id"], wave=row["wave"])
            raise InvalidRecord([FieldProblem("other_unit", "action_id", clean.id,
                                              {"unit": row["unit_id"], "wave": row["wave"]})])
        if row is None and clean.id and strict:
            raise Conflict(None, clean)
        key = _measure_key(clean.measure)
        by_measure = sa.select(table).where(table.c.wave == clean.wave,
                                            table.c.unit_id == clean.unit_id,
                                            table.c.factor == clean.factor,
                                            table.c.measure_key == key)
        if row is None and not strict:
            row = conn.execute(by_measure).mappings().first()
        if row is None:
            ordinal = conn.execute(sa.select(sa.func.coalesce(sa.func.max(table.c.ordinal), 0))
                                   .where(table.c.wave == clean.wave,
                                          table.c.unit_id == clean.unit_id)).scalar()
            version = 1 if strict else (clean.version or 1)
            values = {"wave": clean.wave, "unit_id": clean.unit_id,
                      "id": clean.id or uuid.uuid4().hex, "ordinal": int(ordinal) + 1,
                      **_columns(clean, "actions"), "version": version, "created_at": now,
                      "updated_at": now, "updated_by": actor}
            if _insert(conn, table, values):
                saved = _action(values)
                self._log(conn, now, "actions", saved, saved.id, "insert", version, None,
                          saved)
                return saved, "new"
            row = conn.execute(by_measure).mappings().first()
            if row is None:  # the id was taken (an id from another store's file)
                raise InvalidRecord([FieldProblem("bad_id", "action_id", clean.id)])
            if strict:
                raise Conflict(_action(row), clean, reason="measure")
        current = _action(row)
        if strict and clean.version != current.version:
            raise Conflict(current, clean)
        if _data(current, "actions") == _data(clean, "actions"):
            return current, "unchanged"
        if clean.version and clean.version != current.version:
            raise Conflict(current, clean)  # a file row made before the store's change
        if _measure_key(current.measure) != key or current.factor != clean.factor:
            other = conn.execute(by_measure.where(table.c.id != current.id)).mappings().first()
            if other is not None:
                raise InvalidRecord([FieldProblem("measure_taken", "measure", clean.measure)])
        values = {**_columns(clean, "actions"), "version": current.version + 1,
                  "updated_at": now, "updated_by": actor}
        done = conn.execute(sa.update(table).where(table.c.id == current.id,
                                                   table.c.version == current.version)
                            .values(**values))
        if done.rowcount != 1:
            fresh = self._row_by_id(conn, "actions", current.id)
            raise Conflict(None if fresh is None else _action(fresh), clean)
        saved = _action({**row, **values})
        self._log(conn, now, "actions", saved, saved.id, "update", saved.version, current,
                  saved)
        return saved, "changed"

    def import_actions(self, actions: Sequence[Action]) -> list[tuple[str, Any]]:
        """Write checked actions (from a file) in one transaction; each on its own.

        Each action is matched by its id, else by its measure (wave, unit, factor, measure):
        an identical one is left as it is, a changed one updated (refused when the row
        names an older version than the stored one and differs from it), a new one added.
        Nothing is deleted.

        Returns
        -------
        list of (outcome, detail)
            Per action: ``("new" | "changed" | "unchanged", Action)``, or
            ``("rejected", FieldProblem)`` (another unit's id, an older version, a
            measure taken), or ``("forbidden", Forbidden)``.
        """
        out: list[tuple[str, Any]] = []
        with self.store.transaction(write=True) as conn:
            now = _now()
            for action in actions:
                try:
                    self.access.check(action.unit_id, action.wave)
                except Forbidden as exc:
                    out.append(("forbidden", exc))
                    continue
                nested = conn.begin_nested()
                try:
                    saved, outcome = self._put_action(conn, action, strict=False, now=now)
                except InvalidRecord as exc:
                    nested.rollback()
                    out.append(("rejected", exc.problems[0]))
                    continue
                except Conflict as exc:
                    nested.rollback()
                    c = exc.current
                    out.append(("rejected", FieldProblem(
                        "stale_row", "version", str(action.version),
                        {"current": c.version, "by": c.updated_by,
                         "at": c.updated_at.replace("T", " ")[:16]})))
                    continue
                nested.commit()
                out.append((outcome, saved))
        return out

    # -- the parking lot --------------------------------------------------------------------

    def save_parking(self, item: Parking) -> Parking:
        """Add an issue to the parking lot (``id`` empty) or change one.

        Raises
        ------
        Forbidden, InvalidRecord, Conflict
        """
        wave, unit = self._checked(item.wave, item.unit_id)
        problems: list[FieldProblem] = []
        texts = {name: _text(problems, name, getattr(item, name), _LIMITS["parking"],
                             required=name == "issue")
                 for name in ("issue", "passed_by", "passed_to", "answer")}
        if problems:
            raise InvalidRecord(problems)
        clean = replace(item, wave=wave, unit_id=unit, **texts)
        table = self.store.tables["parking"]
        actor = self.access.actor.label[:200]
        with self.store.transaction(write=True) as conn:
            now = _now()
            if not clean.id:
                ordinal = conn.execute(
                    sa.select(sa.func.coalesce(sa.func.max(table.c.ordinal), 0))
                    .where(table.c.wave == wave, table.c.unit_id == unit)).scalar()
                values = {"wave": wave, "unit_id": unit, "id": uuid.uuid4().hex,
                          "ordinal": int(ordinal) + 1, **_columns(clean, "parking"),
                          "version": 1, "created_at": now, "updated_at": now,
                          "updated_by": actor}
                conn.execute(sa.insert(table).values(**values))
                saved = _parking(values)
                self._log(conn, now, "parking", saved, saved.id, "insert", 1, None, saved)
                return saved
            row = self._row_by_id(conn, "parking", clean.id)
            if row is None:
                raise Conflict(None, clean)
            if (row["wave"], row["unit_id"]) != (wave, unit):
                raise Forbidden("forbidden", allowed=f"{unit} {wave}", unit=row["unit_id"],
                                wave=row["wave"])
            current = _parking(row)
            if clean.version != current.version:
                raise Conflict(current, clean)
            if _data(current, "parking") == _data(clean, "parking"):
                return current
            values = {**_columns(clean, "parking"), "version": current.version + 1,
                      "updated_at": now, "updated_by": actor}
            done = conn.execute(sa.update(table).where(table.c.id == clean.id,
                                                       table.c.version == current.version)
                                .values(**values))
            if done.rowcount != 1:
                fresh = self._row_by_id(conn, "parking", clean.id)
                raise Conflict(None if fresh is None else _parking(fresh), clean)
            saved = _parking({**row, **values})
            self._log(conn, now, "parking", saved, saved.id, "update", saved.version,
                      current, saved)
            return saved

    def delete_parking(self, item: Parking) -> None:
        """Delete an issue from the parking lot (the version read must be the stored one).

        Raises
        ------
        Forbidden, Conflict
        """
        self._delete("parking", item)

    def _delete(self, kind: str, record: Any) -> None:
        wave, unit = self._checked(record.wave, record.unit_id)
        table = self.store.tables[kind]
        read = _READ[kind]
        with self.store.transaction(write=True) as conn:
            row = self._row_by_id(conn, kind, str(record.id))
            if row is None:
                return  # deleted already: what the caller wanted
            if (row["wave"], row["unit_id"]) != (wave, unit):
                raise Forbidden("forbidden", allowed=f"{unit} {wave}", unit=row["unit_id"],
                                wave=row["wave"])
            current = read(row)
            if record.version != current.version:
                raise Conflict(current, record)
            done = conn.execute(sa.delete(table).where(table.c.id == current.id,
                                                       table.c.version == current.version))
            if done.rowcount != 1:
                fresh = self._row_by_id(conn, kind, current.id)
                raise Conflict(None if fresh is None else read(fresh), record)
            self._log(conn, _now(), kind, current, current.id, "delete", current.version,
                      current, None)


# the records as plain dicts, e.g. for a page's JSON
def as_dict(record: Any) -> dict[str, Any]:
    """A record as a dict (``extra`` and ``factors`` as plain containers)."""
    out = asdict(record)
    if isinstance(record, Choice):
        out["factors"] = list(record.factors)
    return out
