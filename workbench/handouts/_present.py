"""From a handout's published tables to formatted values: what every format shows.

All formatting happens here, once, for HTML/PDF, PPTX and XLSX alike: numbers with the
decimal comma in bokmål, suppressed cells as their suppressed text (never 0 or blank),
verdicts in plain words. The templates receive text only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pandas as pd
from markupsafe import Markup, escape

from workbench import words
from workbench.agreement import agreement_words
from workbench.compare import verdict_text
from workbench.handouts._workshop import workshop_context
from workbench.i18n import DASH, date, number, percent
from workbench.plots import factor_table, likert_counts, likert_palette, suppressed_text

if TYPE_CHECKING:  # pragma: no cover
    from workbench.handouts.handout import Handout

__all__ = ["Formatter", "build_context", "render_html", "comparison_blocks", "SECTION_IDS"]

#: Section ids of the default template, in order (results sections appear when they apply).
SECTION_IDS = ("cover", "how-to-read", "factor-overview", "factor-table", "distribution",
               "trend", "alike-different", "working-hours", "appraisal", "comparisons",
               "units-below", "ws-analysis-cross", "ws-future-picture", "ws-priority-matrix",
               "ws-action-plan", "ws-parking-lot", "meetings", "roles", "method", "tips")

_HIDDEN_WORD = {"nb": "skjult", "en": "suppressed"}


def _missing(value: Any) -> bool:
    try:
        return value is None or value is pd.NA or math.isnan(float(value))
    except (TypeError, ValueError):
        return True


@dataclass(frozen=True)
class Formatter:
    """Numbers and suppressed cells as text in one language."""

    lang: str
    min_n: int

    def num(self, value: Any, digits: int = 2) -> str:
        return number(value, self.lang, digits)

    def signed(self, value: Any, digits: int = 2) -> str:
        """A difference with its sign: +0,12 / −0,38."""
        if _missing(value):
            return number(value, self.lang, digits)
        text = self.num(abs(float(value)), digits)
        if round(float(value), digits) == 0:
            return text
        return ("+" if value > 0 else "\u2212") + text

    def pct(self, value: Any, digits: int = 0) -> str:
        return percent(value, self.lang, digits)

    def count(self, value: Any) -> str:
        return number(value, self.lang, 0)

    def hidden(self, reason: Any = "min_n") -> str:
        """The suppressed text for a statistics-table reason."""
        reason = reason if isinstance(reason, str) else ""
        return suppressed_text(self.lang, self.min_n, reason or "min_n")

    @property
    def word(self) -> str:
        """The short word for a suppressed cell: skjult / suppressed."""
        return _HIDDEN_WORD[self.lang]


def _fields(h: "Handout", fmt: Formatter) -> dict:
    scale = h.instrument.scale
    top_points = f"{scale.max - scale.top_box + 1}\u2013{scale.max}"
    previous = h.waves[-2] if len(h.waves) > 1 else ""
    return {
        "unit": h.unit_name, "parent": h.parent_name or h.unit_name, "wave": h.wave,
        "previous": previous, "min_n": h.min_n, "threshold": fmt.num(h.threshold, 1),
        "scale_min": scale.min, "scale_max": scale.max,
        "low": scale.labels[scale.min](h.lang).lower() if scale.min in scale.labels else "",
        "high": scale.labels[scale.max](h.lang).lower() if scale.max in scale.labels else "",
        "top": top_points, "benchmark": benchmark_name(h),
        "top_box_name": h.template.text("top_box", h.lang, top=top_points),
    }


def benchmark_name(h: "Handout") -> str:
    """The benchmark's display name (e.g. "skoler"), from texts.yaml's benchmark_names."""
    if not h.benchmark_id:
        return ""
    names = h.template.texts.get("benchmark_names") or {}
    entry = names.get(h.benchmark_id)
    if isinstance(entry, dict):
        return str(entry.get(h.lang, entry.get("nb", h.benchmark_id)))
    return h.benchmark_id


def text_function(h: "Handout", fmt: Formatter):
    """``t(key, **fields)`` for templates: a text of texts.yaml with the handout's fields."""
    fields = _fields(h, fmt)

    def t(key: str, **extra: Any) -> str:
        return h.template.text(key, h.lang, **{**fields, **extra})

    return t


# ---- the results -------------------------------------------------------------------------------


def _themes(h: "Handout") -> dict[str, str]:
    names = {t.id: t.name(h.lang) for t in h.instrument.themes}
    return {f.id: names.get(f.theme, "") for f in h.instrument.factors}


def overview(h: "Handout", fmt: Formatter) -> dict:
    """Bars of the NTNU-style factor overview, as percentages of the scale's width."""
    lo, hi = float(h.instrument.scale.min), float(h.instrument.scale.max)

    def pos(value: float) -> float:
        return round(100.0 * (min(max(value, lo), hi) - lo) / (hi - lo), 2)

    parent = h.parent.set_index("key") if h.parent is not None else None
    themes = _themes(h)
    groups: list[dict] = []
    for _, row in h.unit.iterrows():
        theme = themes.get(row["key"], "")
        if not groups or groups[-1]["theme"] != theme:
            groups.append({"theme": theme, "rows": []})
        item: dict[str, Any] = {"key": row["key"], "label": row["label"]}
        if row["suppressed"] or _missing(row["mean"]):
            item.update(hidden=fmt.hidden(row["reason"]), mean="\u2013", width=0, sd=None)
        else:
            mean = float(row["mean"])
            item.update(hidden="", mean=fmt.num(mean), width=pos(mean), sd=None)
            if not _missing(row["sd"]):
                left, right = pos(mean - float(row["sd"])), pos(mean + float(row["sd"]))
                item["sd"] = {"left": left, "width": round(right - left, 2)}
        if parent is not None and row["key"] in parent.index:
            prow = parent.loc[row["key"]]
            if prow["suppressed"] or _missing(prow["mean"]):
                item["parent"] = {"hidden": True, "mean": fmt.word, "width": 0}
            else:
                item["parent"] = {"hidden": False, "mean": fmt.num(prow["mean"]),
                                  "width": pos(float(prow["mean"]))}
        else:
            item["parent"] = None
        groups[-1]["rows"].append(item)
    ticks = [{"pos": pos(k), "label": fmt.num(k, 0)} for k in range(int(lo), int(hi) + 1)]
    any_hidden = any(row["hidden"] for group in groups for row in group["rows"])
    return {"groups": groups, "ticks": ticks, "grid": round(100.0 / (hi - lo), 4),
            "any_hidden": any_hidden}


def factor_table_frame(h: "Handout", fmt: Formatter) -> pd.DataFrame:
    """The 10-FAKTOR table as text (plots.factor_table): factor, unit, parent, benchmark."""
    bench = None
    label = None
    if h.benchmark is not None and len(h.benchmark):
        bench = h.benchmark.set_index("factor")["mean"]
        label = f"{h.template.text('benchmark', h.lang)} ({benchmark_name(h)})"
    frame = factor_table(h.unit, h.parent, bench, lang=h.lang, benchmark_label=label)
    if "rwg" in h.unit.columns:
        rwg = h.unit.drop_duplicates("key").set_index("key")["rwg"]
        frame[h.template.text("agreement", h.lang)] = [
            agreement_words(float(rwg[key]), h.lang) or DASH if key in rwg.index else DASH
            for key in frame.index]
    return frame


def factor_table_context(h: "Handout", fmt: Formatter) -> dict:
    frame = factor_table_frame(h, fmt)
    head = [str(c).strip() for c in frame.columns]
    words_column = h.template.text("agreement", h.lang) in head
    rows, any_hidden = [], False
    for _, row in frame.iterrows():
        cells = []
        values = list(row)[1:]
        for i, value in enumerate(values):
            hidden = value == fmt.word
            any_hidden |= hidden
            cells.append({"text": value, "hidden": hidden,
                          "words": words_column and i == len(values) - 1})
        rows.append({"label": row.iloc[0], "cells": cells})
    return {"head": head, "rows": rows, "any_hidden": any_hidden, "agreement": words_column,
            "benchmark": h.benchmark is not None and len(h.benchmark) > 0}


def _ink(colour: str) -> str:
    r, g, b = (int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return "#FFFFFF" if 0.2126 * r + 0.7152 * g + 0.0722 * b < 0.5 else "#222222"


def distribution(h: "Handout", fmt: Formatter) -> dict:
    """100 % stacked bars of the shares of answers per scale point, with the top-box share."""
    scale = h.instrument.scale
    points = scale.max - scale.min + 1
    counts = likert_counts(distribution_rows(h), points)
    colours = likert_palette(points)
    keys = [{"label": scale.labels[p](h.lang) if p in scale.labels else str(p),
             "colour": colours[i]} for i, p in enumerate(scale.points)]
    rows = []
    for _, row in counts.iterrows():
        if row["suppressed"]:
            rows.append({"label": row["label"], "hidden": fmt.hidden(row["reason"]),
                         "segs": [], "top": "\u2013"})
            continue
        left, segs = 0.0, []
        for k in range(points):
            share = float(row[f"pct_{k + 1}"])
            segs.append({"left": round(left, 2), "width": round(share, 2),
                         "colour": colours[k], "ink": _ink(colours[k]),
                         "text": fmt.num(share, 0) if share >= 7 else ""})
            left += share
        rows.append({"label": row["label"], "hidden": "", "segs": segs,
                     "top": fmt.pct(row["top_box"])})
    top = f"{scale.max - scale.top_box + 1}\u2013{scale.max}"
    only_dist = bool((h.unit["dist_suppressed"] & ~h.unit["suppressed"]).any()) \
        if "dist_suppressed" in h.unit else False
    return {"legend": keys, "rows": rows, "dist_hidden": only_dist,
            "top_head": h.template.text("top_box", h.lang, top=top)}


def distribution_rows(h: "Handout") -> pd.DataFrame:
    """The unit's factor rows for a distribution: a row whose distribution is hidden (while
    its mean may be published) is suppressed there, with the distribution's reason."""
    rows = h.unit
    if "dist_suppressed" not in rows:
        return rows
    hidden = rows["dist_suppressed"].astype(bool)
    return rows.assign(suppressed=hidden, reason=rows["dist_reason"].where(hidden, ""))


def _spark(values: list[float | None], lo: float, hi: float, colour: str) -> Markup:
    """A small line over the waves (an SVG image, no text inside: quick to print); gaps where
    hidden."""
    width, height, pad = 100.0, 22.0, 3.0
    n = len(values)
    if n < 2 or hi <= lo:
        return Markup("")
    xs = [pad + i * (width - 2 * pad) / (n - 1) for i in range(n)]

    def y(v: float) -> float:
        return round(height - pad - (v - lo) / (hi - lo) * (height - 2 * pad), 2)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
             f'viewBox="0 0 {width:g} {height:g}" role="img">']
    run: list[str] = []
    for x, v in zip(xs, values):
        if v is None:
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(run)}" fill="none" '
                             f'stroke="{colour}" stroke-width="1.6"/>')
            run = []
            continue
        run.append(f"{x:.1f},{y(v)}")
        if len(values) < 3 or x == xs[-1] or len(run) == 1:  # the ends of each run, not all
            parts.append(f'<circle cx="{x:.1f}" cy="{y(v)}" r="2" fill="{colour}"/>')
    if len(run) > 1:
        parts.append(f'<polyline points="{" ".join(run)}" fill="none" stroke="{colour}" '
                     'stroke-width="1.6"/>')
    parts.append("</svg>")
    # an image, not inline SVG: the page stays plain HTML, which the PDF maker parses fastest
    source = "data:image/svg+xml," + quote("".join(parts), safe=" =/:,.-")
    return Markup(f'<img class="spark" alt="" width="{width:g}" height="{height:g}" '
                  f'src="{escape(source)}">')


def trend(h: "Handout", fmt: Formatter) -> dict | None:
    """Means per wave (the unit's waves up to the handout's), with a small line per factor."""
    if len(h.waves) < 2:
        return None
    table = h.trend
    published = table[~table["suppressed"]]["mean"].dropna()
    lo = float(published.min()) - 0.1 if len(published) else 1.0
    hi = float(published.max()) + 0.1 if len(published) else 5.0
    if hi - lo < 1.0:
        middle = (hi + lo) / 2
        lo, hi = middle - 0.5, middle + 0.5
    colour = h.template.branding.colours["primary"]
    by = {(r["key"], r["wave"]): r for r in table[["key", "wave", "mean", "suppressed"]]
          .to_dict("records")}
    rows, any_hidden = [], False
    for row in h.unit[["key", "label"]].to_dict("records"):
        cells, values = [], []
        for wave in h.waves:
            cell = by.get((row["key"], wave))
            if cell is None:
                cells.append({"text": "\u2013", "hidden": False})
                values.append(None)
                continue
            if cell["suppressed"] or _missing(cell["mean"]):
                any_hidden = True
                cells.append({"text": fmt.word, "hidden": True})
                values.append(None)
            else:
                cells.append({"text": fmt.num(cell["mean"]), "hidden": False})
                values.append(float(cell["mean"]))
        rows.append({"label": row["label"], "cells": cells,
                     "spark": _spark(values, lo, hi, colour)})
    return {"waves": list(h.waves), "rows": rows, "any_hidden": any_hidden}


def alike_different(h: "Handout", fmt: Formatter) -> tuple[list, list]:
    out: dict[str, list] = {"alike": [], "different": []}
    for _, row in h.alike.iterrows():
        out[row["kind"]].append({"label": row["label"], "mean": fmt.num(row["mean"]),
                                 "sd": fmt.num(row["sd"])})
    return out["alike"], out["different"]


def hours(h: "Handout", fmt: Formatter) -> dict | None:
    if h.hours is None or h.hours.empty:
        return None
    question = next(q for q in h.instrument.extra if q.id == "hours")
    first = h.hours.iloc[0]
    if first["suppressed"]:
        return {"question": question.text(h.lang), "hidden": fmt.hidden(first["reason"]),
                "rows": []}
    top = max(float(h.hours["share"].max()), 1.0)
    rows = [{"label": r["label"], "share": fmt.pct(r["share"]),
             "width": round(100.0 * float(r["share"]) / top, 2)} for _, r in h.hours.iterrows()]
    return {"question": question.text(h.lang), "hidden": "", "rows": rows}


def appraisal(h: "Handout", fmt: Formatter) -> dict | None:
    """Per wave: the share who had an appraisal interview and its usefulness, each shown or
    hidden on its own (usefulness is asked only of those who had one)."""
    if h.appraisal is None or h.appraisal.empty:
        return None
    rows = []
    for _, r in h.appraisal.iterrows():
        if r["suppressed"]:
            rows.append({"wave": r["wave"], "hidden": fmt.hidden(r["reason"])})
            continue
        row = {"wave": r["wave"], "hidden": "", "had": fmt.pct(r["had_share"]),
               "useful": fmt.num(r["useful_mean"]), "useful_hidden": _missing(r["useful_mean"])}
        if row["useful_hidden"]:
            row["useful"] = fmt.word
        rows.append(row)
    return {"rows": rows}


def _comparison_hidden(h: "Handout", fmt: Formatter, t, reason: str, key: str) -> str:
    """Why a comparison shows no test, from the comparison engine's reason."""
    if reason == "unit_suppressed":
        unit_row = h.unit.set_index("key").loc[key]
        return fmt.hidden(unit_row["reason"] or "min_n")
    if reason == "no_rest":
        return t("no_rest")
    if reason in ("parent_suppressed", "previous_suppressed", "not_in_previous",
                  "no_benchmark"):
        return t(f"cmp_{reason}")
    return fmt.hidden("")


def interval_text(low: Any, high: Any, fmt: Formatter, t) -> str:
    """The 95 % interval of a difference: "−0,19 til +0,03" ("" when missing)."""
    if _missing(low) or _missing(high):
        return ""
    return f"{fmt.signed(low)} {t('interval_to')} {fmt.signed(high)}"


def comparison_blocks(h: "Handout", fmt: Formatter, t) -> list[dict]:
    """One block per comparison (parent, previous, benchmark): per factor the difference, its
    95 % interval, the finding word and the plain verdict; and the block's median smallest
    difference it could call real."""
    if h.comparisons.empty:
        return []
    blocks = []
    for against, part in h.comparisons.groupby("against", sort=False):
        other_wave = str(part["other_wave"].iloc[0])
        if against == "parent":
            title, other = t("against_parent"), t("other_parent")
            other_name = h.parent_name or ""
        elif against == "previous":
            title = t("against_previous", previous=other_wave)
            other = other_wave
            other_name = other_wave
        else:
            title, other = t("against_benchmark"), t("other_benchmark")
            other_name = benchmark_name(h)
        rows = []
        for _, r in part.iterrows():
            item = {"label": r["label"], "finding": r["finding"]}
            if r["suppressed"]:
                item["hidden"] = _comparison_hidden(h, fmt, t, str(r["reason"]), r["key"])
            else:
                item.update(hidden="", mean=fmt.num(r["mean"]), other=fmt.num(r["other_mean"]),
                            diff=fmt.signed(r["diff"]),
                            ci=interval_text(r.get("ci_low"), r.get("ci_high"), fmt, t),
                            word=words.finding_word(r["finding"], h.lang),
                            verdict=verdict_text(r["finding"], against, other_name, h.lang,
                                                 h.threshold))
            rows.append(item)
        detectable = words.median_detectable(part)
        blocks.append({"id": against, "title": title, "other": other, "rows": rows,
                       "detectable": "" if _missing(detectable) else fmt.num(detectable, 1),
                       "detectable_value": detectable})
    return blocks


def comparison_table(blocks: list[dict], fmt: Formatter, t) -> dict:
    """The comparisons side by side: per factor, the difference, its interval and the finding
    word per block.

    The column heads say what the unit is compared with, so a cell needs only the direction
    ("Lavere"); the key under the table spells the words out.
    """
    if not blocks:
        return {"rows": [], "first": 100, "detectable": []}
    rows = []
    for i, first in enumerate(blocks[0]["rows"]):
        cells = []
        for block in blocks:
            r = block["rows"][i]
            if r["hidden"]:
                cells.append({"hidden": r["hidden"]})
            else:
                cells.append({"hidden": "", "diff": r["diff"], "ci": r["ci"],
                              "finding": r["finding"], "verdict": r["word"]})
        rows.append({"label": first["label"], "cells": cells})
    return {"rows": rows, "first": 28 if len(blocks) > 2 else 34,
            "detectable": [b["detectable"] or DASH for b in blocks]}


def comparison_key(h: "Handout", fmt: Formatter, blocks: list[dict]) -> dict:
    """What the finding words mean, the threshold, and how small a difference this unit can
    tell from chance (with its own number of answers), for the key under the comparisons."""
    if not blocks:
        return {}
    tested = h.comparisons
    if "suppressed" in tested:
        tested = tested.loc[~tested["suppressed"].astype(bool)]
    n = tested["n"].astype("float64").median() if len(tested) and "n" in tested else None
    detectable = words.median_detectable(h.comparisons)
    sentence = words.detectable_sentence(n, detectable, h.lang, h.threshold)
    small = not _missing(detectable) and detectable > h.threshold + 1e-9
    return {"legend": words.finding_legend(h.threshold, h.lang),
            "threshold": words.threshold_sentence(h.threshold, h.lang),
            "detectable": sentence, "small": small}


def _rate_row(r, fmt: Formatter) -> dict:
    """Answers, invited and response rate of one row of a rates view, or why they are hidden.

    Answers, the headcount and the rate hide together (beside "too few answers", a headcount
    would say how few); a published row without a known headcount shows a dash."""
    if r["suppressed"]:
        return {"hidden": fmt.hidden(r["reason"]), "answers": fmt.word, "invited": fmt.word,
                "rate": fmt.word}
    rate = r["rate"] if not _missing(r["rate"]) else None
    return {"hidden": "", "answers": fmt.count(r["answers"]), "invited": fmt.count(r["invited"]),
            "rate": fmt.pct(rate)}


def children(h: "Handout", fmt: Formatter) -> list[dict]:
    """The units below: answers, invited and response rate (hidden ones with the reason)."""
    return [{"name": r["unit_name"], **_rate_row(r, fmt)} for _, r in h.children.iterrows()]


def cover(h: "Handout", fmt: Formatter) -> dict:
    """The key figures of the cover: the unit's answers, invited and response rate."""
    now = h.rates.loc[h.rates["wave"].astype(str) == h.wave]
    if not len(now):
        return {"hidden": fmt.hidden("no_answers"), "answers": fmt.word, "invited": fmt.word,
                "rate": fmt.word}
    return _rate_row(now.iloc[0], fmt)


def worksheet_factors(h: "Handout", fmt: Formatter, t) -> list[dict]:
    out = []
    for _, row in h.unit.iterrows():
        hidden = row["suppressed"] or _missing(row["mean"])
        mean = fmt.word if hidden else fmt.num(row["mean"])
        out.append({"key": row["key"], "name": row["label"], "mean": f"{t('ours')}: {mean}"})
    return out


def meetings(h: "Handout") -> list[dict]:
    """The agendas with clock times counted from texts.yaml's ``meeting_start``."""
    start = str(h.template.texts.get("meeting_start") or "09:00")
    try:
        hour, minute = (int(x) for x in start.split(":"))
    except ValueError:
        hour, minute = 9, 0
    out = []
    for meeting in h.template.value("meetings", h.lang) or []:
        clock = hour * 60 + minute
        rows = []
        for minutes, text in meeting.get("items", []):
            end = clock + int(minutes)
            rows.append({"time": f"{clock // 60:02d}:{clock % 60:02d}\u2013"
                                 f"{end // 60:02d}:{end % 60:02d}",
                         "minutes": str(minutes), "text": text})
            clock = end
        out.append({"title": meeting.get("title", ""), "rows": rows})
    return out


def how_points(h: "Handout", t) -> list[str]:
    raw = h.template.value("how_to_read_points", h.lang) or []
    fields = {}
    points = []
    for text in raw:
        if h.parent_name is None and "{parent}" in text:
            continue  # the top unit has no level above to show
        try:
            points.append(text.format(**{**_fields(h, Formatter(h.lang, h.min_n)), **fields}))
        except (KeyError, IndexError, ValueError):
            points.append(text)
    return points


def build_context(h: "Handout") -> dict:
    """Everything the templates show, formatted."""
    fmt = Formatter(h.lang, h.min_n)
    t = text_function(h, fmt)
    branding = h.template.branding
    org = branding.organisation_name(h.lang, h.survey_name)
    alike, different = alike_different(h, fmt)
    comparisons = comparison_blocks(h, fmt, t)
    context = {
        "lang": h.lang, "t": t, "org": org, "logo": branding.logo,
        "colours": dict(branding.colours), "wave": h.wave,
        "instrument_name": h.instrument.name(h.lang), "survey_name": h.survey_name,
        "made": t("made", date=date(h.made, h.lang)),
        "unit": {"id": h.unit_id, "name": h.unit_name, "path": list(h.path),
                 "parent": h.parent_name},
        "cover": cover(h, fmt), "how_points": how_points(h, t),
        "overview": overview(h, fmt), "factor_table": factor_table_context(h, fmt),
        "distribution": distribution(h, fmt), "trend": trend(h, fmt),
        "alike": alike, "different": different,
        "items_hidden": bool(h.items["suppressed"].any()) if len(h.items) else False,
        "hours": hours(h, fmt),
        "appraisal": appraisal(h, fmt), "comparisons": comparisons,
        "comparison_table": comparison_table(comparisons, fmt, t),
        "comparison_key": comparison_key(h, fmt, comparisons),
        "children": children(h, fmt), "factors": worksheet_factors(h, fmt, t),
        "workshop": workshop_context(h, t),
        "meetings": meetings(h), "roles": h.template.value("roles", h.lang) or [],
        "method": h.template.value("method", h.lang) or [],
        "tips": h.template.value("tips", h.lang) or [],
    }
    plain = not context["factor_table"]["benchmark"]
    contents = [t("how_to_read"), t("overview"),
                t("factor_table_plain" if plain else "factor_table"), t("distribution")]
    if context["trend"]:
        contents.append(t("trend"))
    if alike or different:
        contents.append(t("alike_different"))
    if context["hours"]:
        contents.append(t("working_hours"))
    if context["appraisal"]:
        contents.append(t("appraisal"))
    if comparisons:
        contents.append(t("comparisons"))
    if context["children"]:
        contents.append(t("units_below"))
    contents += [f"{t('part_worksheets')}: {t('analysis_cross')}, {t('future_picture')}, "
                 f"{t('priority_matrix')}, {t('action_plan')}, {t('parking_lot')}",
                 t("part_meetings")]
    context["contents"] = contents
    return context


def _css_string(text: str) -> str:
    """Text inside a CSS string literal ("...")."""
    return (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
            .replace("<", "\\3C "))


def render_html(h: "Handout") -> str:
    env = h.template.environment()
    context = build_context(h)
    branding = h.template.branding
    # the shared style has no unit name (the worksheet pages are the same for every unit of a
    # batch); the unit's pages name it in their footer through a style of their own
    footer = " \u00b7 ".join(x for x in (context["org"], branding.footer_text(h.lang)) if x)
    css = env.get_template("style.css").render(
        c=dict(branding.colours), footer_left=_css_string(footer),
        page_word=_css_string(context["t"]("page")))
    mine = footer if h.unit_name == context["org"] else \
        " \u00b7 ".join(x for x in (h.unit_name, footer) if x)
    unit_css = f'@page {{ @bottom-left {{ content: "{_css_string(mine)}"; }} }}'
    return env.get_template("handout.html.j2").render(css=Markup(css),
                                                      unit_css=Markup(unit_css), **context)

