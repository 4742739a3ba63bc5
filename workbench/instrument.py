"""Instruments: the answer scale, the factors and their items, extra questions.

An instrument is read from a YAML file (see ``DESIGN.md``, "The instrument file"). Two are
built in: ``ark`` (NTNU's work-environment survey, 17 indicators in 6 themes) and
``tifaktor`` (KS' 10-FAKTOR, 10 factors of 35 statements).

Examples
--------
>>> from workbench.instrument import load_instrument
>>> ark = load_instrument("ark")
>>> len(ark.factors), len(ark.themes)
(17, 6)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

import yaml

from workbench.errors import InstrumentError

__all__ = [
    "LANGUAGES",
    "Text",
    "Scale",
    "Item",
    "Factor",
    "Theme",
    "ExtraQuestion",
    "Instrument",
    "builtin_instruments",
    "load_instrument",
    "parse_instrument",
    "instrument_text",
    "parse_instrument_text",
]

LANGUAGES = ("nb", "en")


@dataclass(frozen=True)
class Text:
    """A short text in bokmål and English."""

    nb: str
    en: str

    def __call__(self, lang: str = "nb") -> str:
        """Return the text in ``lang`` (``nb`` or ``en``)."""
        return self.en if lang == "en" else self.nb

    def __str__(self) -> str:
        return self.nb


@dataclass(frozen=True)
class Scale:
    """An ordered Likert answer scale with its labels and "don't know" codes."""

    min: int
    max: int
    labels: Mapping[int, Text]
    missing_codes: tuple[int, ...] = ()
    missing_labels: Mapping[int, Text] = field(default_factory=dict)
    top_box: int = 2

    @property
    def points(self) -> tuple[int, ...]:
        """The valid scale points, lowest first."""
        return tuple(range(self.min, self.max + 1))

    @property
    def valid_codes(self) -> frozenset[int]:
        """Scale points plus missing codes: every code an answer may hold."""
        return frozenset(self.points) | frozenset(self.missing_codes)

    def describe(self) -> Text:
        """The accepted codes as a phrase for error messages."""
        codes = ", ".join(str(c) for c in self.missing_codes)
        if not codes:
            return Text(nb=f"{self.min}-{self.max} eller tom", en=f"{self.min}-{self.max} or empty")
        return Text(nb=f"{self.min}-{self.max}, {codes} (vet ikke) eller tom",
                    en=f"{self.min}-{self.max}, {codes} (don't know) or empty")


@dataclass(frozen=True)
class Item:
    """One Likert statement."""

    id: str
    text: Text
    reverse: bool
    factor: str


@dataclass(frozen=True)
class Factor:
    """A factor (indicator) scored as the mean of its items.

    ``scale`` is the factor's own answer scale (e.g. 0-4 beside an instrument's 1-5), or
    None when its items use the instrument's scale: use :meth:`Instrument.factor_scale`.
    """

    id: str
    name: Text
    definition: Text
    items: tuple[Item, ...]
    theme: str | None = None
    scale: Scale | None = None

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)


@dataclass(frozen=True)
class Theme:
    """A group of factors, as in the ARK report."""

    id: str
    name: Text


@dataclass(frozen=True)
class ExtraQuestion:
    """A question that is not a factor item: working hours band, appraisal interview, ..."""

    id: str
    name: Text
    text: Text
    type: str
    codes: Mapping[int, Text]
    only_if: Mapping[str, int] = field(default_factory=dict)

    def describe(self) -> Text:
        """The accepted codes as a phrase for error messages."""
        codes = sorted(self.codes)
        listed = f"{codes[0]}-{codes[-1]}" if self.type == "scale" else \
            ", ".join(str(c) for c in codes)
        return Text(nb=f"{listed} eller tom", en=f"{listed} or empty")


@dataclass(frozen=True)
class Instrument:
    """A survey instrument: scale, factors with items, themes and extra questions."""

    id: str
    name: Text
    description: Text
    scale: Scale
    min_answered: float
    themes: tuple[Theme, ...]
    factors: tuple[Factor, ...]
    extra: tuple[ExtraQuestion, ...] = ()

    @property
    def items(self) -> tuple[Item, ...]:
        """All items, in questionnaire order."""
        return tuple(item for factor in self.factors for item in factor.items)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    @property
    def extra_ids(self) -> tuple[str, ...]:
        return tuple(q.id for q in self.extra)

    def factor(self, factor_id: str) -> Factor:
        """Return the factor ``factor_id``; raise a clear error when it is unknown."""
        for factor in self.factors:
            if factor.id == factor_id:
                return factor
        known = ", ".join(f.id for f in self.factors)
        raise InstrumentError(f"unknown factor {factor_id!r} in instrument {self.id!r}; "
                              f"known factors: {known}")

    def min_items(self, factor: Factor) -> int:
        """Items a person must answer to get a score on ``factor``."""
        return max(1, math.ceil(self.min_answered * len(factor.items) - 1e-9))

    def factor_scale(self, factor: Factor | str) -> Scale:
        """The answer scale of ``factor`` (its own, else the instrument's)."""
        if isinstance(factor, str):
            factor = self.factor(factor)
        return factor.scale or self.scale

    def item_scale(self, item_id: str) -> Scale:
        """The answer scale of an item: its factor's."""
        for factor in self.factors:
            if item_id in factor.item_ids:
                return self.factor_scale(factor)
        raise InstrumentError(f"unknown item {item_id!r} in instrument {self.id!r}")

    @property
    def mixed_scales(self) -> bool:
        """True when some factor has a scale other than the instrument's."""
        return any(f.scale is not None and f.scale != self.scale for f in self.factors)

    @property
    def points(self) -> tuple[int, ...]:
        """Every scale point of every factor, lowest first: ``pct_<point>`` columns."""
        return tuple(sorted({p for f in self.factors for p in self.factor_scale(f).points}))


def builtin_instruments() -> tuple[str, ...]:
    """Ids of the instruments that ship with the workbench."""
    folder = resources.files("workbench") / "instruments"
    return tuple(sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml")))


def load_instrument(ref: str | Path, base: Path | None = None) -> Instrument:
    """Load a built-in instrument by id, or an instrument file by path.

    Parameters
    ----------
    ref
        A built-in id (``ark``, ``tifaktor``) or a path to a YAML instrument file.
    base
        Folder that a relative path is resolved against (the dataset folder).
    """
    ref_str = str(ref)
    if ref_str in builtin_instruments():
        return _builtin(ref_str)
    path = Path(ref_str)
    if base is not None and not path.is_absolute():
        path = base / path
    if not path.is_file():
        raise InstrumentError(
            f"instrument {ref_str!r} is neither a built-in instrument "
            f"({', '.join(builtin_instruments())}) nor an instrument file ({path} not found)")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InstrumentError(f"{path}: not a readable YAML instrument file ({exc})") from None
    return parse_instrument(data, source=str(path))


def instrument_text(ref: str | Path, base: Path | None = None) -> str:
    """The YAML text of a built-in instrument (by id) or an instrument file (by path).

    A release keeps this text beside its tables, so that what it publishes can be labelled
    without the dataset folder.
    """
    ref_str = str(ref)
    if ref_str in builtin_instruments():
        resource = resources.files("workbench") / "instruments" / f"{ref_str}.yaml"
        return resource.read_text(encoding="utf-8")
    path = Path(ref_str)
    if base is not None and not path.is_absolute():
        path = base / path
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentError(f"instrument {ref_str!r}: cannot read {path} ({exc})") from None


def parse_instrument_text(text: str, source: str = "instrument") -> Instrument:
    """An instrument from its YAML text (as :func:`instrument_text` gives it)."""
    try:
        data = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise InstrumentError(f"{source}: not a readable YAML instrument ({exc})") from None
    return parse_instrument(data, source=source)


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@lru_cache(maxsize=None)
def _builtin(instrument_id: str) -> Instrument:
    # Instruments are frozen values, so the parsed built-ins can be shared.
    resource = resources.files("workbench") / "instruments" / f"{instrument_id}.yaml"
    return parse_instrument(yaml.load(resource.read_text(encoding="utf-8"), Loader=_LOADER),
                            source=f"built-in instrument {instrument_id!r}")


def _text(value: Any, where: str, source: str) -> Text:
    if isinstance(value, str):
        return Text(nb=value, en=value)
    if isinstance(value, Mapping) and ("nb" in value or "en" in value):
        nb = str(value.get("nb", value.get("en")))
        en = str(value.get("en", value.get("nb")))
        return Text(nb=nb, en=en)
    raise InstrumentError(f"{source}: {where} must be a text or {{nb: ..., en: ...}}, "
                          f"got {value!r}")


def _int(value: Any, where: str, source: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise InstrumentError(f"{source}: {where} must be a whole number, got {value!r}")
    try:
        return int(value)
    except ValueError:
        raise InstrumentError(f"{source}: {where} must be a whole number, got {value!r}") from None


def _require(data: Mapping[str, Any], key: str, where: str, source: str) -> Any:
    if key not in data or data[key] is None:
        raise InstrumentError(f"{source}: {where} has no {key!r}")
    return data[key]


def _labels(raw: Any, where: str, source: str) -> dict[int, Text]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InstrumentError(f"{source}: {where} must map codes to labels, got {raw!r}")
    return {_int(k, f"{where} code", source): _text(v, f"{where}[{k}]", source)
            for k, v in raw.items()}


def _scale(raw: Any, source: str, where: str = "scale", default: Scale | None = None) -> Scale:
    """Parse a scale; a factor's scale (``default`` = the instrument's) inherits the missing
    codes, their labels and ``top_box`` it does not set."""
    if not isinstance(raw, Mapping):
        raise InstrumentError(f"{source}: '{where}' must be a mapping with min, max and labels")
    lo = _int(_require(raw, "min", where, source), f"{where}.min", source)
    hi = _int(_require(raw, "max", where, source), f"{where}.max", source)
    if hi <= lo:
        raise InstrumentError(f"{source}: {where}.max ({hi}) must be above {where}.min ({lo})")
    labels = _labels(raw.get("labels"), f"{where}.labels", source)
    if "missing_codes" in raw or default is None:
        missing = tuple(_int(c, f"{where}.missing_codes", source)
                        for c in raw.get("missing_codes") or ())
        missing_labels = _labels(raw.get("missing_labels"), f"{where}.missing_labels", source)
    else:
        missing, missing_labels = default.missing_codes, default.missing_labels
    clash = [c for c in missing if lo <= c <= hi]
    if clash:
        inherited = "" if "missing_codes" in raw or default is None else \
            " (inherited from the instrument's scale; set missing_codes for this scale)"
        raise InstrumentError(f"{source}: missing code(s) {clash} lie inside the {where} "
                              f"{lo}-{hi}{inherited}")
    top_default = 2 if default is None else min(default.top_box, hi - lo)
    top_box = _int(raw.get("top_box", top_default), f"{where}.top_box", source)
    if not 1 <= top_box <= hi - lo:
        raise InstrumentError(f"{source}: {where}.top_box must be between 1 and {hi - lo}")
    return Scale(min=lo, max=hi, labels=labels, missing_codes=missing,
                 missing_labels=missing_labels, top_box=top_box)


def _extra(raw: Any, source: str) -> ExtraQuestion:
    if not isinstance(raw, Mapping):
        raise InstrumentError(f"{source}: each entry of 'extra' must be a mapping, got {raw!r}")
    qid = str(_require(raw, "id", "an extra question", source))
    where = f"extra question {qid!r}"
    kind = raw.get("type", "category")
    if kind == "category":
        cats = raw.get("categories") or []
        codes = {_int(c.get("code"), f"{where} code", source):
                 _text(c.get("label"), f"{where} label", source) for c in cats}
    elif kind == "scale":
        lo = _int(_require(raw, "min", where, source), f"{where} min", source)
        hi = _int(_require(raw, "max", where, source), f"{where} max", source)
        labels = _labels(raw.get("labels"), f"{where} labels", source)
        codes = {c: labels.get(c, Text(str(c), str(c))) for c in range(lo, hi + 1)}
    else:
        raise InstrumentError(f"{source}: {where} has type {kind!r}; use 'category' or 'scale'")
    if not codes:
        raise InstrumentError(f"{source}: {where} has no answer codes")
    only_if = {str(k): _int(v, f"{where} only_if", source)
               for k, v in (raw.get("only_if") or {}).items()}
    name = _text(raw.get("name", qid), f"{where} name", source)
    text = name if raw.get("text") is None else _text(raw["text"], where, source)
    return ExtraQuestion(id=qid, name=name, text=text,
                         type=kind, codes=codes, only_if=only_if)


def parse_instrument(data: Any, source: str = "instrument") -> Instrument:
    """Build an :class:`Instrument` from parsed YAML, checking the schema.

    Raises
    ------
    InstrumentError
        Naming the file and the entry that breaks the schema.
    """
    if not isinstance(data, Mapping):
        raise InstrumentError(f"{source}: an instrument file must be a YAML mapping")
    iid = str(_require(data, "id", "the instrument", source))
    scale = _scale(_require(data, "scale", "the instrument", source), source)
    min_answered = float(data.get("min_answered", 0.5))
    if not 0 < min_answered <= 1:
        raise InstrumentError(f"{source}: min_answered must be in (0, 1], got {min_answered}")
    themes = tuple(Theme(id=str(_require(t, "id", "a theme", source)),
                         name=_text(t.get("name"), f"theme {t.get('id')!r}", source))
                   for t in data.get("themes") or ())
    theme_ids = {t.id for t in themes}
    factors: list[Factor] = []
    seen: set[str] = set()
    raw_factors = _require(data, "factors", "the instrument", source)
    if not isinstance(raw_factors, list) or not raw_factors:
        raise InstrumentError(f"{source}: 'factors' must be a non-empty list")
    for raw in raw_factors:
        fid = str(_require(raw, "id", "a factor", source))
        where = f"factor {fid!r}"
        theme = raw.get("theme")
        if theme is not None and str(theme) not in theme_ids:
            raise InstrumentError(f"{source}: {where} names theme {theme!r}, which is not listed "
                                  f"under 'themes'")
        items = []
        for item in _require(raw, "items", where, source) or ():
            item_id = str(_require(item, "id", f"an item of {where}", source))
            if item_id in seen:
                raise InstrumentError(f"{source}: item or factor id {item_id!r} is used twice")
            seen.add(item_id)
            items.append(Item(id=item_id, text=_text(item.get("text", item_id),
                                                     f"item {item_id!r}", source),
                              reverse=bool(item.get("reverse", False)), factor=fid))
        if not items:
            raise InstrumentError(f"{source}: {where} has no items")
        if fid in seen:
            raise InstrumentError(f"{source}: item or factor id {fid!r} is used twice")
        seen.add(fid)
        own = raw.get("scale")
        factor_scale = None if own is None else \
            _scale(own, source, where=f"scale of factor {fid!r}", default=scale)
        factors.append(Factor(id=fid, name=_text(raw.get("name", fid), f"{where} name", source),
                              definition=_text(raw.get("definition", ""),
                                               f"{where} definition", source),
                              items=tuple(items), theme=None if theme is None else str(theme),
                              scale=factor_scale))
    extra = tuple(_extra(q, source) for q in data.get("extra") or ())
    for q in extra:
        if q.id in seen:
            raise InstrumentError(f"{source}: extra question id {q.id!r} is also an item or "
                                  f"factor id")
        seen.add(q.id)
    return Instrument(id=iid, name=_text(data.get("name", iid), "name", source),
                      description=_text(data.get("description", ""), "description", source),
                      scale=scale, min_answered=min_answered, themes=themes,
                      factors=tuple(factors), extra=extra)
