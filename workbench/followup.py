"""Follow-up: last wave's measures beside the factor's published change and its finding.

At the next survey a unit asks "what have we done, and has it worked?". :func:`followup`
lists the unit's actions of the previous wave (from the workshop store) with their status,
beside the factor's published mean in both waves and the finding of the comparison with the
previous wave (:func:`workbench.compare.compare`), e.g. ``Rolleklarhet 3,94 -> 4,10:
higher``. Only published numbers: a hidden cell shows as hidden, never as a number.

Units may be reorganised between waves. ``predecessors`` says which unit(s) of the previous
wave a unit continues: a callable ``(unit, wave) -> unit ids``, a mapping ``unit -> ids``,
or an object with such a ``previous`` method (an org lineage from ``successors.csv``).
By default a unit continues the unit with the same id. When a predecessor has another id
(renamed, merged, split), the unit now is tested against that predecessor's published cell
with the comparison engine's own pieces (Welch with the finite population correction, Holm
across the factors, the same finding codes), as ``compare(..., "previous")`` does for the
same id.

Examples
--------
>>> import tempfile
>>> from workbench.release import open_release
>>> from workbench.workshop import Access, Action, Workshop, open_store
>>> release = open_release("data_samples/municipality")
>>> store = open_store(tempfile.mkdtemp())
>>> _ = Workshop(store, Access.analyst("kari"), release).save_action(
...     Action(wave="2021", unit_id="OPP-NOS", factor="F3", measure="Ukentlig møte",
...            status="done"))
>>> view = followup(release, store, "OPP-NOS", "2023", lang="en")
>>> list(view[["measure", "status"]].iloc[0])
['Ukentlig møte', 'done']
>>> store.close()
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from workbench.errors import UsageError

__all__ = ["FOLLOWUP_COLUMNS", "followup", "previous_wave", "predecessor_function",
           "change_text"]

FOLLOWUP_COLUMNS = ("wave", "unit_id", "previous_wave", "previous_unit_id", "action_id",
                    "factor", "label", "area", "measure", "goal", "responsible", "deadline",
                    "status", "mean_previous", "mean", "diff", "p_adj", "finding", "verdict",
                    "change")

_HIDDEN = {"nb": "skjult", "en": "hidden"}

Predecessors = Callable[[str, str], Sequence[str]]


def previous_wave(release, wave: str) -> str:
    """The wave before ``wave`` in survey.yaml; UsageError for the first wave."""
    from workbench.stats import check_wave

    wave = check_wave(release, wave)[0]
    position = release.waves.index(wave)
    if position == 0:
        raise UsageError(f"wave {wave} is the first wave in survey.yaml; there is no previous "
                         "wave to follow up")
    return release.waves[position - 1]


def predecessor_function(release, predecessors: Any = None) -> Predecessors:
    """``(unit, wave) -> unit ids of the previous wave`` from what a caller gives.

    Parameters
    ----------
    predecessors
        None (the same id, when that unit existed in the previous wave), a callable
        ``(unit, wave) -> ids``, a mapping ``unit -> ids`` (for the wave asked for), or an
        object with a ``previous(unit, wave)`` method (an org lineage).
    """
    if predecessors is None:
        def same(unit: str, wave: str) -> Sequence[str]:
            before = previous_wave(release, wave)
            return (unit,) if unit in release.hierarchy(before) else ()
        return same
    if hasattr(predecessors, "previous"):
        return predecessors.previous
    if isinstance(predecessors, Mapping):
        table = predecessors
        return lambda unit, wave: tuple(table.get(unit, ()))
    if callable(predecessors):
        return predecessors
    raise UsageError("predecessors must be a function (unit, wave) -> unit ids, a mapping "
                     f"unit -> ids or a lineage; got {type(predecessors).__name__}")


def _cells(release, unit: str, wave: str) -> pd.DataFrame:
    rows = release.cut("factors", unit, wave)
    if not len(rows):
        return pd.DataFrame(columns=["mean", "sd", "n", "invited"])
    return rows.drop_duplicates("key").set_index("key")


def _tested(release, unit: str, wave: str, before: str, then_unit: str, threshold: float,
            lang: str) -> pd.DataFrame:
    """The comparison of ``unit`` in ``wave`` with ``then_unit`` in ``before``: ``diff,
    p_adj, finding, verdict`` per factor key."""
    from workbench.compare import adjust_pvalues, classify, compare, verdict_text, welch_test

    if then_unit == unit:
        table = compare(release, unit, "previous", wave=wave, threshold=threshold, lang=lang)
        return table.set_index("key")[["diff", "p_adj", "finding", "verdict"]]
    now, then = _cells(release, unit, wave), _cells(release, then_unit, before)
    keys = [f.id for f in release.instrument.factors]
    now, then = now.reindex(keys), then.reindex(keys)

    def column(frame, name):
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64")

    tests = welch_test(column(now, "mean"), column(now, "sd"), column(now, "n"),
                       column(then, "mean"), column(then, "sd"), column(then, "n"),
                       column(now, "invited"), column(then, "invited"))
    hidden = np.isnan(column(now, "n")) | np.isnan(column(then, "n"))
    diff = np.where(hidden, np.nan, tests["diff"].to_numpy(dtype="float64"))
    p = np.where(hidden, np.nan, tests["p"].to_numpy(dtype="float64"))
    p_adj = adjust_pvalues(p, "holm")
    finding = classify(diff, p_adj, threshold)
    verdict = [verdict_text(f, "previous", before, lang) for f in finding]
    return pd.DataFrame({"diff": diff, "p_adj": p_adj, "finding": finding,
                         "verdict": verdict}, index=pd.Index(keys, name="key"))


def change_text(label: str, before: float, after: float, finding: str,
                lang: str = "nb") -> str:
    """``Rolleklarhet 3,94 -> 4,10: higher``; a hidden mean shows as hidden.

    Examples
    --------
    >>> change_text("Rolleklarhet", 3.9412, 4.1, "higher")
    'Rolleklarhet 3,94 -> 4,10: higher'
    >>> change_text("Role clarity", float("nan"), 4.1, "suppressed", lang="en")
    'Role clarity hidden -> 4.10: suppressed'
    """
    from workbench.i18n import number

    def shown(value: float) -> str:
        return _HIDDEN[lang] if pd.isna(value) else number(value, lang, 2)

    return f"{label} {shown(before)} -> {shown(after)}: {finding}"


def followup(release, store, unit: str, wave: str | None = None, predecessors: Any = None,
             lang: str = "nb", threshold: float = 0.2) -> pd.DataFrame:
    """The unit's actions of the previous wave beside the factor's published change.

    Parameters
    ----------
    release
        The release (:func:`workbench.release.open_release`): the only source of numbers.
    store
        The workshop store (:func:`workbench.workshop.open_store`).
    unit
        The unit in ``wave``.
    wave
        The wave of the new results (default: the last); its previous wave holds the plan.
    predecessors
        Which unit(s) of the previous wave ``unit`` continues (see
        :func:`predecessor_function`); default: the same id.
    lang
        Language of labels, verdicts and ``change``.
    threshold
        The smallest difference called real (as :func:`workbench.compare.compare`).

    Returns
    -------
    DataFrame
        One row per action of a predecessor in the previous wave, in plan order:
        ``wave, unit_id, previous_wave, previous_unit_id, action_id, factor, label, area,
        measure, goal, responsible, deadline, status, mean_previous, mean, diff, p_adj,
        finding, verdict, change``. ``mean_previous`` is the predecessor's published mean in
        the previous wave, ``mean`` the unit's in ``wave`` (NaN where hidden); ``diff``,
        ``p_adj``, ``finding`` and ``verdict`` those of the comparison with the previous
        wave. A measure without a factor has no numbers.

    Raises
    ------
    UsageError
        Unknown wave or unit, or the first wave.
    """
    from workbench.i18n import check_lang
    from workbench.stats import check_unit, check_wave

    lang = check_lang(lang)
    wave = check_wave(release, release.waves[-1] if wave is None else str(wave))[0]
    unit = str(unit)
    check_unit(release, unit, wave)  # a wrong unit is told before "the first wave"
    before = previous_wave(release, wave)
    earlier = [str(u) for u in predecessor_function(release, predecessors)(unit, wave)]
    labels = {f.id: f.name(lang) for f in release.instrument.factors}
    now = _cells(release, unit, wave)
    rows: list[dict[str, Any]] = []
    for then_unit in earlier:
        actions = store.actions(wave=before, unit=then_unit)
        if not actions:
            continue
        tested = release.memo(("followup", unit, wave, then_unit, threshold, lang),
                              lambda: _tested(release, unit, wave, before, then_unit,
                                              threshold, lang))
        then = _cells(release, then_unit, before)
        for action in actions:
            key = action.factor
            has = bool(key) and key in tested.index
            mean_then = float(then["mean"].get(key, np.nan)) if has else np.nan
            mean_now = float(now["mean"].get(key, np.nan)) if has else np.nan
            test = tested.loc[key] if has else None
            finding = str(test["finding"]) if has else ""
            label = labels.get(key, key)
            rows.append({
                "wave": wave, "unit_id": unit, "previous_wave": before,
                "previous_unit_id": then_unit, "action_id": action.id, "factor": key,
                "label": label, "area": action.area, "measure": action.measure,
                "goal": action.goal, "responsible": action.responsible,
                "deadline": action.deadline or "", "status": action.status,
                "mean_previous": mean_then, "mean": mean_now,
                "diff": float(test["diff"]) if has else np.nan,
                "p_adj": float(test["p_adj"]) if has else np.nan,
                "finding": finding, "verdict": str(test["verdict"]) if has else "",
                "change": change_text(label, mean_then, mean_now, finding, lang) if has
                else ""})
    out = pd.DataFrame(rows, columns=list(FOLLOWUP_COLUMNS))
    for column in ("mean_previous", "mean", "diff", "p_adj"):
        out[column] = out[column].astype("float64")
    return out
