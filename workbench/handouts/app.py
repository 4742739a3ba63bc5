"""A small widgets app for the handouts notebook: pick unit, wave, language and formats.

The state lives in one immutable :class:`HandoutChoice`; :func:`make_from_choice` does the
work and returns the written paths, so everything is testable without a browser. The
widgets only read the choice and show links.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path
from typing import Sequence

from workbench.handouts.batch import BatchResult, make_handouts, parse_formats
from workbench.handouts.handout import FORMATS
from workbench.survey import Survey

__all__ = ["HandoutChoice", "unit_options", "make_from_choice", "links_html", "handout_app"]


@dataclass(frozen=True)
class HandoutChoice:
    """What the user picked."""

    unit: str | None = None
    wave: str | None = None
    lang: str = "nb"
    formats: tuple[str, ...] = ("html", "pdf")

    def with_(self, **changes) -> "HandoutChoice":
        return replace(self, **changes)


def unit_options(survey: Survey, wave: str | None = None,
                 lang: str = "nb") -> list[tuple[str, str]]:
    """``(label, unit_id)`` of every unit in the wave, indented by level, hidden ones marked.

    Units the privacy rules hide stay in the list (a leader looks for their own unit) but say
    that they get no handout.
    """
    from workbench.handouts._tables import Published

    published = Published.compute(survey, wave, lang)
    ok, skipped = published.published_units()
    hidden = dict(skipped)
    hierarchy = published.hierarchy
    note = {"nb": "ingen rapport (for få svar)", "en": "no report (too few answers)"}[lang]
    out = []
    for unit in hierarchy.ids:
        label = "\u2003" * hierarchy.level(unit) + hierarchy.name(unit, lang)
        if unit in hidden:
            label += f" \u2013 {note}"
        out.append((label, unit))
    return out


def make_from_choice(survey: Survey, choice: HandoutChoice, out: str | Path,
                     template: str | Path | None = None) -> BatchResult:
    """Write the chosen unit's handout (one process; no progress bar)."""
    if not choice.unit:
        raise ValueError("choose a unit first")
    return make_handouts(survey, out, units=[choice.unit], wave=choice.wave, lang=choice.lang,
                         formats=parse_formats(choice.formats), template=template, jobs=1,
                         progress=False)


def links_html(result: BatchResult, base: str | Path | None = None) -> str:
    """HTML links to the written files (relative to ``base`` when given)."""
    items = []
    for _, paths in result.written:
        for path in paths:
            target = Path(path)
            if base is not None:
                target = Path(os.path.relpath(target.resolve(), Path(base).resolve()))
            items.append(f'<li><a href="{escape(target.as_posix())}" target="_blank">'
                         f"{escape(target.name)}</a></li>")
    return "<ul>" + "".join(items) + "</ul>"


def handout_app(survey: Survey | str | Path, out: str | Path = "handouts",
                formats: Sequence[str] = ("html", "pdf"), lang: str | None = None):
    """The widgets: unit, wave, language, formats, a button, and links to what was made."""
    import ipywidgets as w

    if not isinstance(survey, Survey):
        from workbench.validate import load_survey

        survey = load_survey(survey)
    lang = lang or survey.config.language
    state = {"choice": HandoutChoice(wave=survey.waves[-1], lang=lang,
                                     formats=tuple(formats))}
    unit = w.Dropdown(options=unit_options(survey, survey.waves[-1], lang),
                      description="Enhet / Unit", layout=w.Layout(width="520px"),
                      style={"description_width": "110px"})
    wave = w.Dropdown(options=list(survey.waves), value=survey.waves[-1],
                      description="Runde / Wave", style={"description_width": "110px"})
    language = w.ToggleButtons(options=[("bokmål", "nb"), ("English", "en")], value=lang,
                               description="Språk", style={"description_width": "110px"})
    boxes = [w.Checkbox(value=f in formats, description=f.upper(), indent=False,
                        layout=w.Layout(width="80px")) for f in FORMATS]
    button = w.Button(description="Lag handout / Make handout", button_style="primary",
                      layout=w.Layout(width="260px"))
    output = w.HTML()

    def refresh_units(_=None) -> None:
        unit.options = unit_options(survey, wave.value, language.value)

    def make(_=None) -> None:
        choice = state["choice"].with_(unit=unit.value, wave=wave.value, lang=language.value,
                                       formats=tuple(f for f, b in zip(FORMATS, boxes)
                                                     if b.value))
        state["choice"] = choice
        output.value = "<p>\u2026</p>"
        try:
            result = make_from_choice(survey, choice, out)
        except Exception as exc:  # shown to the user as one line, not a traceback
            output.value = f"<p><b>{escape(type(exc).__name__)}</b>: {escape(str(exc))}</p>"
            return
        output.value = links_html(result, base=Path.cwd())

    wave.observe(refresh_units, names="value")
    language.observe(refresh_units, names="value")
    button.on_click(make)
    return w.VBox([unit, wave, language, w.HBox([w.Label("Format:"), *boxes]), button, output])
