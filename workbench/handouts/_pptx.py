"""The handout as slides (python-pptx): results a leader can present and edit.

Charts come from :mod:`workbench.plots` as pictures; the 10-FAKTOR table, the trend, the
comparisons and the worksheets are real PowerPoint tables and shapes, so a leader can edit
them. The presenter's tips are in the notes of the results slides.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Sequence

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import PP_ALIGN
from pptx.util import Emu, Inches, Pt

from workbench.handouts import _present as present

if TYPE_CHECKING:  # pragma: no cover
    from workbench.handouts.handout import Handout

__all__ = ["build_pptx"]

WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
TOP = Inches(1.25)
#: A chart's size in inches: the slide below the title, drawn at full size (readable type on a
#: projector), not a tall page figure shrunk to fit.
CHART = (12.3, 5.75)
#: At most this many rows (factors and theme headings) in one overview chart.
OVERVIEW_ROWS = 12


def _rgb(colour: str) -> RGBColor:
    return RGBColor.from_string(colour.lstrip("#").upper())


class _Deck:
    """A presentation being built, with the handout's colours and texts."""

    def __init__(self, h: "Handout"):
        self.h = h
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = WIDTH, HEIGHT
        self.blank = self.prs.slide_layouts[6]
        self.colours = h.template.branding.colours
        self.fmt = present.Formatter(h.lang, h.min_n)
        self.t = present.text_function(h, self.fmt)
        self.tips = "\n".join(h.template.value("tips", h.lang) or [])

    def slide(self, title: str, notes: str | None = None):
        slide = self.prs.slides.add_slide(self.blank)
        box = slide.shapes.add_textbox(MARGIN, Inches(0.35), WIDTH - 2 * MARGIN, Inches(0.8))
        frame = box.text_frame
        frame.word_wrap = True
        run = frame.paragraphs[0].add_run()
        run.text = title
        # one line under the rule: long titles (a comparison's parent unit) in smaller type
        run.font.size, run.font.bold = Pt(26 if len(title) <= 48 else 20), True
        run.font.color.rgb = _rgb(self.colours["primary"])
        line = slide.shapes.add_connector(1, MARGIN, Inches(1.1), WIDTH - MARGIN, Inches(1.1))
        line.line.color.rgb = _rgb(self.colours["primary"])
        footer = slide.shapes.add_textbox(MARGIN, HEIGHT - Inches(0.4), WIDTH - 2 * MARGIN,
                                          Inches(0.3))
        p = footer.text_frame.paragraphs[0]
        p.text = f"{self.h.unit_name} \u00b7 {self.t('wave')} {self.h.wave}"
        p.runs[0].font.size = Pt(10)
        p.runs[0].font.color.rgb = _rgb(self.colours["muted"])
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
        return slide

    def text(self, slide, left, top, width, height, lines: Sequence[str], size: int = 16,
             bold_first: bool = False, bullets: bool = False, colour: str | None = None):
        box = slide.shapes.add_textbox(left, top, width, height)
        frame = box.text_frame
        frame.word_wrap = True
        for i, line in enumerate(lines):
            p = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            run = p.add_run()
            run.text = ("\u2022 " if bullets else "") + line
            run.font.size = Pt(size)
            run.font.bold = bold_first and i == 0
            run.font.color.rgb = _rgb(colour or self.colours["ink"])
            p.space_after = Pt(6)
        return box

    def table(self, slide, head: Sequence[str], rows: Sequence[Sequence[str]],
              widths: Sequence[float], top=TOP, size: int = 11, row_height: float = 0.3,
              hidden: set | None = None, left=MARGIN, numeric_from: int = 1,
              text_last: bool = False):
        """A real table; ``widths`` in inches; cells listed in ``hidden`` (r, c) in grey italics.

        Columns from ``numeric_from`` on are right-aligned numbers, but the last one when
        ``text_last`` (a verdict, say)."""
        hidden = hidden or set()
        height = Inches(row_height * (len(rows) + 1))
        shape = slide.shapes.add_table(len(rows) + 1, len(head), left, top,
                                       Inches(sum(widths)), height)
        table = shape.table
        for c, w in enumerate(widths):
            table.columns[c].width = Inches(w)
        for r, values in enumerate([head, *rows]):
            table.rows[r].height = Inches(row_height)
            for c, value in enumerate(values):
                cell = table.cell(r, c)
                cell.margin_top = cell.margin_bottom = Emu(20000)
                cell.fill.solid()
                cell.fill.fore_color.rgb = _rgb(self.colours["shade"] if r == 0 else "#FFFFFF")
                frame = cell.text_frame
                frame.word_wrap = True
                p = frame.paragraphs[0]
                p.text = str(value)
                numeric = c >= numeric_from >= 0 and not (text_last and c == len(head) - 1)
                p.alignment = PP_ALIGN.RIGHT if numeric and r > 0 else PP_ALIGN.LEFT
                # an empty cell's line has the size of its paragraph end (18 pt unless set):
                # set it, or empty rows grow taller than the table was laid out for
                p._p.get_or_add_endParaRPr().set("sz", str(int(size * 100)))
                for run in p.runs:
                    run.font.size = Pt(size)
                    run.font.bold = r == 0
                    grey = (r - 1, c) in hidden
                    run.font.italic = grey
                    run.font.color.rgb = _rgb(self.colours["muted"] if grey
                                              else self.colours["ink"])
        return table

    def picture(self, slide, png: bytes, top=TOP, max_height=None, max_width=None):
        max_height = max_height or (HEIGHT - top - Inches(0.5))
        max_width = max_width or (WIDTH - 2 * MARGIN)
        pic = slide.shapes.add_picture(io.BytesIO(png), MARGIN, top)
        scale = min(max_height / pic.height, max_width / pic.width, 1.0)
        pic.width, pic.height = int(pic.width * scale), int(pic.height * scale)
        pic.left = int((WIDTH - pic.width) / 2)
        return pic

    def box(self, slide, left, top, width, height, label: str = "", fill: str = "#FFFFFF"):
        shape = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, left, top, width, height)
        shape.fill.solid()
        shape.fill.fore_color.rgb = _rgb(fill)
        shape.line.color.rgb = _rgb(self.colours["muted"])
        frame = shape.text_frame
        frame.word_wrap = True
        p = frame.paragraphs[0]
        p.text = label
        p.alignment = PP_ALIGN.LEFT
        frame.vertical_anchor = 1  # top
        for run in p.runs:
            run.font.size, run.font.bold = Pt(14), True
            run.font.color.rgb = _rgb(self.colours["muted"])
        return shape


def _png(ax) -> bytes:
    from workbench.plots import figure_to_png

    return figure_to_png(ax.figure, dpi=110)


def _overview_parts(keys: list[str], themes: dict[str, str],
                    rows: int = OVERVIEW_ROWS) -> list[list[str]]:
    """The factor keys in slides of at most ``rows`` rows (a theme's heading is a row too),
    a theme never split unless it alone is too long."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        groups.setdefault(themes.get(key, ""), []).append(key)
    parts: list[list[str]] = [[]]
    used = 0
    for theme, members in groups.items():
        size = len(members) + (1 if theme else 0)
        if parts[-1] and used + size > rows:
            parts.append([])
            used = 0
        parts[-1].extend(members)
        used += size
    return parts


def build_pptx(h: "Handout") -> bytes:
    """The slides as bytes."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    from workbench import plots

    d = _Deck(h)
    t, fmt = d.t, d.fmt
    ctx = present.build_context(h)

    # 1. title
    slide = d.prs.slides.add_slide(d.blank)
    d.text(slide, MARGIN, Inches(0.6), Inches(8), Inches(0.5), [ctx["org"]], 16,
           colour=d.colours["muted"])
    d.text(slide, MARGIN, Inches(2.0), WIDTH - 2 * MARGIN, Inches(0.5),
           [f"{ctx['instrument_name']} \u00b7 {t('wave')} {h.wave}"], 18,
           colour=d.colours["muted"])
    d.text(slide, MARGIN, Inches(2.6), WIDTH - 2 * MARGIN, Inches(1.0), [h.unit_name], 40,
           bold_first=True, colour=d.colours["primary"])
    d.text(slide, MARGIN, Inches(3.6), WIDTH - 2 * MARGIN, Inches(0.5),
           [" \u203a ".join(h.path)], 14, colour=d.colours["muted"])
    cover = ctx["cover"]
    for i, (value, key) in enumerate(((cover["answers"], "answers"),
                                      (cover["invited"], "invited"), (cover["rate"], "rate"))):
        left = MARGIN + Inches(3.3) * i
        d.box(slide, left, Inches(4.5), Inches(3.1), Inches(1.2), fill=d.colours["shade"])
        d.text(slide, left + Inches(0.15), Inches(4.6), Inches(2.9), Inches(1.0),
               [value, t(key)], 24, bold_first=True)
    if cover["hidden"]:
        d.text(slide, MARGIN, Inches(5.8), WIDTH - 2 * MARGIN, Inches(0.4),
               [t("cover_hidden", why=cover["hidden"])], 12, colour=d.colours["muted"])
    d.text(slide, MARGIN, Inches(6.3), Inches(8), Inches(0.4), [ctx["made"]], 12,
           colour=d.colours["muted"])

    # 2. how to read
    slide = d.slide(t("how_to_read"))
    d.text(slide, MARGIN, TOP, WIDTH - 2 * MARGIN, HEIGHT - TOP - Inches(0.6),
           ctx["how_points"], 15, bullets=True)

    # 3. factor overview (pictures from plots.py), whole themes per slide
    themes = plots.factor_themes(h.instrument, h.lang)
    parts = _overview_parts(list(h.unit["key"]), themes)
    for i, keys in enumerate(parts, start=1):
        title = t("overview") + (f" ({i}/{len(parts)})" if len(parts) > 1 else "")
        slide = d.slide(title, notes=d.tips)
        parent = h.parent[h.parent["key"].isin(keys)] if h.parent is not None else None
        ax = plots.plot_factor_overview(h.unit[h.unit["key"].isin(keys)], parent, lang=h.lang,
                                        scale=(h.instrument.scale.min, h.instrument.scale.max),
                                        themes=themes, min_n=h.min_n, size=CHART)
        d.picture(slide, _png(ax))

    # 4. the 10-FAKTOR table (a real table)
    frame = present.factor_table_frame(h, fmt)
    rows = [list(map(str, r)) for r in frame.itertuples(index=False)]
    hidden = {(r, c) for r, row in enumerate(rows) for c, v in enumerate(row) if v == fmt.word}
    has_benchmark = h.benchmark is not None and len(h.benchmark) > 0
    slide = d.slide(t("factor_table") if has_benchmark else t("factor_table_plain"), notes=d.tips)
    agreement = h.template.text("agreement", h.lang) in frame.columns
    n_other = len(frame.columns) - 1 - agreement
    widths = [4.4 if agreement else 5.0] + \
        [min(2.4, (4.9 if agreement else 7.0) / n_other)] * n_other + ([3.0] if agreement else [])
    d.table(slide, [str(c).strip() for c in frame.columns], rows, widths,
            row_height=min(0.32, 5.6 / (len(rows) + 1)), hidden=hidden, text_last=agreement,
            size=10 if agreement else 11)

    # 5. distribution (picture)
    slide = d.slide(t("distribution"), notes=d.tips)
    ax = plots.plot_likert(plots.likert_counts(present.distribution_rows(h)), lang=h.lang,
                           labels=plots.scale_labels(h.instrument, h.lang), min_n=h.min_n,
                           size=CHART)
    d.picture(slide, _png(ax))

    # 6. trend (a real table)
    trend = ctx["trend"]
    if trend:
        slide = d.slide(t("trend"), notes=d.tips)
        rows = [[r["label"], *[c["text"] for c in r["cells"]]] for r in trend["rows"]]
        hidden = {(i, j + 1) for i, r in enumerate(trend["rows"])
                  for j, c in enumerate(r["cells"]) if c["hidden"]}
        d.table(slide, [t("factor"), *trend["waves"]], rows,
                [5.0] + [1.3] * len(trend["waves"]),
                row_height=min(0.32, 5.6 / (len(rows) + 1)), hidden=hidden)

    # 7. most alike / most different
    if ctx["alike"] or ctx["different"]:
        slide = d.slide(t("alike_different"))
        top = TOP
        for title, rows in ((t("alike"), ctx["alike"]), (t("different"), ctx["different"])):
            d.text(slide, MARGIN, top, Inches(8), Inches(0.4), [title], 15, bold_first=True)
            d.table(slide, [t("item"), t("mean"), t("sd")],
                    [[r["label"], r["mean"], r["sd"]] for r in rows], [9.0, 1.6, 1.6],
                    top=top + Inches(0.45), size=11, row_height=0.3)
            top = top + Inches(0.45) + Inches(0.3 * (len(rows) + 1)) + Inches(0.3)

    # 8. working hours and appraisal
    hours, appraisal = ctx["hours"], ctx["appraisal"]
    if hours or appraisal:
        slide = d.slide(" \u00b7 ".join(x for x in (t("working_hours") if hours else "",
                                                     t("appraisal") if appraisal else "") if x))
        if hours and not hours["hidden"]:
            import pandas as pd

            data = pd.DataFrame({"category": h.hours["label"], "share": h.hours["share"]})
            ax = plots.plot_distribution(data, lang=h.lang, title=hours["question"],
                                         min_n=h.min_n)
            pic = d.picture(slide, _png(ax), max_width=Inches(7.0), max_height=Inches(4.6))
            pic.left = MARGIN
        elif hours:
            d.text(slide, MARGIN, TOP, Inches(7), Inches(1), [hours["hidden"]], 14)
        if appraisal:
            rows = [[r["wave"], r.get("had", r["hidden"]), r.get("useful", "")]
                    for r in appraisal["rows"]]
            hidden = {(i, 1) for i, r in enumerate(appraisal["rows"]) if r["hidden"]} | \
                {(i, 2) for i, r in enumerate(appraisal["rows"]) if r.get("useful_hidden")}
            d.table(slide, [t("wave"), t("appraisal_had"), t("appraisal_useful")], rows,
                    [1.0, 2.3, 2.3], left=Inches(7.7), hidden=hidden, size=11,
                    row_height=0.4)

    # 9. comparisons, one slide each, then what the words mean
    key = ctx["comparison_key"]
    legend = "\n".join(f"{word}: {meaning}" for word, meaning in key.get("legend", []))
    for block in ctx["comparisons"]:
        slide = d.slide(f"{t('comparisons')}: {block['title']}", notes=legend or d.tips)
        rows, hidden = [], set()
        for i, r in enumerate(block["rows"]):
            if r["hidden"]:
                rows.append([r["label"], r["hidden"], "", "", "", ""])
                hidden.add((i, 1))
            else:
                rows.append([r["label"], r["mean"], r["other"], r["diff"], r["ci"], r["word"]])
        table = d.table(slide, [t("factor"), h.unit_name, block["other"], t("difference"),
                                "95 %" if h.lang == "nb" else "95%", t("finding")], rows,
                        [3.9, 1.5, 1.3, 1.2, 2.1, 2.3], size=10,
                        row_height=min(0.32, 5.3 / (len(rows) + 1)), hidden=hidden,
                        numeric_from=1, text_last=True)
        for i in sorted(i for i, _ in hidden):
            # why a row shows no test, on one line across the figures' columns
            table.cell(i + 1, 1).merge(table.cell(i + 1, 5))
            table.cell(i + 1, 1).text_frame.paragraphs[0].alignment = PP_ALIGN.LEFT
    if key:
        slide = d.slide(t("cmp_key"))
        rows = [[word, meaning] for word, meaning in key["legend"]]
        d.table(slide, [t("finding"), t("meaning")], rows, [2.6, 9.7], size=13,
                row_height=0.55, numeric_from=-1)
        lines = [key["threshold"], key["detectable"]]
        if key["small"]:
            lines.append(t("cmp_small_unit"))
        d.text(slide, MARGIN, TOP + Inches(0.55 * (len(rows) + 1) + 0.3), WIDTH - 2 * MARGIN,
               Inches(1.6), lines, 15)

    # 10. units below
    if ctx["children"]:
        slide = d.slide(t("units_below"))
        rows, hidden = [], set()
        for i, r in enumerate(ctx["children"]):
            if r["hidden"]:
                rows.append([r["name"], r["hidden"], r["invited"], r["rate"]])
                hidden.update({(i, 1), (i, 3)})
            else:
                rows.append([r["name"], r["answers"], r["invited"], r["rate"]])
        d.table(slide, [t("unit"), t("answers"), t("invited"), t("rate")], rows,
                [6.0, 2.0, 1.5, 1.8], row_height=min(0.34, 5.6 / (len(rows) + 1)),
                hidden=hidden, size=11)

    _worksheets(d, h, ctx)
    _meetings(d, ctx)
    buffer = io.BytesIO()
    d.prs.save(buffer)
    return buffer.getvalue()


def _worksheets(d: _Deck, h: "Handout", ctx: dict) -> None:
    """The worksheets: blank, or with what the unit recorded (and blank rows for more)."""
    t = d.t
    ws = t("part_worksheets")
    w = ctx["workshop"]
    # analysis cross
    slide = d.slide(f"{ws}: {t('analysis_cross')}")
    d.text(slide, MARGIN, Inches(1.15), WIDTH - 2 * MARGIN, Inches(0.4),
           [t("analysis_cross_intro")], 12)
    if w and w["any_votes"]:
        rows = [[r["name"], r["pleased"], r["improve"],
                 "\n".join(f"{label}: {text}" for label, text in r["reasons"])]
                for r in w["cross"]]
    else:
        rows = [[f["name"], "", "", ""] for f in ctx["factors"]]
    d.table(slide, [t("factor"), t("pleased"), t("improve"), t("why")], rows,
            [3.6, 2.0, 2.0, 4.7], top=Inches(1.7), row_height=min(0.4, 5.2 / (len(rows) + 1)),
            size=10, numeric_from=-1)
    # future picture
    slide = d.slide(f"{ws}: {t('future_picture')}")
    if w and w["chosen"]:
        chosen = f"{t('chosen_factors')}: {', '.join(w['chosen'])}"
    else:
        chosen = (f"{t('chosen_factor')}: ____________________"
                  f"   ({', '.join(f['name'] for f in ctx['factors'])})")
    d.text(slide, MARGIN, TOP, WIDTH - 2 * MARGIN, Inches(0.6),
           [t("future_picture_intro"), chosen], 12)
    width = (WIDTH - 2 * MARGIN - Inches(0.4)) / 3
    for i, key in enumerate(("employees", "leader", "organisation")):
        shape = d.box(slide, MARGIN + i * (width + Inches(0.2)), Inches(2.6), int(width),
                      Inches(4.3), t(key))
        if w and w["picture"][key]:
            _body(d, shape, w["picture"][key].split("\n"))
    # priority matrix
    slide = d.slide(f"{ws}: {t('priority_matrix')}")
    d.text(slide, MARGIN, Inches(1.15), WIDTH - 2 * MARGIN, Inches(0.4),
           [t("priority_matrix_intro")], 12)
    left, top = Inches(2.4), Inches(2.2)
    cw, ch = Inches(5.1), Inches(2.4)
    d.text(slide, left, Inches(1.65), cw * 2, Inches(0.3),
           [f"{t('feasibility')}: {t('easy')} \u2192 {t('hard')}"], 13, bold_first=True,
           colour=d.colours["primary"])
    for r, (size, pair) in enumerate(((t("large"), ("quick_wins", "consider")),
                                      (t("small"), ("maybe", "drop")))):
        d.text(slide, MARGIN, top + r * ch + Inches(1.0), Inches(1.8), Inches(0.5),
               [f"{t('impact')}: {size}"], 13, bold_first=True, colour=d.colours["primary"])
        for c, key in enumerate(pair):
            shape = d.box(slide, left + c * cw, top + r * ch, cw, ch, t(key))
            if w and w["matrix"][key]:
                _body(d, shape, [f"\u2022 {m}" for m in w["matrix"][key]])
    # action plan
    slide = d.slide(f"{ws}: {t('action_plan')}")
    if w:
        keys = ("area", "measure", "goal", "responsible", "deadline", "status", "priority")
        rows = [[a["quadrant" if k == "priority" else k] for k in keys] for a in w["actions"]]
        rows += [[""] * len(keys) for _ in range(w["plan_blank"])]
        d.table(slide, [t(k) for k in keys], rows, [2.0, 2.6, 2.1, 1.5, 1.2, 1.1, 1.8],
                row_height=min(0.75, 5.3 / (len(rows) + 1)), numeric_from=-1, size=10)
    else:
        keys = ("area", "measure", "goal", "responsible", "deadline", "follow_up")
        d.table(slide, [t(k) for k in keys], [[""] * 6 for _ in range(6)],
                [2.2, 2.6, 2.4, 1.6, 1.2, 2.3], row_height=0.75, numeric_from=-1)
    # parking lot
    slide = d.slide(f"{ws}: {t('parking_lot')}")
    d.text(slide, MARGIN, Inches(1.15), WIDTH - 2 * MARGIN, Inches(0.4),
           [t("parking_lot_intro")], 12)
    rows = [[p["issue"], p["passed_by"], p["passed_to"], p["answer"]]
            for p in (w["parking"] if w else [])]
    rows += [[""] * 4 for _ in range(w["parking_blank"] if w else 6)]
    d.table(slide, [t(k) for k in ("issue", "passes_on", "to_whom", "answer")], rows,
            [4.3, 2.3, 2.3, 3.4], top=Inches(1.7),
            row_height=min(0.75, 5.2 / (len(rows) + 1)), numeric_from=-1)


def _body(d: _Deck, shape, lines: list[str], size: int = 12) -> None:
    """Recorded text under a box's heading."""
    frame = shape.text_frame
    for line in lines:
        p = frame.add_paragraph()
        run = p.add_run()
        run.text = line
        run.font.size, run.font.bold = Pt(size), False
        run.font.color.rgb = _rgb(d.colours["ink"])


def _meetings(d: _Deck, ctx: dict) -> None:
    t = d.t
    for meeting in ctx["meetings"]:
        slide = d.slide(meeting["title"])
        d.table(slide, [t("time"), t("minutes"), t("activity")],
                [[r["time"], r["minutes"], r["text"]] for r in meeting["rows"]],
                [1.8, 0.9, 9.6], size=14, row_height=0.5, numeric_from=-1)
    slide = d.slide(f"{t('roles_title')} \u00b7 {t('method_title')}")
    d.table(slide, [t("roles_title"), ""], [list(r) for r in ctx["roles"]], [3.2, 9.1], size=13,
            row_height=0.55, numeric_from=-1)
    width = (WIDTH - 2 * MARGIN - Inches(0.4)) / 3
    for i, (name, text) in enumerate(ctx["method"]):
        d.box(slide, MARGIN + i * (width + Inches(0.2)), Inches(4.2), int(width), Inches(2.2),
              f"{i + 1}. {name}\n{text}", fill=d.colours["shade"])
    slide = d.slide(t("tips_title"))
    d.text(slide, MARGIN, TOP, WIDTH - 2 * MARGIN, HEIGHT - TOP - Inches(0.6), ctx["tips"], 18,
           bullets=True)
