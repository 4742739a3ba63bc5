"""Plots of published tables: geometry in data coordinates, texts, suppression, colours.

Small seeded frames check the geometry exactly (bar ends at the mean, Likert shares sum to
100); the sample datasets drive one PNG of each plot into ``artifacts/plots/`` for a look.
"""

from __future__ import annotations

import colorsys
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import matplotlib
import numpy as np
import pandas as pd
import pytest

from workbench import plots
from workbench.errors import WorkbenchError

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
PLOTS = ROOT / "artifacts" / "plots"
NBSP = "\u00a0"


# ---------------------------------------------------------------------------------------------
# fixtures


@pytest.fixture(autouse=True)
def close_figures():
    """Every test starts and ends without open figures."""
    import matplotlib.pyplot as plt

    yield
    plt.close("all")


@pytest.fixture
def rng():
    return np.random.default_rng(20240517)


@pytest.fixture
def ax():
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(figsize=(9, 6), layout="constrained")
    return axes


def published(rng, keys, means, unit="U", name="Enhet", wave="2021", hidden=(),
              reason="min_n", parent_id="P") -> pd.DataFrame:
    """Rows shaped like stats_table's: shares from a seeded Dirichlet, hidden rows empty."""
    rows = []
    for key, mean in zip(keys, means):
        pct = rng.dirichlet([1, 2, 4, 6, 4]) * 100
        sd = 0.6 + rng.random() * 0.3
        row = {"wave": wave, "unit_id": unit, "unit_name": name, "level": "factor", "key": key,
               "label": f"Faktor {key}", "n": 40, "invited": 50, "mean": mean, "sd": sd,
               "se": sd / np.sqrt(40), "ci_low": mean - 0.2, "ci_high": mean + 0.2, "moe": 0.2,
               **{f"pct_{k + 1}": pct[k] for k in range(5)}, "top_box": pct[3] + pct[4],
               "suppressed": key in hidden, "reason": reason if key in hidden else "",
               "answers": 40, "depth": 2, "parent_id": parent_id}
        if key in hidden:
            for column in ("mean", "sd", "se", "ci_low", "ci_high", "moe", "top_box",
                           *[f"pct_{k}" for k in range(1, 6)]):
                row[column] = np.nan
        rows.append(row)
    return pd.DataFrame(rows)


@pytest.fixture(scope="session")
def university():
    from workbench.stats import stats_table
    from workbench.validate import load_survey

    survey = load_survey(SAMPLES / "university")
    return survey, stats_table(survey, wave="2021"), stats_table(survey, unit="NV-FYS")


@pytest.fixture(scope="session")
def municipality():
    from workbench.stats import stats_table
    from workbench.validate import load_survey

    survey = load_survey(SAMPLES / "municipality")
    return survey, stats_table(survey, wave="2023")


def patches(ax, gid):
    return [p for p in ax.patches if p.get_gid() == gid]


def boxes(ax, gid):
    """The rectangles of the collections with this gid, as (x, y, width, height)."""
    found = []
    for collection in ax.collections:
        if collection.get_gid() != gid:
            continue
        for path in collection.get_paths():
            (x0, y0), (x1, y1) = path.vertices.min(axis=0), path.vertices.max(axis=0)
            found.append(SimpleNamespace(x=x0, y=y0, width=x1 - x0, height=y1 - y0))
    return found


def texts(ax, gid=None):
    return [t.get_text() for t in ax.texts if gid is None or t.get_gid() == gid]


# ---------------------------------------------------------------------------------------------
# formatting


def test_number_uses_the_locale_decimal_mark():
    assert plots.number(4.1234) == "4,12"
    assert plots.number(4.1234, "en") == "4.12"
    assert plots.number(3.0, "nb", 1) == "3,0"
    assert plots.number(1234.5, "nb") == f"1{NBSP}234,50"
    assert plots.number(float("nan")) == "\u2013"
    assert plots.number(None, "en") == "\u2013"
    assert plots.percent(78.4) == f"78{NBSP}%"
    assert plots.percent(78.4, "en") == "78%"


def test_suppressed_text_names_the_reason():
    assert plots.suppressed_text("nb") == "skjult (færre enn 5 svar)"
    assert plots.suppressed_text("en", min_n=3) == "suppressed (fewer than 3 answers)"
    assert "liten gruppe" in plots.suppressed_text("nb", reason="complement")
    assert plots.suppressed_text("en", reason=None) == "suppressed (privacy)"
    with pytest.raises(WorkbenchError, match="lang"):
        plots.suppressed_text("de")


def test_import_does_no_plotting_work():
    code = ("import sys, workbench.plots; "
            "print('matplotlib.pyplot' in sys.modules, 'matplotlib' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False"]


# ---------------------------------------------------------------------------------------------
# 1. factor overview


def test_factor_overview_bars_end_at_the_means(rng, ax):
    unit = published(rng, ["A", "B", "C", "D"], [3.2, 4.05, 2.5, 4.9], name="Institutt")
    parent = published(rng, ["A", "B", "C", "D"], [3.5, 3.9, 2.8, 4.1], unit="P",
                       name="Fakultet")
    out = plots.plot_factor_overview(unit, parent, ax=ax)
    assert out is ax
    bars = patches(ax, "unit")
    assert len(bars) == 4 and len(patches(ax, "parent")) == 4
    for bar, mean in zip(bars, unit["mean"]):
        assert bar.get_x() == pytest.approx(1.0)
        assert bar.get_x() + bar.get_width() == pytest.approx(mean)
    for bar, mean in zip(patches(ax, "parent"), parent["mean"]):
        assert bar.get_x() + bar.get_width() == pytest.approx(mean)
        assert bar.get_height() < bars[0].get_height()  # the parent is the thinner bar
    shown = texts(ax)
    assert {"3,20", "4,05", "2,50", "4,90", "3,50", "4,10"} <= set(shown)
    assert ax.get_xlim() == (1.0, 5.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()][:2] == ["Institutt", "Fakultet"]


def test_factor_overview_in_english_uses_a_decimal_point(rng, ax):
    unit = published(rng, ["A", "B"], [3.2, 4.05])
    plots.plot_factor_overview(unit, ax=ax, lang="en")
    assert {"3.20", "4.05"} <= set(texts(ax))
    assert not any("," in t for t in texts(ax))


def test_factor_overview_shows_suppressed_rows_not_zero(rng, ax):
    unit = published(rng, ["A", "B", "C"], [3.2, np.nan, 4.0], hidden={"B"})
    parent = published(rng, ["A", "B", "C"], [3.5, 3.6, 3.9], unit="P", name="Fakultet")
    plots.plot_factor_overview(unit, parent, ax=ax)
    assert len(patches(ax, "unit")) == 2  # no bar for B, least of all one of width 0
    assert all(p.get_width() > 0 for p in patches(ax, "unit"))
    band = patches(ax, "suppressed")
    assert len(band) == 1 and band[0].get_hatch()
    assert (band[0].get_x(), band[0].get_width()) == (1.0, 4.0)  # spans the scale
    assert texts(ax, "suppressed-text") == ["skjult (færre enn 5 svar)"]
    assert len(patches(ax, "parent")) == 3  # the parent is still shown for B


def test_factor_overview_groups_by_theme(rng, ax):
    unit = published(rng, ["A", "B", "C"], [3.0, 3.5, 4.0])
    themes = {"A": "Tema 1", "B": "Tema 2", "C": "Tema 1"}
    plots.plot_factor_overview(unit, ax=ax, themes=themes)
    assert texts(ax, "theme") == ["Tema 1", "Tema 2"]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Faktor A", "Faktor C", "Faktor B"]


def test_factor_overview_refuses_two_units(rng):
    rows = pd.concat([published(rng, ["A"], [3.0], unit="X"),
                      published(rng, ["A"], [3.0], unit="Y")])
    with pytest.raises(WorkbenchError, match="unit_id"):
        plots.plot_factor_overview(rows)


# ---------------------------------------------------------------------------------------------
# 2. factor table


def test_factor_table_formats_unit_parent_and_benchmark(rng):
    unit = published(rng, ["F1", "F2", "F3"], [4.123, np.nan, 3.5], name="Skole",
                     hidden={"F2"})
    parent = published(rng, ["F1", "F2", "F3"], [4.0, 3.81, 3.456], unit="P", name="Sektor")
    bench = pd.Series({"F1": 4.48, "F3": 3.9})
    nb = plots.factor_table(unit, parent, bench)
    assert list(nb.columns) == ["Faktor", "Skole", "Sektor", "Referansetall"]
    assert nb.loc["F1"].tolist() == ["Faktor F1", "4,12", "4,00", "4,48"]
    assert nb.loc["F2"].tolist() == ["Faktor F2", "skjult", "3,81", "\u2013"]
    en = plots.factor_table(unit, parent, bench, lang="en", benchmark_label="National")
    assert list(en.columns) == ["Factor", "Skole", "Sektor", "National"]
    assert en.loc["F3"].tolist() == ["Faktor F3", "3.50", "3.46", "3.90"]
    assert en.loc["F2", "Skole"] == "suppressed"


def test_plot_factor_table_draws_every_cell(rng, ax):
    unit = published(rng, ["F1", "F2"], [4.123, np.nan], name="Skole", hidden={"F2"})
    table = plots.factor_table(unit, None, pd.Series({"F1": 4.48, "F2": 4.3}))
    assert plots.plot_factor_table(table, ax=ax) is ax
    cells = {k: c.get_text().get_text() for k, c in ax.tables[0].get_celld().items()}
    assert [cells[(0, c)] for c in range(3)] == ["Faktor", "Skole", "Referansetall"]
    assert [cells[(2, c)] for c in range(3)] == ["Faktor F2", "skjult", "4,30"]
    assert any("færre enn 5 svar" in t for t in texts(ax))


# ---------------------------------------------------------------------------------------------
# 3. Likert


def test_likert_counts_shares_sum_to_100_and_keep_suppressed_empty(rng):
    rows = published(rng, ["A", "B", "C"], [3.0, np.nan, 4.0], hidden={"B"})
    counts = plots.likert_counts(rows)
    assert list(counts.columns) == ["key", "label", "pct_1", "pct_2", "pct_3", "pct_4",
                                    "pct_5", "top_box", "suppressed", "reason"]
    shares = counts[[f"pct_{k}" for k in range(1, 6)]]
    assert shares.loc[[0, 2]].sum(axis=1).tolist() == pytest.approx([100, 100])
    assert shares.loc[1].isna().all() and counts.at[1, "suppressed"]
    bad = rows.assign(pct_1=rows["pct_1"] + 20)
    with pytest.raises(WorkbenchError, match="sum to"):
        plots.likert_counts(bad)


def test_plot_likert_diverges_around_the_neutral_point(rng, ax):
    rows = published(rng, ["A", "B", "C", "D"], [3.0, 3.4, np.nan, 4.0], hidden={"C"})
    counts = plots.likert_counts(rows)
    assert plots.plot_likert(counts, ax=ax) is ax
    bars = boxes(ax, "likert")
    assert len(bars) == 3 * 5  # three published keys, five points each
    by_row: dict[float, list] = {}
    for bar in bars:
        by_row.setdefault(round(bar.y + bar.height / 2, 6), []).append(bar)
    assert sorted(by_row) == [0.0, 1.0, 3.0]  # nothing drawn for the suppressed row 2
    for y, segs in by_row.items():
        segs.sort(key=lambda b: b.x)
        widths = [b.width for b in segs]
        expected = counts.loc[int(y), [f"pct_{k}" for k in range(1, 6)]].to_numpy(float)
        assert sum(widths) == pytest.approx(100)
        assert widths == pytest.approx(expected)
        neutral = segs[2]  # point 3 straddles zero, half on each side
        assert neutral.x == pytest.approx(-neutral.width / 2)
        assert segs[0].x == pytest.approx(-(expected[0] + expected[1] + expected[2] / 2))
    top = [f"{plots.number(v, 'nb', 0)}{NBSP}%" for v in counts["top_box"].dropna()]
    assert set(top) <= set(texts(ax))
    assert texts(ax, "suppressed-text") == ["skjult (færre enn 5 svar)"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:5] == ["Svært uenig", "Uenig", "Verken enig eller uenig", "Enig",
                          "Svært enig"]


def test_plot_likert_labels_and_english_percent(rng, ax):
    rows = published(rng, ["A"], [3.0])
    labels = {1: "Never", 2: "Rarely", 3: "Sometimes", 4: "Often", 5: "Always"}
    plots.plot_likert(plots.likert_counts(rows), ax=ax, lang="en", labels=labels)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == list(labels.values())
    top = rows.at[0, "top_box"]
    assert f"{top:.0f}%" in texts(ax)


# ---------------------------------------------------------------------------------------------
# 4. trend


def trend_rows(rng, hidden_wave=None):
    frames = []
    for wave, shift in zip(["2014", "2017", "2019", "2021"], [0.0, 0.2, -0.1, 0.1]):
        hidden = {"A", "B"} if wave == hidden_wave else set()
        frames.append(published(rng, ["A", "B"], [3.4 + shift, 4.0 - shift], wave=wave,
                                hidden=hidden))
    return pd.concat(frames, ignore_index=True)


def test_plot_trend_draws_one_line_per_key_with_gaps(rng, ax):
    rows = trend_rows(rng, hidden_wave="2019")
    assert plots.plot_trend(rows, ax=ax) is ax
    lines = [line for line in ax.lines if str(line.get_gid()).startswith("trend-")]
    assert [line.get_gid() for line in lines] == ["trend-A", "trend-B"]
    y = lines[0].get_ydata()
    assert y[[0, 1, 3]] == pytest.approx([3.4, 3.6, 3.5])
    assert np.isnan(y[2])  # a gap, not a zero
    assert patches(ax, "suppressed") and texts(ax, "suppressed-text")
    assert "skjult" in texts(ax, "suppressed-text")[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2014", "2017", "2019", "2021"]


def test_plot_trend_one_key_prints_the_means(rng, ax):
    rows = trend_rows(rng)
    plots.plot_trend(rows, ax=ax, keys=["A"])
    assert {"3,40", "3,60", "3,30", "3,50"} <= set(texts(ax))
    ax2 = plots.plot_trend(rows, keys=["A"], lang="en")
    assert {"3.40", "3.60", "3.30", "3.50"} <= set(texts(ax2))
    with pytest.raises(WorkbenchError, match="not in rows"):
        plots.plot_trend(rows, keys=["Z"])


def test_plot_trend_marks_a_wave_hidden_for_some_keys(rng, ax):
    rows = trend_rows(rng)
    i = rows.index[(rows["wave"] == "2017") & (rows["key"] == "B")][0]
    rows.loc[i, ["mean", "ci_low", "ci_high"]] = np.nan
    rows.loc[i, "suppressed"] = True
    plots.plot_trend(rows, ax=ax)
    marks = [line for line in ax.lines if line.get_gid() == "suppressed"]
    assert len(marks) == 1 and marks[0].get_marker() == "x"
    assert "skjult (færre enn 5 svar)" in [t.get_text() for t in ax.get_legend().get_texts()]


# ---------------------------------------------------------------------------------------------
# 5. heatmap


def test_heatmap_annotations_match_the_table(rng, ax):
    rows = pd.concat([published(rng, ["A", "B", "C"], [3.1, 3.9, 4.25], unit="X", name="Ola"),
                      published(rng, ["A", "B", "C"], [np.nan, 3.3, 4.0], unit="Y", name="Kari",
                                hidden={"A"}),
                      published(rng, ["A", "B", "C"], [np.nan] * 3, unit="Z", name="Per",
                                hidden={"A", "B", "C"})])
    table = plots.heatmap_table(rows)
    assert table.index.tolist() == ["Ola", "Kari", "Per"]
    assert plots.plot_heatmap(table, ax=ax) is ax
    values = {(round(t.get_position()[1]), round(t.get_position()[0])): t.get_text()
              for t in ax.texts if t.get_gid() == "value"}
    for (i, j), text in values.items():
        assert text == plots.number(table.iat[i, j])
    assert len(values) == int(table.notna().sum().sum()) == 5
    assert len(patches(ax, "suppressed")) == 4
    hidden = texts(ax, "suppressed-text")
    assert hidden.count("\u2013") == 1  # Kari's A; Per's row gets one text across it
    assert "skjult (færre enn 5 svar)" in hidden
    assert "4,25" in values.values()


def test_heatmap_from_stats_rows_in_english(university, ax):
    _, table, _ = university
    kids = table[table["parent_id"] == "NV-KJE"]
    plots.plot_heatmap(kids, ax=ax, lang="en")
    shown = texts(ax, "value")
    assert shown and all("." in t and "," not in t for t in shown)
    assert any("suppressed" in t for t in texts(ax, "suppressed-text"))


# ---------------------------------------------------------------------------------------------
# 6. distribution


def test_plot_distribution_bars_and_suppressed_text(ax):
    frame = pd.DataFrame({"category": ["Under 37,5 t", "37,5-45 t", "Over 45 t"],
                          "share": [20.5, 76.0, np.nan], "n": [41, 152, 3]})
    assert plots.plot_distribution(frame, ax=ax) is ax
    bars = patches(ax, "share")
    assert [b.get_width() for b in bars] == [20.5, 76.0]
    assert all(b.get_x() == 0 for b in bars)
    assert {f"20{NBSP}%", f"76{NBSP}%"} <= set(texts(ax))
    assert texts(ax, "suppressed-text") == ["skjult (færre enn 5 svar)"]
    assert "3" not in texts(ax)  # no n printed


# ---------------------------------------------------------------------------------------------
# colours and export


def _judging(rgb) -> bool:
    """A saturated red or green: the colours that read as bad or good."""
    h, s, v = colorsys.rgb_to_hsv(*rgb[:3])
    hue = h * 360
    return s > 0.45 and v > 0.3 and (hue < 25 or hue > 335 or 95 < hue < 145)


def test_default_palettes_have_no_red_or_green(rng):
    from matplotlib.colors import to_rgba

    rows = published(rng, ["A", "B", "C"], [3.0, np.nan, 4.0], hidden={"B"})
    axes = [plots.plot_factor_overview(rows, rows.assign(unit_id="P")),
            plots.plot_likert(plots.likert_counts(rows)),
            plots.plot_trend(trend_rows(rng, hidden_wave="2017")),
            plots.plot_distribution(pd.DataFrame({"category": ["a", "b"], "share": [40, 60]}))]
    colours = [to_rgba(c) for c in [*plots.COLOURS.values(), *plots.likert_palette(5),
                                    *plots.likert_palette(4), *plots.likert_palette(7)]]
    for a in axes:
        colours += [p.get_facecolor() for p in a.patches]
        colours += [to_rgba(line.get_color()) for line in a.lines]
    assert colours and not [c for c in colours if _judging(c)]
    assert _judging(to_rgba("tab:red")) and _judging(to_rgba("tab:green"))  # the check works


def test_figure_export_closes_the_figure(rng):
    import matplotlib.pyplot as plt

    ax = plots.plot_factor_overview(published(rng, ["A"], [3.3]))
    png = plots.figure_to_png(ax.figure)
    assert png.startswith(b"\x89PNG") and not plt.get_fignums()
    ax = plots.plot_factor_overview(published(rng, ["A"], [3.3]))
    svg = plots.figure_to_svg(ax.figure)
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg and not plt.get_fignums()


# ---------------------------------------------------------------------------------------------
# the sample datasets: one PNG of each plot to look at


def test_sample_pngs(university, municipality):
    PLOTS.mkdir(parents=True, exist_ok=True)
    survey, table, trend = university
    unit, parent = table[table["unit_id"] == "NV-FYS"], table[table["unit_id"] == "NV"]
    written = {}
    ax = plots.plot_factor_overview(unit, parent, themes=plots.factor_themes(survey.instrument))
    # one bar per published cell (the release hides a few of the 17 by the complement rule)
    shown = unit.loc[unit["mean"].notna()]
    assert len(unit) == 17 and len(patches(ax, "unit")) == len(shown) >= 14
    assert [p.get_x() + p.get_width() for p in patches(ax, "unit")] == pytest.approx(
        shown["mean"].tolist())
    written["university-NV-FYS-overview.png"] = plots.figure_to_png(ax.figure)
    ax = plots.plot_likert(plots.likert_counts(unit),
                           labels=plots.scale_labels(survey.instrument))
    written["university-NV-FYS-likert.png"] = plots.figure_to_png(ax.figure)
    assert sorted(trend["wave"].unique()) == ["2014", "2017", "2019", "2021"]
    ax = plots.plot_trend(trend, keys=["STR", "LRE", "FEL"])
    written["university-NV-FYS-trend.png"] = plots.figure_to_png(ax.figure)
    ax = plots.plot_heatmap(table[table["parent_id"] == "NV-KJE"])
    written["university-NV-KJE-heatmap.png"] = plots.figure_to_png(ax.figure)

    survey, table = municipality
    school = table[table["unit_id"] == "OPP-NOS"]
    sector = table[table["unit_id"] == school["parent_id"].iloc[0]]
    bench = survey.benchmarks
    bench = bench[(bench["wave"] == "2023") & (bench["benchmark"] == "school")]
    frame = plots.factor_table(school, sector, bench.set_index("factor")["mean"])
    # decimal commas; the sector's cells the complement rule hides say so
    assert frame.shape == (10, 4)
    assert frame.iloc[:, 1:].map(lambda t: "," in t or t == "skjult").all().all()
    assert frame.iloc[:, [1, 3]].map(lambda t: "," in t).all().all()
    ax = plots.plot_factor_table(frame, title="10-FAKTOR 2023")
    written["municipality-OPP-NOS-table.png"] = plots.figure_to_png(ax.figure)
    shares = pd.DataFrame({"category": ["Under 30 år", "30-49 år", "50 år og over", "Vet ikke"],
                           "share": [15.2, 48.5, 36.3, np.nan], "n": [178, 568, 424, 2]})
    ax = plots.plot_distribution(shares, title="Alder")
    written["municipality-age-distribution.png"] = plots.figure_to_png(ax.figure)
    for name, png in written.items():
        (PLOTS / name).write_bytes(png)
        assert png.startswith(b"\x89PNG") and len(png) > 10_000, name
