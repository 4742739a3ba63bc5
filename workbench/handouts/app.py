"""The handouts page (Voila): pick unit, wave, language and formats; make; open the files.

The state lives in one immutable :class:`HandoutChoice`, whose ``with_*`` methods check values
from the browser against the release (an unknown unit, wave, language or format leaves the
choice as it was). :func:`make_from_choice` writes the chosen unit's handout from the release
(:func:`workbench.handouts.make_handouts`) and returns what was written; :func:`links_html`
links the files. Under ``workbench serve`` the files go to the server's handouts folder
(``$WORKBENCH_HANDOUTS``) and the links point at the route that serves exactly that folder
(``$WORKBENCH_HANDOUTS_URL``, see :mod:`workbench.apps._voila`); elsewhere they are relative
to the working folder. Everything but the widgets is testable without a browser.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from html import escape
from pathlib import Path
from typing import Sequence
from urllib.parse import quote

from workbench.i18n import LANGS, text

__all__ = ["FORMATS", "HandoutChoice", "unit_reason", "unit_options", "make_from_choice",
           "links_html", "output_folder", "handout_app"]

#: The formats a handout can be made in (as :data:`workbench.handouts.FORMATS`).
FORMATS = ("html", "pdf", "pptx", "xlsx")

#: Why a unit gets no handout, by the release's reason code.
_WHY = {
    "min_n": ("færre enn {min_n} svar", "fewer than {min_n} answers"),
    "complement": ("skjult for å verne en liten gruppe", "hidden to protect a small group"),
    "no_answers": ("ingen svar", "no answers"),
    "": ("personvern", "privacy"),
}

_TEXTS = {
    "no_report": ("ingen rapport ({why})", "no report ({why})"),
    "unit": ("Enhet", "Unit"),
    "wave": ("Runde", "Wave"),
    "language": ("Språk", "Language"),
    "formats": ("Format", "Formats"),
    "make": ("Lag utdelingsark", "Make the handout"),
    "making": ("Lager utdelingsarket …", "Making the handout …"),
    "made": ("Utdelingsarket for {unit} er laget:", "The handout for {unit} is made:"),
    "refused": ("{unit} får ikke utdelingsark: {why}.", "{unit} gets no handout: {why}."),
    "failed": ("Utdelingsarket kunne ikke lages: {message}",
               "The handout could not be made: {message}"),
    "no_format": ("Velg minst ett format.", "Choose at least one format."),
}


def _t(key: str, lang: str, **fields) -> str:
    return text(_TEXTS, key, lang, **fields)


def _why(reason: str, lang: str, min_n: int) -> str:
    return text(_WHY, reason if reason in _WHY else "", lang, min_n=min_n)


@dataclass(frozen=True)
class HandoutChoice:
    """What the user picked; every ``with_*`` keeps only what the release allows."""

    unit: str | None = None
    wave: str | None = None
    lang: str = "nb"
    formats: tuple[str, ...] = ("html", "pdf")

    def with_unit(self, release, unit) -> "HandoutChoice":
        wave = self.wave or release.waves[-1]
        if not isinstance(unit, str) or unit not in release.hierarchy(wave):
            return self
        return replace(self, unit=unit)

    def with_wave(self, release, wave) -> "HandoutChoice":
        wave = str(wave) if isinstance(wave, (str, int)) and not isinstance(wave, bool) else ""
        if wave not in release.waves:
            return self
        unit = self.unit if self.unit in release.hierarchy(wave) else None
        return replace(self, wave=wave, unit=unit)

    def with_lang(self, lang) -> "HandoutChoice":
        if not isinstance(lang, str) or lang not in LANGS:
            return self
        return replace(self, lang=lang)

    def with_formats(self, formats) -> "HandoutChoice":
        if isinstance(formats, str) or not all(isinstance(f, str) for f in formats):
            return self
        chosen = tuple(f for f in FORMATS if f in set(formats))
        return replace(self, formats=chosen)


def unit_reason(release, unit: str, wave: str) -> str:
    """"" when the unit is published in ``wave`` (it gets a handout); otherwise the release's
    reason for hiding it (``min_n``, ``complement``, ``no_answers``)."""
    from workbench.views import published_units

    if unit in published_units(release, wave):
        return ""
    rows = release.cut("factors", unit, wave)
    reasons = [r for r in rows["reason"].astype(str) if r] if len(rows) else []
    if not reasons:
        return "no_answers"
    # the reason of most of its cells; the most restrictive first when they tie
    order = ("no_answers", "min_n", "complement", "background_level")
    return max(set(reasons), key=lambda r: (reasons.count(r),
                                            -order.index(r) if r in order else -9))


def unit_options(release, wave: str | None = None, lang: str = "nb") -> list[tuple[str, str]]:
    """``(label, unit_id)`` of every unit in the wave, indented by level; a unit the privacy
    rules hide says why it gets no handout (the release's reason, in words).

    Hidden units stay in the list: a leader looks for their own unit.
    """
    wave = wave or release.waves[-1]
    hierarchy = release.hierarchy(wave)
    min_n = release.policy.min_n
    out = []
    for unit in hierarchy.ids:
        label = "\u2003" * hierarchy.level(unit) + hierarchy.name(unit, lang)
        reason = unit_reason(release, unit, wave)
        if reason:
            label += f" \u2013 {_t('no_report', lang, why=_why(reason, lang, min_n))}"
        out.append((label, unit))
    return out


def output_folder(default: str | Path = "handouts") -> Path:
    """Where the page writes: the server's handouts folder (``$WORKBENCH_HANDOUTS``), else
    ``default``."""
    return Path(os.environ.get("WORKBENCH_HANDOUTS") or default)


def make_from_choice(release, choice: HandoutChoice, out: str | Path,
                     template: str | Path | None = None, store=None):
    """Write the chosen unit's handout from the release (one process, no progress bar);
    with a workshop ``store`` its worksheets show what the unit recorded.

    Returns the :class:`workbench.handouts.BatchResult`; raises
    :class:`workbench.handouts.HandoutRefused` for a unit the release hides.
    """
    from workbench.errors import UsageError
    from workbench.handouts import make_handouts

    if not choice.unit:
        raise UsageError("choose a unit first")
    if not choice.formats:
        raise UsageError("choose at least one format")
    return make_handouts(release, out, units=[choice.unit], wave=choice.wave, lang=choice.lang,
                         formats=choice.formats, template=template, jobs=1, progress=False,
                         store=store)


def links_html(result, out: str | Path, url: str | None = None,
               base: str | Path | None = None) -> str:
    """HTML links to the written files.

    With ``url`` (the address at which ``out`` is served, e.g. ``/workbench/handouts/``) each
    link is ``url`` + the file's path inside ``out``; otherwise the path relative to ``base``
    (default: the working folder).
    """
    items = []
    root = Path(out).resolve()
    for _, paths in result.written:
        for path in paths:
            target = Path(path).resolve()
            if url is not None:
                inside = target.relative_to(root).as_posix()
                href = url.rstrip("/") + "/" + quote(inside)
            else:
                href = quote(Path(os.path.relpath(target, Path(base or Path.cwd()).resolve()))
                             .as_posix())
            items.append(f'<li><a href="{escape(href, quote=True)}" target="_blank" '
                         f'rel="noopener">{escape(target.name)}</a></li>')
    return "<ul class='wb-handout-links'>" + "".join(items) + "</ul>"


def handout_app(source, out: str | Path | None = None, formats: Sequence[str] = ("html", "pdf"),
                lang: str | None = None):
    """The widgets: unit, wave, language, formats, a button, and links to what was made.

    ``source`` is a :class:`workbench.release.Release` or a release or dataset folder.
    """
    import ipywidgets as w

    from workbench.apps._common import load_release
    from workbench.errors import WorkbenchError

    release = load_release(source)
    out = output_folder(out or "handouts")
    url = os.environ.get("WORKBENCH_HANDOUTS_URL") if os.environ.get("WORKBENCH_HANDOUTS") \
        else None
    lang = lang if lang in LANGS else release.config.language
    last = release.waves[-1]
    state = {"choice": HandoutChoice(wave=last, lang=lang).with_formats(formats)}
    options = unit_options(release, last, lang)
    unit = w.Dropdown(options=options, description="Enhet / Unit",
                      layout=w.Layout(width="min(100%, 760px)"),
                      style={"description_width": "110px"})
    wave = w.Dropdown(options=list(release.waves), value=last, description="Runde / Wave",
                      style={"description_width": "110px"})
    language = w.ToggleButtons(options=[("Bokmål", "nb"), ("English", "en")], value=lang,
                               description="Språk / Language",
                               style={"description_width": "110px"})
    boxes = [w.Checkbox(value=f in state["choice"].formats, description=f.upper(),
                        indent=False, layout=w.Layout(width="80px")) for f in FORMATS]
    button = w.Button(description="Lag utdelingsark / Make the handout", button_style="primary",
                      layout=w.Layout(width="320px"))
    output = w.HTML()

    def refresh_units(_=None) -> None:
        choice = state["choice"].with_wave(release, wave.value).with_lang(language.value)
        state["choice"] = choice
        current = unit.value
        unit.options = unit_options(release, choice.wave, choice.lang)
        if current in {v for _, v in unit.options}:
            unit.value = current

    def make(_=None) -> None:
        choice = (state["choice"].with_wave(release, wave.value).with_lang(language.value)
                  .with_unit(release, unit.value)
                  .with_formats([f for f, b in zip(FORMATS, boxes) if b.value]))
        state["choice"] = choice
        words = choice.lang
        if not choice.unit:
            return
        if not choice.formats:
            output.value = f"<p>{escape(_t('no_format', words))}</p>"
            return
        name = release.hierarchy(choice.wave).name(choice.unit, words)
        reason = unit_reason(release, choice.unit, choice.wave)
        if reason:
            why = _why(reason, words, release.policy.min_n)
            output.value = f"<p>{escape(_t('refused', words, unit=name, why=why))}</p>"
            return
        output.value = f"<p>{escape(_t('making', words))}</p>"
        try:
            result = make_from_choice(release, choice, out)
        except Exception as exc:  # shown as one line in the page, not a traceback
            message = str(exc) if isinstance(exc, WorkbenchError) else type(exc).__name__
            output.value = f"<p>{escape(_t('failed', words, message=message))}</p>"
            return
        if result.failed:
            message = "; ".join(reason for _, reason in result.failed)
            output.value = f"<p>{escape(_t('failed', words, message=message))}</p>"
            return
        output.value = (f"<p>{escape(_t('made', words, unit=name))}</p>"
                        + links_html(result, out, url=url))

    wave.observe(refresh_units, names="value")
    language.observe(refresh_units, names="value")
    button.on_click(make)
    return w.VBox([unit, wave, language, w.HBox([w.Label(_t("formats", lang) + ":"), *boxes]),
                   button, output])
