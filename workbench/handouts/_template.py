"""Template folders: Jinja templates, the text catalog and the branding, without code.

A template folder holds ``base.html.j2``, ``handout.html.j2``, ``style.css``,
``branding.yaml`` and ``texts.yaml``. A consultant's folder may hold only the files it
changes: templates are looked up in it first, then in the default folder, and
``default/<name>`` always names the default (so ``{% extends "default/handout.html.j2" %}``
overrides single blocks). ``branding.yaml`` and ``texts.yaml`` are merged key by key over the
defaults.
"""

from __future__ import annotations

import base64
import functools
import mimetypes
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from workbench._resources import CHECKOUT, resource_dir
from workbench.errors import UsageError

__all__ = ["Branding", "Template", "default_template_dir"]

_COLOURS = {"primary": "#3D6A8E", "parent": "#B4B4B4", "ink": "#222222", "muted": "#5E5E5E",
            "line": "#D4D4D4", "shade": "#F2F2F2"}
_FILES = ("base.html.j2", "handout.html.j2", "style.css", "branding.yaml", "texts.yaml")


def default_template_dir() -> Path:
    """``templates/default`` of the checkout the package runs from, or of the installation
    (``<prefix>/share/workbench/templates/default``)."""
    found = resource_dir("templates/default", "handout.html.j2")
    return found if found is not None else CHECKOUT / "templates" / "default"


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        return {}
    try:
        # libyaml's loader when PyYAML has it: the texts are parsed for every handout made
        # without a template passed in (a leader page's button), ten times faster
        data = yaml.load(path.read_text(encoding="utf-8"),
                         Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        row = f", row {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{path}{row}: not valid YAML ({getattr(exc, 'problem', exc)}); fix "
                         "the file or copy it again from templates/default") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise UsageError(f"{path}: expected a mapping of keys to values, got "
                         f"{type(data).__name__}")
    return data


def _text(value: Any, lang: str) -> str:
    if isinstance(value, Mapping):
        return str(value.get(lang, value.get("nb", "")) or "")
    return "" if value is None else str(value)


def _data_uri(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind not in ("image/svg+xml", "image/png", "image/jpeg"):
        raise UsageError(f"logo {path}: use an SVG, PNG or JPEG file")
    return f"data:{kind};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@dataclass(frozen=True)
class Branding:
    """Organisation name, logo, colours and footer of the handouts.

    Attributes
    ----------
    organisation
        ``{nb: ..., en: ...}`` or one text; empty: the survey's name.
    logo
        The logo as a ``data:`` URI (read once, so a handout never fetches a file), or "".
    colours
        ``primary, parent, ink, muted, line, shade`` as hex colours.
    footer
        ``{nb: ..., en: ...}`` or one text, printed at the foot of every page.
    """

    organisation: Any = None
    logo: str = ""
    colours: Mapping[str, str] = field(default_factory=lambda: dict(_COLOURS))
    footer: Any = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], folder: Path) -> "Branding":
        """Branding from a ``branding.yaml`` mapping; ``logo`` relative to ``folder``."""
        unknown = set(data) - {"organisation", "logo", "colours", "footer"}
        if unknown:
            raise UsageError(f"{folder / 'branding.yaml'}: unknown key(s) "
                             f"{', '.join(sorted(unknown))}; known: organisation, logo, "
                             "colours, footer")
        colours = dict(_COLOURS)
        for key, value in (data.get("colours") or {}).items():
            if key not in _COLOURS:
                raise UsageError(f"{folder / 'branding.yaml'}: unknown colour {key!r}; known: "
                                 f"{', '.join(_COLOURS)}")
            text = str(value)
            if not (text.startswith("#") and len(text) in (4, 7)
                    and all(ch in "0123456789abcdefABCDEF" for ch in text[1:])):
                raise UsageError(f"{folder / 'branding.yaml'}: colour {key} = {text!r} is not "
                                 "a hex colour such as '#3D6A8E'")
            colours[key] = text
        logo = ""
        if data.get("logo"):
            path = Path(str(data["logo"]))
            path = path if path.is_absolute() else folder / path
            if not path.is_file():
                raise UsageError(f"{folder / 'branding.yaml'}: logo file {path} not found")
            logo = _data_uri(path)
        return cls(organisation=data.get("organisation"), logo=logo, colours=colours,
                   footer=data.get("footer"))

    def organisation_name(self, lang: str, fallback: str = "") -> str:
        return _text(self.organisation, lang) or fallback

    def footer_text(self, lang: str) -> str:
        return _text(self.footer, lang)


@dataclass(frozen=True)
class Template:
    """A template folder (searched first) over the default folder, with its branding and texts.

    Build it with :meth:`load`; it holds only paths and plain data, so handouts that carry it
    can be sent to worker processes.
    """

    folders: tuple[Path, ...]
    branding: Branding
    texts: Mapping[str, Any]

    @classmethod
    def load(cls, folder: str | Path | None = None) -> "Template":
        """The default template, or ``folder`` over it."""
        default = default_template_dir()
        if not (default / "handout.html.j2").is_file():
            raise UsageError(f"the default handout templates are missing ({default}); run from "
                             "a checkout of the workbench")
        folders = (default,)
        if folder is not None:
            custom = Path(folder).resolve()
            if not custom.is_dir():
                raise UsageError(f"template folder {custom} does not exist; copy "
                                 f"{default} and change what you need")
            if not any((custom / name).is_file() for name in _FILES):
                raise UsageError(f"template folder {custom} holds none of "
                                 f"{', '.join(_FILES)}; copy {default} and change what you need")
            if custom != default:
                folders = (custom, default)
        texts: dict[str, Any] = {}
        branding: dict[str, Any] = {}
        for path in reversed(folders):
            texts.update(_read_yaml(path / "texts.yaml"))
            mine = _read_yaml(path / "branding.yaml")
            if "colours" in mine and "colours" in branding:
                mine = {**mine, "colours": {**branding["colours"], **(mine["colours"] or {})}}
            branding.update(mine)
            if mine.get("logo"):
                # a logo named in a folder is relative to that folder
                logo = Path(str(mine["logo"]))
                branding["logo"] = str(logo if logo.is_absolute() else path / logo)
        return cls(folders=folders, branding=Branding.from_mapping(branding, folders[0]),
                   texts=texts)

    def with_branding(self, branding: Branding) -> "Template":
        """The same templates and texts with another branding."""
        return Template(folders=self.folders, branding=branding, texts=self.texts)

    def text(self, key: str, lang: str, **fields: Any) -> str:
        """The text ``key`` in ``lang`` with ``{fields}`` filled in."""
        if key not in self.texts:
            raise UsageError(f"texts.yaml has no key {key!r}; copy it from templates/default")
        value = _text(self.texts[key], lang)
        try:
            return value.format(**fields)
        except (KeyError, IndexError, ValueError):
            return value

    def value(self, key: str, lang: str) -> Any:
        """A structured entry of texts.yaml (lists of meetings, roles, tips) in ``lang``."""
        value = self.texts.get(key)
        if isinstance(value, Mapping) and lang in value:
            return value[lang]
        return value

    def environment(self):
        """The Jinja environment (cached per folder list)."""
        return _environment(self.folders)


@functools.lru_cache(maxsize=8)
def _environment(folders: tuple[Path, ...]):
    from jinja2 import (
        ChoiceLoader,
        Environment,
        FileSystemLoader,
        PrefixLoader,
        StrictUndefined,
        select_autoescape,
    )

    loader = ChoiceLoader([FileSystemLoader([str(f) for f in folders]),
                           PrefixLoader({"default": FileSystemLoader(str(folders[-1]))})])
    return Environment(loader=loader, undefined=StrictUndefined, trim_blocks=True,
                       lstrip_blocks=True, autoescape=select_autoescape(["html", "j2"]))
