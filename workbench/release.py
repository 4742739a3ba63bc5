"""The release: every published number of a dataset, protected together, audited together.

A release is built once per dataset (per wave inside it) from the respondent rows, and is
then the only thing the present side reads: CLI ``stats``/``compare``, the apps and the
handouts. It holds every cell any output can show, each decided by one privacy decision per
wave (:func:`workbench.privacy.decide`) and checked by the attacker
(:func:`workbench.privacy.audit`) reading all its tables at once:

``units``
    The hierarchy of every wave (``wave, unit_id, parent_id, name, name_en, kind, depth``).
``successors``
    ``wave, unit_id, successor_id``: unit X of a wave lives on as Y in the next (renamed,
    merged, split), as ``successors.csv`` gives it.
``factors``, ``items``
    The statistics of every unit's subtree per factor and item (``stats`` columns without
    the language-bound names; items carry their ``factor``).
``groups``
    The same by background variable at the allowed levels (``by, group, level``).
``extras``
    Distributions of the extra questions (``key, block, code, share, n, mean``).
``scores``
    Person factor scores in half-point bins (``key, low, high, share``).
``rates``
    Answers, invited and response rate per unit (and group at the allowed levels).
``comparisons``
    Each unit's factors against the rest of its parent, its previous wave and its
    benchmark, tested from the published cells alone (:mod:`workbench.compare`).
``reliability``
    Cronbach's alpha per factor for the whole organisation.
``benchmarks``
    The dataset's benchmark figures, as given.

On disk a release is a folder of Parquet tables with ``manifest.json`` (the policy, the
dataset's keyed checksums, what was hidden for which reason, the audit's result) and
``instrument.yaml`` (the instrument's text, for labels). :func:`open_release` takes a dataset
folder (it reuses ``DATASET/.workbench/release`` when that was built from the same files, and
builds one otherwise) or a release folder.

Examples
--------
>>> from workbench.release import open_release
>>> release = open_release("data_samples/municipality")
>>> release.waves
('2021', '2023')
>>> bool(release.manifest["audit"]["ok"])
True
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Hashable, Mapping

import numpy as np
import pandas as pd

from workbench.errors import UsageError
from workbench.instrument import Instrument, Text, instrument_text, parse_instrument_text
from workbench.org import Hierarchy
from workbench.privacy import (
    LARGE_UNIT,
    Block,
    Decision,
    GroupCounts,
    PrivacyPolicy,
    Tree,
    audit,
    decide,
    value_columns,
)
from workbench.survey import BackgroundVariable, Survey, SurveyConfig

__all__ = ["Release", "build_release", "write_release", "read_release", "open_release",
           "as_release", "is_release", "SCORE_BINS", "score_bins", "FORMAT", "TABLES", "CACHE"]

#: Version of the folder layout; a reader refuses a release of another format.
FORMAT = 1

#: The tables of a release, in the order they are written.
TABLES = ("units", "successors", "factors", "items", "groups", "extras", "scores", "rates",
          "comparisons", "reliability", "benchmarks")

#: Where a dataset keeps its release (``DATASET/.workbench/release``).
CACHE = Path(".workbench") / "release"
#: The key of the dataset's checksums, in its ``.workbench`` folder (see :func:`_checksums`).
CHECKSUM_KEY = "checksum-key"

#: Edges of the half-point bins of person scores on a 1-5 scale (the last bin closes at 5).
SCORE_BINS = np.array([1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0001])


def score_bins(instrument: Instrument, factor=None) -> np.ndarray:
    """Edges of the half-point bins of person scores on a factor's scale (default: the
    instrument's; the last bin closes at the top of the scale)."""
    scale = instrument.scale if factor is None else instrument.factor_scale(factor)
    lo, hi = scale.min, scale.max
    edges = np.arange(lo, hi + 0.25, 0.5)
    edges[-1] = hi + 1e-4
    return edges

_STAT = ("n", "invited", "mean", "sd", "se", "ci_low", "ci_high", "moe")


# --------------------------------------------------------------------------------------------
# Building one wave


@dataclass(frozen=True, eq=False)
class _Rolled:
    """One wave's subtree sums: factor and item level, by background variable, extras."""

    factor: Any
    item: Any
    by_factor: Mapping[str, Any]
    by_item: Mapping[str, Any]
    extras: Mapping[str, Any]
    scores: Mapping[str, np.ndarray]  # per factor: persons per unit (subtree) and score bin
    partial: np.ndarray  # scored persons who skipped items, per unit (subtree) and factor


def _roll_wave(survey: Survey, wave: str) -> tuple[Hierarchy, _Rolled]:
    from workbench.aggregate import category_sums, own_sums, rollup, subtree_totals
    from workbench.scoring import factor_scores, scored_values

    instrument = survey.instrument
    hierarchy = survey.hierarchy(wave)
    responses = survey.responses
    data = responses.loc[(responses["wave"].astype(str) == wave).to_numpy()]
    headcount = survey.headcount
    if headcount is not None:
        headcount = headcount.loc[(headcount["wave"].astype(str) == wave).to_numpy()]
    def up(sums):
        return rollup(sums, hierarchy)

    factor = up(own_sums(data, instrument, hierarchy, "factor", headcount=headcount))
    item = up(own_sums(data, instrument, hierarchy, "item", headcount=headcount))
    by_factor, by_item = {}, {}
    for var, spec in survey.config.background.items():
        if var not in data.columns:
            continue
        groups = tuple(spec.values)
        by_factor[var] = up(own_sums(data, instrument, hierarchy, "factor", by=var,
                                     groups=groups, headcount=headcount))
        by_item[var] = up(own_sums(data, instrument, hierarchy, "item", by=var, groups=groups,
                                   headcount=headcount))
    extras = {}
    for question in instrument.extra:
        if question.id not in data.columns:
            continue
        order = sorted(question.codes)
        raw = data[question.id].to_numpy(dtype="float64", na_value=np.nan)
        position = pd.Index(order).get_indexer(np.where(np.isnan(raw), -1, raw).astype(np.int64))
        codes = np.where(position >= 0, position, np.nan).astype("float64")
        values = np.where(position >= 0, raw, np.nan)
        extras[question.id] = up(category_sums(data, hierarchy, codes, len(order), question.id,
                                               values))
    values = scored_values(data, instrument)
    person = factor_scores(values, instrument)
    partial = _partial(data, values, person, instrument, hierarchy)
    unit_index = pd.Index(hierarchy.ids).get_indexer(data["unit_id"])
    scores = {}
    for k, f in enumerate(instrument.factors):
        edges = score_bins(instrument, f)
        bins = len(edges) - 1
        ok = ~np.isnan(person[:, k])
        position = np.digitize(person[ok, k], edges) - 1
        counts = np.bincount(unit_index[ok] * bins + position,
                             minlength=len(hierarchy) * bins).reshape(len(hierarchy), bins)
        scores[f.id] = subtree_totals(counts, hierarchy)
    return hierarchy, _Rolled(factor=factor, item=item, by_factor=by_factor, by_item=by_item,
                              extras=extras, scores=scores, partial=partial)


def _partial(data: pd.DataFrame, values: np.ndarray, person: np.ndarray,
             instrument: Instrument, hierarchy: Hierarchy) -> np.ndarray:
    """Persons with a score who skipped some of the factor's items, per unit (subtree) and
    factor.

    A factor's mean is over persons (each the mean of the items they answered) and its
    distribution over answers: together they give away the weighted total of exactly these
    persons, so they are a group the privacy decision protects (``Block.checked``).
    """
    from workbench.aggregate import subtree_totals

    position = {item_id: i for i, item_id in enumerate(instrument.item_ids)}
    skipped = np.column_stack([
        ~np.isnan(person[:, k]) & np.isnan(values[:, [position[i] for i in f.item_ids]]).any(
            axis=1) for k, f in enumerate(instrument.factors)]).astype("float64")
    unit_index = pd.Index(hierarchy.ids).get_indexer(data["unit_id"])
    own = np.column_stack([np.bincount(unit_index, weights=skipped[:, k],
                                       minlength=len(hierarchy))
                           for k in range(skipped.shape[1])])
    return subtree_totals(own, hierarchy)


def _blocks(survey: Survey, rolled: _Rolled, units: int) -> list[Block]:
    """The blocks of one wave: per factor its scores (``factor:F``) and its answers
    (``dist:F``: the items and the factor's distribution, published only where the factor
    is, with the persons who skipped some of its items held as a group; never by background
    group), the extra questions, the respondents."""
    instrument = survey.instrument
    item_pos = {item_id: i for i, item_id in enumerate(instrument.item_ids)}
    background = {var: tuple(survey.config.background[var].values) for var in rolled.by_factor}
    blocks = []
    for k, f in enumerate(instrument.factors):
        groups = {var: GroupCounts(values, rolled.by_factor[var].n.reshape(
            units, len(values), -1)[:, :, [k]]) for var, values in background.items()}
        blocks.append(Block(f"factor:{f.id}", (f.id,), rolled.factor.n[:, [k]], groups,
                            kind="factor"))
    for k, f in enumerate(instrument.factors):
        items = [item_pos[i] for i in f.item_ids]
        skipped = f"skipped:{f.id}"
        n = np.column_stack([rolled.item.n[:, items], rolled.partial[:, k]])
        blocks.append(Block(f"dist:{f.id}", (*f.item_ids, skipped), n,
                            requires=f"factor:{f.id}", kind="dist", checked=(skipped,)))
    questions = {q.id: q for q in instrument.extra if q.id in rolled.extras}
    # a question asked only of some comes after the one it depends on
    lead = {qid: next((d for d in q.only_if if d in questions), None)
            for qid, q in questions.items()}
    for qid in sorted(questions, key=lambda q: lead[q] is not None):
        requires = f"extra:{lead[qid]}" if lead[qid] else None
        blocks.append(Block(f"extra:{qid}", (qid,), rolled.extras[qid].n, requires=requires,
                            kind="extra"))
    answers = rolled.factor.answers[:, None]
    groups = {var: GroupCounts(values, rolled.by_factor[var].answers.reshape(
        units, len(values), 1)) for var, values in background.items()}
    blocks.append(Block("respondents", ("answers",), answers, groups, kind="respondents"))
    return blocks


def _blank(frame: pd.DataFrame, hidden: np.ndarray, counts: tuple[str, ...] = ("n",)
           ) -> pd.DataFrame:
    """Empty every statistic and the counts of the hidden rows (privacy rule 5)."""
    columns = value_columns(frame) + [c for c in counts if c in frame.columns]
    if hidden.any():
        frame[columns] = frame[columns].astype("float64")
        frame.loc[hidden, columns] = np.nan
    return frame


def _rwg(items, instrument: Instrument) -> np.ndarray:
    """rwg(j) per unit (subtree) and factor from the item sums of the factor's population
    (units x factors); :mod:`workbench.agreement` has the formula."""
    from workbench.agreement import rwg_j

    position = {item_id: i for i, item_id in enumerate(items.keys)}
    with np.errstate(invalid="ignore", divide="ignore"):
        variance = (items.s2 - items.s1 ** 2 / items.n) / (items.n - 1)
    variance = np.where(items.n > 1, np.clip(variance, 0.0, None), np.nan)
    out = []
    for f in instrument.factors:
        scale = instrument.factor_scale(f)
        block = variance[:, [position[i] for i in f.item_ids]]
        out.append(rwg_j(block, scale.max - scale.min + 1))
    return np.column_stack(out)


def _hide_distribution(frame: pd.DataFrame, shown: np.ndarray, reason: np.ndarray) -> None:
    """A factor row's distribution (pct_*, top_box) follows its answers' decision: it is the
    sum of the items' distributions. ``dist_suppressed`` and ``dist_reason`` say so."""
    hidden = ~shown | frame["suppressed"].to_numpy()
    columns = [c for c in frame.columns if str(c).startswith("pct_") or
               str(c).startswith("top_box") or c == "rwg"]
    frame[columns] = frame[columns].astype("float64")
    frame.loc[hidden, columns] = np.nan
    frame["dist_suppressed"] = ~shown | frame["suppressed"].to_numpy()
    frame["dist_reason"] = np.where(frame["suppressed"], frame["reason"],
                                    np.where(shown, "", reason))


def _unit_frame(sums, hierarchy: Hierarchy, instrument: Instrument, wave: str) -> pd.DataFrame:
    from workbench.aggregate import describe

    frame = describe(sums, instrument)
    ids = np.asarray(hierarchy.ids, dtype=object)
    frame.insert(0, "unit_id", ids[frame["cell"].to_numpy()])
    frame.insert(0, "wave", wave)
    return frame.drop(columns="cell")


def _answers_of(decisions: Mapping[str, Decision], answers: np.ndarray) -> np.ndarray:
    resp = decisions["respondents"]
    return np.where(resp.published, answers, np.nan)


def _wave_tables(survey: Survey, wave: str, policy: PrivacyPolicy) -> dict[str, pd.DataFrame]:
    """Every table of one wave, protected by one decision, plus ``raw``: the factor cells'
    true n and answers with their decision (for the utility figures; never written)."""
    from workbench.aggregate import describe

    instrument = survey.instrument
    hierarchy, rolled = _roll_wave(survey, wave)
    ids = np.asarray(hierarchy.ids, dtype=object)
    units = len(ids)
    answers = rolled.factor.answers
    decisions = decide(hierarchy, _blocks(survey, rolled, units), policy, answers=answers)
    published_answers = _answers_of(decisions, answers)
    factor_ids = [f.id for f in instrument.factors]
    factor_of = {i: f.id for f in instrument.factors for i in f.item_ids}
    pub = np.column_stack([decisions[f"factor:{f}"].published for f in factor_ids])
    why = np.column_stack([decisions[f"factor:{f}"].reason for f in factor_ids])
    dist = np.column_stack([decisions[f"dist:{f}"].published for f in factor_ids])
    dist_why = np.column_stack([decisions[f"dist:{f}"].reason for f in factor_ids])

    def unit_rows(sums, keys_block: list[int], shown: np.ndarray, reasons: np.ndarray
                  ) -> pd.DataFrame:
        frame = _unit_frame(sums, hierarchy, instrument, wave)
        cell = np.repeat(np.arange(units), len(sums.keys))
        block = np.tile(np.asarray(keys_block), units)
        frame["answers"] = published_answers[cell]
        frame["suppressed"] = ~shown[cell, block]
        frame["reason"] = reasons[cell, block]
        return _blank(frame, frame["suppressed"].to_numpy(), ("n", "invited")), cell, block

    factors, cell, block = unit_rows(rolled.factor, list(range(len(factor_ids))), pub, why)
    factors["rwg"] = _rwg(rolled.item, instrument).reshape(-1)
    _hide_distribution(factors, dist[cell, block], dist_why[cell, block])
    item_block = [factor_ids.index(factor_of[i]) for i in instrument.item_ids]
    items, _, _ = unit_rows(rolled.item, item_block, dist, dist_why)
    items.insert(3, "factor", items["key"].map(factor_of))
    # an item nobody with a score answered, in a published block: nothing there to hide
    nobody = (items["n"] == 0) & ~items["suppressed"]
    items.loc[nobody, "suppressed"] = True
    items.loc[nobody, "reason"] = "no_answers"
    items = _blank(items, nobody.to_numpy())

    groups = []
    allowed = np.flatnonzero(np.isin(hierarchy.units["level"].to_numpy(),
                                     policy.background_levels))
    for var, values in ((v, tuple(survey.config.background[v].values)) for v in
                        rolled.by_factor):
        for level, sums, keys_block in (("factor", rolled.by_factor[var],
                                         list(range(len(factor_ids)))),
                                        ("item", rolled.by_item[var], item_block)):
            frame = describe(sums, instrument)
            cell = frame["cell"].to_numpy()
            unit, value = np.divmod(cell, len(values))
            keep = np.isin(unit, allowed)
            frame, unit, value = frame.loc[keep].reset_index(drop=True), unit[keep], value[keep]
            block = np.tile(np.asarray(keys_block), len(frame) // max(len(keys_block), 1))
            rows = np.arange(len(frame))

            def decided(part: int) -> np.ndarray:
                return np.column_stack([decisions[f"factor:{f}"].groups[var][part][unit, value]
                                        for f in factor_ids])[rows, block]

            resp_pub, _ = decisions["respondents"].groups[var]
            frame = frame.drop(columns="cell")
            frame.insert(0, "level", level)
            frame.insert(0, "group", np.asarray(values, dtype=object)[value])
            frame.insert(0, "by", var)
            frame.insert(0, "unit_id", ids[unit])
            frame.insert(0, "wave", wave)
            if level == "item":
                frame.insert(6, "factor", frame["key"].map(factor_of))
            frame["answers"] = np.where(resp_pub[unit, value], frame["answers"], np.nan)
            # a group shows its factor means only: with its answers' counts (the items, the
            # distributions) and who is where, non-negative counts bound a small hidden
            # cell's answers until they are pinned (an outside attacker's linear programme)
            shown, hidden_why = decided(0), decided(1)
            # (the same word whether or not anyone in the group answered the item: even a
            # count of 0 would say how many of the others did)
            detail = np.where(shown, "group_detail", hidden_why)
            frame["suppressed"] = ~shown if level == "factor" else True
            frame["reason"] = hidden_why if level == "factor" else detail
            frame = _blank(frame, frame["suppressed"].to_numpy(), ("n", "invited"))
            if level == "factor":
                _hide_distribution(frame, np.zeros(len(frame), dtype=bool), detail)
            groups.append(frame)
    groups = pd.concat(groups, ignore_index=True) if groups else pd.DataFrame()

    extras = []
    for question in instrument.extra:
        if question.id not in rolled.extras:
            continue
        d = decisions[f"extra:{question.id}"]
        frame = describe(rolled.extras[question.id], instrument, top_box=1)
        order = sorted(question.codes)
        lead = next((q for q in question.only_if if f"extra:{q}" in decisions), question.id)
        for position, code in enumerate(order):
            extras.append(pd.DataFrame({
                "wave": wave, "unit_id": ids, "key": question.id, "block": lead,
                "code": code, "share": frame[f"pct_{position + 1}"].to_numpy(),
                "n": frame["n"].to_numpy(dtype="float64"),
                "mean": frame["mean"].to_numpy(), "suppressed": ~d.published,
                "reason": d.reason}))
    extras = pd.concat(extras, ignore_index=True) if extras else pd.DataFrame()
    if len(extras):
        extras = _blank(extras, extras["suppressed"].to_numpy())
        extras.loc[extras["suppressed"].to_numpy(), "share"] = np.nan

    frames = []
    for k, f in enumerate(factor_ids):
        edges = score_bins(instrument, f)
        counts = rolled.scores[f]
        bins = counts.shape[1]
        with np.errstate(invalid="ignore", divide="ignore"):
            share = 100.0 * counts / counts.sum(axis=1, keepdims=True)
        # the scores' distribution, beside the exact mean and sd, pins down a small cell's
        # scores (and a skipper's, on another grid): it follows the answers' decision
        shown = dist[:, k]
        share[~shown] = np.nan
        frames.append(pd.DataFrame({
            "wave": wave, "unit_id": np.repeat(ids, bins), "key": f,
            "low": np.tile(edges[:-1], units),
            "high": np.tile(np.r_[edges[1:-1], instrument.factor_scale(f).max], units),
            "share": share.reshape(-1), "suppressed": np.repeat(~shown, bins),
            "reason": np.repeat(np.where(pub[:, k], dist_why[:, k], why[:, k]), bins)}))
    scores = pd.concat(frames, ignore_index=True)

    resp = decisions["respondents"]
    invited = rolled.factor.invited
    rates = [pd.DataFrame({"wave": wave, "unit_id": ids, "by": "", "group": "",
                           "answers": answers, "invited": invited,
                           "suppressed": ~resp.published, "reason": resp.reason})]
    for var, (gpub, greason) in resp.groups.items():
        values = tuple(survey.config.background[var].values)
        sums = rolled.by_factor[var]
        unit, value = np.divmod(np.arange(units * len(values)), len(values))
        keep = np.isin(unit, allowed)
        rates.append(pd.DataFrame({
            "wave": wave, "unit_id": ids[unit[keep]], "by": var,
            "group": np.asarray(values, dtype=object)[value[keep]],
            "answers": sums.answers[keep], "invited": sums.invited[keep],
            "suppressed": ~gpub[unit[keep], value[keep]],
            "reason": greason[unit[keep], value[keep]]}))
    rates = pd.concat(rates, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates["rate"] = np.where(rates["invited"] > 0, 100.0 * rates["answers"] /
                                 rates["invited"], np.nan)
    # more answers than invited: the headcount is wrong there, no rate (the cell's own
    # totals say so, see aggregate.population)
    rates.loc[(rates["answers"] > rates["invited"]).to_numpy(), "rate"] = np.nan
    # a hidden row shows no headcount either: with "too few answers" (1 to min_n - 1), a
    # headcount below min_n narrows the count (1 invited: exactly 1 answered; helper-17)
    hidden = rates["suppressed"].to_numpy()
    rates.loc[hidden, ["answers", "rate", "invited"]] = np.nan

    units_table = hierarchy.units.rename(columns={"level": "depth"}).copy()
    units_table.insert(0, "wave", wave)
    raw = pd.DataFrame({
        "wave": wave, "unit_id": np.repeat(ids, len(factor_ids)),
        "key": np.tile(np.asarray(factor_ids, dtype=object), units),
        "n": rolled.factor.n.reshape(-1),
        "answers_raw": np.repeat(answers, len(factor_ids)),
        "suppressed": ~pub.reshape(-1)})
    # each person's published cell per factor: the own unit's, or the nearest published above
    tree = Tree.of(hierarchy)
    atom = np.column_stack([np.where(pub[:, k], np.arange(units), tree.nearest_published(
        pub[:, k])) for k in range(len(factor_ids))])
    atoms = pd.DataFrame({
        "wave": wave, "unit_id": np.repeat(ids, len(factor_ids)),
        "key": np.tile(np.asarray(factor_ids, dtype=object), units),
        "atom": np.where(atom >= 0, ids[np.maximum(atom, 0)], "").reshape(-1)})
    return {"units": units_table, "factors": factors, "items": items, "groups": groups,
            "extras": extras, "scores": scores, "rates": rates, "raw": raw, "atoms": atoms}


def _summary(tables: Mapping[str, pd.DataFrame], raw_cells: pd.DataFrame,
             policy: PrivacyPolicy) -> dict[str, Any]:
    """What was hidden for which reason, per table, and the utility figures."""
    hidden: dict[str, dict[str, int]] = {}
    for name in ("factors", "items", "groups", "extras", "rates"):
        frame = tables.get(name)
        if frame is None or frame.empty:
            continue
        if name == "extras":
            frame = frame.drop_duplicates(["wave", "unit_id", "key"])
        counts = frame.loc[frame["suppressed"], "reason"].value_counts()
        hidden[name] = {str(k): int(v) for k, v in counts.items()}
        hidden[name]["published"] = int((~frame["suppressed"]).sum())
    eligible = raw_cells["n"] >= policy.min_n
    shown = eligible & ~raw_cells["suppressed"]
    per_unit = raw_cells.groupby(["wave", "unit_id"]).agg(
        answers=("answers_raw", "first"), hidden=("suppressed", "all"))
    wholly = per_unit[(per_unit["answers"] >= LARGE_UNIT) & per_unit["hidden"]]
    return {
        "hidden": hidden,
        "utility": {
            "factor_cells_eligible": int(eligible.sum()),
            "factor_cells_published": int(shown.sum()),
            "factor_cells_published_share": round(float(shown.sum() / max(eligible.sum(), 1)),
                                                  4),
            "large_units_wholly_hidden": int(len(wholly)),
            "large_units_wholly_hidden_list": [f"{w} {u}" for w, u in wholly.index][:50],
        },
    }


# --------------------------------------------------------------------------------------------
# The release object


class _Memo:
    """A small bounded cache owned by one release (least recently used entries go)."""

    def __init__(self, size: int = 512):
        self.size = size
        self.items: OrderedDict = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        value = compute()
        self.items[key] = value
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return value


def _config_dict(config: SurveyConfig) -> dict[str, Any]:
    return {
        "name": {"nb": config.name.nb, "en": config.name.en},
        "instrument": config.instrument, "waves": list(config.waves),
        "language": config.language, "min_n": config.min_n,
        "background_levels": list(config.background_levels),
        "background": {var: {"name": {"nb": b.name.nb, "en": b.name.en},
                             "values": {code: {"nb": t.nb, "en": t.en}
                                        for code, t in b.values.items()}}
                       for var, b in config.background.items()},
        "benchmark_by": config.benchmark_by,
    }


def _config_of(data: Mapping[str, Any]) -> SurveyConfig:
    background = {var: BackgroundVariable(id=var, name=Text(**spec["name"]),
                                          values={code: Text(**t) for code, t in
                                                  spec["values"].items()})
                  for var, spec in data.get("background", {}).items()}
    return SurveyConfig(name=Text(**data["name"]), instrument=data["instrument"],
                        waves=tuple(data["waves"]), language=data["language"],
                        min_n=int(data["min_n"]),
                        background_levels=tuple(data["background_levels"]),
                        background=background, benchmark_by=data.get("benchmark_by"))


@dataclass(frozen=True, eq=False)
class Release:
    """The published tables of a dataset and what is needed to label them.

    It answers the questions a page, a handout or the command line asks (a unit's rows, its
    trend, its size, the groups of a variable, the extra questions) by slicing its tables;
    it holds no respondent rows. It offers the parts of :class:`~workbench.survey.Survey`
    that labelling needs (``config``, ``instrument``, ``waves``, ``hierarchy()``,
    ``benchmarks``), so the present side takes either.

    Attributes
    ----------
    tables
        Table name -> DataFrame (see the module text).
    manifest
        Format, policy, dataset checksums, the hiding summary and the audit result.
    instrument
        The instrument.
    config
        The dataset's settings (names, waves, language, privacy, background variables).
    path
        The folder it was read from (None when built in memory).
    """

    tables: Mapping[str, pd.DataFrame]
    manifest: Mapping[str, Any]
    instrument: Instrument
    config: SurveyConfig
    path: Path | None = None
    _memo: _Memo = field(default_factory=_Memo, repr=False)

    # -- what a Survey offers for labelling ------------------------------------------------

    @property
    def name(self) -> Text:
        return self.config.name

    @property
    def waves(self) -> tuple[str, ...]:
        return self.config.waves

    @property
    def background(self) -> tuple[str, ...]:
        return tuple(self.config.background)

    @property
    def policy(self) -> PrivacyPolicy:
        return PrivacyPolicy.from_config(self.config)

    @property
    def benchmarks(self) -> pd.DataFrame | None:
        frame = self.tables.get("benchmarks")
        return None if frame is None or frame.empty else frame

    @cached_property
    def _hierarchies(self) -> dict[str, Hierarchy]:
        units = self.tables["units"]
        out = {}
        for wave, part in units.groupby(units["wave"].astype(str), sort=False):
            frame = part.drop(columns=["wave"]).rename(columns={"depth": "level"})
            out[wave] = Hierarchy.from_frame(frame[["unit_id", "parent_id", "name",
                                                    *(c for c in ("name_en", "kind")
                                                      if c in frame.columns)]])
        return out

    def lineage(self):
        """Units across waves (renamed, merged, split): :class:`workbench.org.Lineage` of the
        release's ``successors`` table."""
        from workbench.org import Lineage

        table = self.tables.get("successors")
        if table is None or table.empty:
            table = pd.DataFrame({c: pd.Series([], dtype=object)
                                  for c in ("wave", "unit_id", "successor_id")})
        return self.memo(("lineage",), lambda: Lineage(waves=self.waves, table=table,
                                                       hierarchies=self._hierarchies))

    def hierarchy(self, wave: str | None = None) -> Hierarchy:
        """The org tree in ``wave`` (default: the last wave)."""
        wave = self.waves[-1] if wave is None else str(wave)
        try:
            return self._hierarchies[wave]
        except KeyError:
            raise UsageError(f"wave {wave!r} is not in this release; waves: "
                             f"{', '.join(self.waves)}") from None

    def memo(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        """A value kept by this release (bounded), computed by ``compute()`` the first time."""
        return self._memo.get(key, compute)

    def __repr__(self) -> str:
        where = f", path={str(self.path)!r}" if self.path else ""
        return f"Release({self.config.name.nb!r}, waves={list(self.waves)}{where})"

    # -- slicing ---------------------------------------------------------------------------

    def _split(self, name: str) -> dict[tuple[str, str], np.ndarray]:
        # row positions, not frames: a thousand small DataFrames would hold megabytes
        def split():
            frame = self.tables.get(name)
            if frame is None or frame.empty:
                return {}
            groups = frame.groupby([frame["wave"].astype(str), frame["unit_id"].astype(str)],
                                   sort=False).indices
            return {(str(w), str(u)): rows for (w, u), rows in groups.items()}
        return self.memo(("split", name), split)

    def cut(self, name: str, unit: str, wave: str) -> pd.DataFrame:
        """The rows of table ``name`` for one unit in one wave (empty when there are none)."""
        rows = self._split(name).get((str(wave), str(unit)))
        frame = self.tables.get(name)
        if frame is None:
            return pd.DataFrame()
        return frame.iloc[0:0] if rows is None else frame.iloc[rows]

    def size(self, unit: str, wave: str) -> tuple[int | None, int | None]:
        """(answers, invited) of the unit's subtree in ``wave``; None where not published, and
        invited None where the rates table gives no rate (no headcount, or one the answers
        contradict)."""
        rows = self.cut("rates", unit, wave)
        rows = rows.loc[rows["by"] == ""] if len(rows) else rows
        if not len(rows):
            return None, None
        first = rows.iloc[0]
        answers = None if pd.isna(first["answers"]) else int(first["answers"])
        invited = None if answers is None or pd.isna(first["rate"]) else \
            int(round(first["invited"]))
        return answers, invited

    def published(self, unit: str, wave: str) -> bool:
        """True when at least one of the unit's factor cells in ``wave`` is published."""
        rows = self.cut("factors", unit, wave)
        return bool(len(rows)) and not bool(rows["suppressed"].all())


# --------------------------------------------------------------------------------------------
# Build, write, read


def code_fingerprint() -> str:
    """A checksum of the code that decides what a release holds (the package's modules and
    built-in instruments, not the apps or handouts): a release cached by other code is
    built again."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in sorted([*package.glob("*.py"), *package.glob("instruments/*.yaml")]):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _checksums(dataset: Path, create: bool = True) -> dict[str, str] | None:
    """Keyed checksums (HMAC-SHA256) of the dataset's files; None without a key.

    A plain hash of ``responses.csv`` would let a reader who knows every other byte test
    guesses of one person's answer against the manifest. The key is 32 random bytes in the
    dataset's private ``.workbench`` folder (made when ``create`` is true and the folder can
    be written): whoever holds the dataset can check a release against it, nobody else can.
    """
    from workbench.access import ensure_secret, load_secret, workbench_folder

    path = workbench_folder(dataset) / CHECKSUM_KEY
    try:
        key = ensure_secret(path) if create else load_secret(path)
    except UsageError:
        return None
    return {f.name: hmac.new(key, f.read_bytes(), hashlib.sha256).hexdigest()
            for f in sorted(dataset.iterdir()) if f.is_file() and not f.name.startswith(".")}


def build_release(survey: Survey, policy: PrivacyPolicy | None = None) -> Release:
    """Build the release of a loaded survey: aggregate, protect jointly, compare, audit.

    Parameters
    ----------
    survey
        A loaded survey (:func:`workbench.validate.load_survey`).
    policy
        The privacy policy (default: from survey.yaml).

    Returns
    -------
    Release
        In memory; :func:`write_release` writes it.
    """
    from workbench.compare import comparison_table
    from workbench.reliability import reliability

    policy = policy or PrivacyPolicy.from_config(survey.config)
    parts: dict[str, list[pd.DataFrame]] = {}
    for wave in survey.waves:
        for name, frame in _wave_tables(survey, wave, policy).items():
            if frame is not None and len(frame):
                parts.setdefault(name, []).append(frame)
    tables = {name: pd.concat(frames, ignore_index=True) for name, frames in parts.items()}
    for name in TABLES:
        tables.setdefault(name, pd.DataFrame())
    config = survey.config
    benchmarks = survey.benchmarks
    tables["successors"] = survey.successors.astype(str).reset_index(drop=True)
    tables["benchmarks"] = benchmarks.reset_index(drop=True) if benchmarks is not None else \
        pd.DataFrame()
    tables["comparisons"] = comparison_table(tables, config, level="factor")
    atoms = tables.pop("atoms")
    tables["reliability"] = _top_only(reliability(survey, cells=atoms), tables["factors"],
                                      tables["units"])
    for name in ("factors", "items", "groups", "rates"):
        if len(tables[name]):
            tables[name]["invited"] = tables[name]["invited"].astype("float64")
    raw = tables.pop("raw")
    found = audit(tables, policy)
    summary = _summary(tables, raw, policy)
    manifest = {
        "format": FORMAT,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "dataset": Path(survey.path).name,
        "checksums": _checksums(Path(survey.path)) or {},
        "code": code_fingerprint(),
        "survey": _config_dict(config),
        "policy": {"min_n": policy.min_n, "background_levels": list(policy.background_levels)},
        "rows": {"accepted": int(len(survey.responses))},
        **summary,
        "audit": {"ok": bool(found.empty), "findings": int(len(found)),
                  "checks": found["check"].value_counts().to_dict() if len(found) else {}},
    }
    manifest["instrument_text"] = instrument_text(config.instrument, Path(survey.path))
    return Release(tables=tables, manifest=manifest, instrument=survey.instrument,
                   config=config)


def _top_only(table: pd.DataFrame, factors: pd.DataFrame, units: pd.DataFrame
              ) -> pd.DataFrame:
    """Reliability describes the persons of the top unit's factor cell: where that cell is
    hidden, so are the alpha, the ICCs and the counts (a count beside a hidden cell)."""
    table = table.astype({"n": "Int64", "n_complete": "Int64"})
    shown = set()
    if len(factors) and len(units):
        tops = set(zip(units.loc[units["depth"] == 0, "wave"].astype(str),
                       units.loc[units["depth"] == 0, "unit_id"].astype(str)))
        published = factors.loc[~factors["suppressed"].astype(bool)]
        shown = {(w, k) for w, u, k in zip(published["wave"].astype(str),
                                            published["unit_id"].astype(str),
                                            published["key"].astype(str)) if (w, u) in tops}
    hidden = [(str(w), str(f)) not in shown for w, f in zip(table["wave"], table["factor"])]
    table.loc[hidden, ["n", "n_complete"]] = pd.NA
    table.loc[hidden, ["alpha", "alpha_listwise", "icc1", "icc2"]] = np.nan
    return table


def is_release(path: str | Path) -> bool:
    """True when ``path`` is a release folder (it holds ``manifest.json`` of a release)."""
    manifest = Path(path) / "manifest.json"
    if not manifest.is_file():
        return False
    try:
        return "format" in json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False


def write_release(release: Release, folder: str | Path) -> Path:
    """Write a release folder: one Parquet file per table, instrument.yaml, manifest.json.

    The folder is written beside and then moved into place, so a reader never sees half a
    release.
    """
    target = Path(folder)
    if target.exists() and not is_release(target) and any(target.iterdir()):
        raise UsageError(f"{target} exists and is not a release folder; choose an empty or new "
                         f"folder for --out")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".release-", dir=target.parent))
    manifest = dict(release.manifest)
    text = manifest.pop("instrument_text", None)
    files = {}
    for name in TABLES:
        frame = release.tables.get(name)
        if frame is None:
            continue
        path = work / f"{name}.parquet"
        frame.to_parquet(path, index=False)
        files[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    if text is not None:
        (work / "instrument.yaml").write_text(text, encoding="utf-8")
    manifest["files"] = files
    (work / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False,
                                                   default=str), encoding="utf-8")
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=".release-old-", dir=target.parent))
        os.replace(target, old / "release")
        os.replace(work, target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(work, target)
    return target


class _LazyTables(Mapping):
    """The tables of a release folder, each read from its Parquet file on first use.

    A page that shows a few tables (a leader's: units, factors, rates, comparisons) keeps only
    those in memory; the others are never read.
    """

    def __init__(self, folder: Path):
        self._folder = folder
        self._read: dict[str, pd.DataFrame] = {}

    def __getitem__(self, name: str) -> pd.DataFrame:
        if name not in TABLES:
            raise KeyError(name)
        if name not in self._read:
            path = self._folder / f"{name}.parquet"
            self._read[name] = pd.read_parquet(path) if path.is_file() else pd.DataFrame()
        return self._read[name]

    def __iter__(self):
        return iter(TABLES)

    def __len__(self) -> int:
        return len(TABLES)

    def __repr__(self) -> str:
        return f"<tables of {self._folder}: read {sorted(self._read)}>"


def read_release(folder: str | Path, lazy: bool = False) -> Release:
    """Read a release folder written by :func:`write_release`.

    With ``lazy`` each table is read when first asked for (what a Voila kernel does: it
    shows a few of the tables and holds only those).
    """
    folder = Path(folder)
    if not is_release(folder):
        raise UsageError(f"{folder} is not a release folder (no manifest.json of a release); "
                         f"make one with 'workbench release DATASET --out {folder}'")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise UsageError(f"{folder}: release format {manifest.get('format')} is not "
                         f"{FORMAT}; build it again with 'workbench release'")
    tables: Mapping[str, pd.DataFrame] = _LazyTables(folder)
    if not lazy:
        tables = {name: tables[name] for name in TABLES}
    text = (folder / "instrument.yaml").read_text(encoding="utf-8")
    instrument = parse_instrument_text(text, source=str(folder / "instrument.yaml"))
    # kept as a built release keeps it, so that writing a release read from disk (a copy
    # elsewhere) writes its instrument.yaml too
    manifest["instrument_text"] = text
    return Release(tables=tables, manifest=manifest, instrument=instrument,
                   config=_config_of(manifest["survey"]), path=folder)


def _fresh(dataset: Path, cache: Path) -> bool:
    """The cached release was built from exactly the dataset's current files."""
    if not is_release(cache):
        return False
    try:
        manifest = json.loads((cache / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("format") != FORMAT or manifest.get("code") != code_fingerprint():
        return False
    current = _checksums(dataset, create=False)
    return current is not None and manifest.get("checksums") == current


def open_release(path: str | Path, write: bool = True) -> Release:
    """The release of a dataset folder, or a release folder as it is.

    For a dataset folder the release in ``DATASET/.workbench/release`` is read when it was
    built from the same files by the same code (checksums in its manifest); otherwise it is
    built, and written there when ``write`` is true (so the next command, the apps and the
    handouts reuse it).

    Raises
    ------
    UsageError
        When ``path`` is neither a dataset folder (with survey.yaml) nor a release folder.
    DatasetError
        When the dataset cannot be loaded.
    """
    from workbench.validate import load_survey

    folder = Path(path)
    if is_release(folder):
        return read_release(folder)
    if not (folder / "survey.yaml").is_file():
        raise UsageError(f"{folder} is neither a dataset folder (with survey.yaml) nor a release "
                         f"folder (with manifest.json)")
    cache = folder / CACHE
    if _fresh(folder, cache):
        return read_release(cache)
    survey = load_survey(folder)
    release = build_release(survey)
    if write:
        try:
            write_release(release, cache)
            return read_release(cache)
        except OSError:
            return release  # a read-only dataset folder: the release stays in memory
    return release


def as_release(source) -> Release:
    """A release from what a caller holds: a Release as it is, a loaded Survey's release built
    in memory, or a dataset or release folder (:func:`open_release`)."""
    if isinstance(source, Release):
        return source
    if isinstance(source, Survey):
        return build_release(source)
    return open_release(source)
