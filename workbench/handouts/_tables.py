"""The published tables behind handouts, computed once per batch and cut per unit.

:class:`Published` runs the statistics layer once for a whole batch (the factor table of every
wave, the item table and the extra questions of the handout's wave) and cuts one unit's views
out of it, so that ``workbench handouts --all`` never aggregates per unit. Every table here
passed :func:`workbench.privacy.protect`; nothing below sees respondent rows except
:meth:`Published.compute`, which hands them straight to the statistics layer.

Comparisons are computed from the published statistics of the unit and its parent (or its
earlier wave, or the benchmark) alone: as :mod:`workbench.compare` says, a comparison shows
nothing that those published numbers do not. The tests check that the results equal
:func:`workbench.compare.compare`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from workbench.compare import ALPHA, adjust_pvalues, classify, one_sample_test, welch_test
from workbench.errors import UsageError
from workbench.privacy import PrivacyPolicy
from workbench.stats import check_unit, check_wave, stats_table
from workbench.survey import Survey

__all__ = ["Published", "COMPARISON_COLUMNS", "HandoutRefused"]

#: Columns of :meth:`Published.comparison`.
COMPARISON_COLUMNS = ("against", "key", "label", "mean", "other_mean", "diff", "p", "p_adj", "d",
                      "n", "other_n", "other_id", "other_wave", "finding", "suppressed",
                      "reason")

_FACTOR_COLUMNS = ("wave", "unit_id", "unit_name", "key", "label", "n", "invited", "answers",
                   "mean", "sd", "ci_low", "ci_high", "top_box", "suppressed", "reason")


class HandoutRefused(UsageError):
    """The unit gets no handout: it is not published in the wave (privacy rules)."""


def _extra_table(survey: Survey, wave: str, question) -> pd.DataFrame:
    """Protected counts of one extra question for every unit (as views.category_distribution).

    The view computes this table for all units and keeps one; a batch keeps all of them.
    """
    from workbench.views import category_table

    order = sorted(question.codes)
    responses = survey.responses
    raw = responses.loc[responses["wave"] == wave, question.id]
    raw = raw.to_numpy(dtype="float64", na_value=np.nan)
    position = {c: i for i, c in enumerate(order)}
    codes = np.array([position.get(int(v), np.nan) if v == v else np.nan for v in raw])
    table = category_table(survey, wave, codes, len(order), question.id)
    return table.set_index("unit_id")


def _s1_s2(n, mean, sd) -> tuple[np.ndarray, np.ndarray]:
    """Sums of values and of squares from n, mean and sd (denominator n - 1)."""
    n = np.asarray(n, dtype="float64")
    mean = np.asarray(mean, dtype="float64")
    sd = np.nan_to_num(np.asarray(sd, dtype="float64"))
    s1 = mean * n
    return s1, (n - 1) * sd ** 2 + s1 * mean


def _reasons(size: int, *conditions) -> np.ndarray:
    """The first reason whose condition holds, per key ('' = nothing hidden)."""
    reason = np.full(size, "", dtype=object)
    for condition, text in reversed(conditions):
        reason = np.where(np.broadcast_to(np.asarray(condition, dtype=bool), (size,)), text,
                          reason)
    return reason.astype(object)


@dataclass(frozen=True, eq=False)
class Published:
    """Protected tables of one survey for one wave and language, shared by a batch.

    Build it with :meth:`compute`. It keeps a reference to the survey only to name units and
    read the instrument and benchmarks; its tables are the protected ones.

    Attributes
    ----------
    wave
        The handouts' wave.
    lang
        Language of names and labels.
    factors
        :func:`workbench.stats.stats_table` at factor level, every wave.
    items
        The same at item level, for ``wave``.
    extra
        ``(wave, question id)`` -> protected category table of an extra question (index
        ``unit_id``), for the instrument's extra questions.
    policy
        The privacy policy.
    """

    survey: Survey
    wave: str
    lang: str
    factors: pd.DataFrame
    items: pd.DataFrame
    extra: Mapping[tuple[str, str], pd.DataFrame]
    policy: PrivacyPolicy
    threshold: float = 0.2

    @classmethod
    def compute(cls, survey: Survey, wave: str | int | None = None,
                lang: str = "nb") -> "Published":
        """Aggregate and protect once: every wave's factor table, the wave's item table."""
        label = survey.waves[-1] if wave is None else check_wave(survey, wave)[0]
        if lang not in ("nb", "en"):
            raise UsageError(f"lang must be 'nb' or 'en', got {lang!r}")
        factors = stats_table(survey, level="factor", lang=lang)
        items = stats_table(survey, wave=label, level="item", lang=lang)
        extra = {}
        for question in survey.instrument.extra:
            if question.id not in survey.responses.columns:
                continue
            waves = survey.waves if question.id.startswith("appraisal") else (label,)
            for w in waves:
                extra[(w, question.id)] = _extra_table(survey, w, question)
        return cls(survey=survey, wave=label, lang=lang, factors=factors, items=items,
                   extra=extra, policy=PrivacyPolicy.from_config(survey.config))

    # ---- units ------------------------------------------------------------------------------

    @property
    def hierarchy(self):
        return self.survey.hierarchy(self.wave)

    @functools.cached_property
    def _positions(self) -> dict:
        """(table name, wave, unit) -> row positions: a handout reads a few units' rows many
        times, and a filter over the whole table each time cost more than the rest."""
        out = {}
        for name in ("factors", "items"):
            table = getattr(self, name)
            keys = zip(table["wave"].astype(str), table["unit_id"].astype(str))
            for i, key in enumerate(keys):
                out.setdefault((name, *key), []).append(i)
        return {key: np.asarray(value) for key, value in out.items()}

    def _cut(self, name: str, unit: str, wave: str) -> pd.DataFrame:
        table = getattr(self, name)
        rows = self._positions.get((name, str(wave), str(unit)), np.empty(0, dtype=int))
        return table.iloc[rows].reset_index(drop=True)

    def rows(self, unit: str, wave: str | None = None) -> pd.DataFrame:
        """The unit's published factor rows in ``wave`` (default: the handout's wave)."""
        return self._cut("factors", unit, wave or self.wave)

    def status(self, unit: str) -> str:
        """'' when the unit is published in the wave, else the privacy reason."""
        check_unit(self.survey, unit, self.wave)
        rows = self.rows(unit)
        if len(rows) and not rows["suppressed"].all():
            return ""
        reasons = [r for r in rows["reason"] if r]
        return reasons[0] if reasons else "min_n"

    def check_published(self, unit: str) -> None:
        """Raise :class:`HandoutRefused` (one clear line) when the unit gets no handout."""
        reason = self.status(unit)
        if not reason:
            return
        why = {"min_n": f"fewer than {self.policy.min_n} answers (min_n)",
               "no_answers": "no answers (no_answers)",
               "complement": "suppressed so that no smaller group can be derived (complement)"}
        raise HandoutRefused(f"unit {unit!r} is not published in wave {self.wave}: "
                             f"{why.get(reason, reason)}; it gets no handout")

    def published_units(self) -> tuple[list[str], list[tuple[str, str]]]:
        """Units that get a handout (hierarchy order) and ``(unit, reason)`` of the others."""
        table = self.factors[self.factors["wave"] == self.wave]
        hidden = table.groupby("unit_id", sort=False)["suppressed"].all()
        reasons = table[table["reason"] != ""].groupby("unit_id", sort=False)["reason"].first()
        ok, skipped = [], []
        for unit in self.hierarchy.ids:
            if unit in hidden.index and not hidden[unit]:
                ok.append(unit)
            else:
                skipped.append((unit, str(reasons.get(unit, "no_answers"))))
        return ok, skipped

    # ---- views ------------------------------------------------------------------------------

    def trend(self, unit: str) -> pd.DataFrame:
        """The unit's factor rows in every wave up to the handout's (waves it existed in)."""
        waves = self.survey.waves[: self.survey.waves.index(self.wave) + 1]
        table = self.factors
        rows = table[(table["unit_id"] == unit) & table["wave"].isin(waves)]
        return rows.reset_index(drop=True)

    def item_rows(self, unit: str) -> pd.DataFrame:
        return self._cut("items", unit, self.wave)

    def alike_different(self, unit: str, k: int = 5) -> pd.DataFrame:
        """As :func:`workbench.views.alike_different`, cut from the batch's item table."""
        items = self.item_rows(unit)
        items = items[~items["suppressed"]].dropna(subset=["sd"])
        columns = ["key", "label", "mean", "sd", "n"]
        alike = items.nsmallest(k, "sd")[columns].assign(kind="alike")
        different = items.nlargest(k, "sd")[columns].assign(kind="different")
        return pd.concat([alike, different], ignore_index=True)[["kind", *columns]]

    def category(self, unit: str, question: str, wave: str | None = None) -> pd.DataFrame:
        """As :func:`workbench.views.category_distribution`; empty without the question."""
        wave = wave or self.wave
        table = self.extra.get((wave, question))
        q = next((q for q in self.survey.instrument.extra if q.id == question), None)
        columns = ["code", "label", "share", "n", "suppressed", "reason"]
        if table is None or q is None or unit not in table.index:
            return pd.DataFrame(columns=columns)
        row = table.loc[unit]
        order = sorted(q.codes)
        return pd.DataFrame({
            "code": order,
            "label": [q.codes[c](self.lang) for c in order],
            "share": [row[f"pct_{i + 1}"] for i in range(len(order))],
            "n": int(row["n"]),
            "suppressed": bool(row["suppressed"]),
            "reason": row["reason"],
        })

    def appraisal(self, unit: str) -> pd.DataFrame:
        """As :func:`workbench.views.appraisal`, waves up to the handout's."""
        columns = ["wave", "had_share", "had_n", "useful_mean", "useful_n", "suppressed",
                   "reason"]
        ids = self.survey.instrument.extra_ids
        if "appraisal" not in ids or "appraisal_useful" not in ids:
            return pd.DataFrame(columns=columns)
        rows = []
        for wave in self.survey.waves[: self.survey.waves.index(self.wave) + 1]:
            had = self.category(unit, "appraisal", wave)
            useful = self.category(unit, "appraisal_useful", wave)
            if had.empty or useful.empty:
                continue
            yes = had[had["code"] == 1].iloc[0]
            hidden = bool(yes["suppressed"] or useful["suppressed"].iloc[0])
            shares = useful["share"].to_numpy(dtype="float64") / 100.0
            mean = np.nan if hidden else float(np.dot(shares, useful["code"].to_numpy()))
            rows.append({"wave": wave, "had_share": np.nan if hidden else yes["share"],
                         "had_n": int(yes["n"]), "useful_mean": mean,
                         "useful_n": int(useful["n"].iloc[0]), "suppressed": hidden,
                         "reason": yes["reason"] or useful["reason"].iloc[0]})
        return pd.DataFrame(rows, columns=columns)

    def benchmark(self, unit: str) -> tuple[str, pd.DataFrame]:
        """The unit's benchmark id (its ``benchmark_by`` value, else ``all``) and its rows.

        Returns ``("", empty)`` when the survey has no benchmark for the wave.
        """
        bench = self.survey.benchmarks
        empty = pd.DataFrame(columns=["factor", "mean", "sd", "n"])
        if bench is None or bench.empty:
            return "", empty
        part = bench[bench["wave"].astype(str) == self.wave]
        part = part.assign(benchmark=part["benchmark"].astype(str),
                           factor=part["factor"].astype(str))
        by = self.survey.config.benchmark_by
        units = self.hierarchy.units.set_index("unit_id")
        own = str(units.at[unit, by]) if by and by in units.columns else ""
        for name in (own, "all"):
            rows = part[part["benchmark"] == name]
            if name and len(rows):
                keep = [c for c in ("factor", "mean", "sd", "n") if c in rows.columns]
                return name, rows[keep].drop_duplicates("factor").reset_index(drop=True)
        return "", empty

    # ---- comparisons ------------------------------------------------------------------------

    def comparison(self, unit: str, against: str) -> pd.DataFrame | None:
        """The unit against its parent's rest, its previous wave or its benchmark.

        Same numbers and findings as :func:`workbench.compare.compare` (Holm across the
        factors, threshold 0.2), computed from the published tables. None when the comparison
        does not exist (the root has no parent, no previous wave, no benchmarks).

        Returns
        -------
        DataFrame
            :data:`COMPARISON_COLUMNS`; ``suppressed`` rows (with ``reason``) have no mean,
            difference, p or d.
        """
        min_n = self.policy.min_n
        now = self.rows(unit)
        size = len(now)
        hidden_now = [(now["n"].to_numpy() < min_n, "unit_too_few"),
                      (now["suppressed"].to_numpy(), "unit_suppressed")]
        other_wave = self.wave
        if against == "parent":
            parent = self.hierarchy.parent(unit)
            if parent is None:
                return None
            prow = self.rows(parent).set_index("key").reindex(now["key"])
            n_p, n_u = prow["n"].to_numpy(dtype="float64"), now["n"].to_numpy(dtype="float64")
            p1, p2 = _s1_s2(n_p, prow["mean"], prow["sd"])
            u1, u2 = _s1_s2(n_u, now["mean"], now["sd"])
            rest_n = n_p - n_u
            with np.errstate(divide="ignore", invalid="ignore"):
                other_mean = np.where(rest_n > 0, (p1 - u1) / rest_n, np.nan)
                var = ((p2 - u2) - (p1 - u1) ** 2 / rest_n) / (rest_n - 1)
            other_sd = np.where(rest_n > 1, np.sqrt(np.clip(var, 0.0, None)), np.nan)
            invited_p = prow["invited"].to_numpy(dtype="float64", na_value=np.nan)
            invited_u = now["invited"].to_numpy(dtype="float64", na_value=np.nan)
            test = welch_test(now["mean"], now["sd"], n_u, other_mean, other_sd, rest_n,
                              invited_u, invited_p - invited_u)
            reason = _reasons(size, *hidden_now,
                              (prow["suppressed"].fillna(True).to_numpy(dtype=bool),
                               "parent_suppressed"),
                              (rest_n == 0, "no_rest"), (rest_n < min_n, "rest_too_few"))
            other_n, other_id = rest_n, parent
        elif against == "previous":
            index = self.survey.waves.index(self.wave)
            if index == 0 or unit not in self.survey.hierarchy(self.survey.waves[index - 1]):
                return None
            other_wave = self.survey.waves[index - 1]
            then = self.rows(unit, other_wave).set_index("key").reindex(now["key"])
            other_mean = then["mean"].to_numpy(dtype="float64")
            other_n = then["n"].to_numpy(dtype="float64")
            test = welch_test(now["mean"], now["sd"], now["n"], other_mean, then["sd"],
                              other_n, now["invited"].to_numpy(dtype="float64", na_value=np.nan),
                              then["invited"].to_numpy(dtype="float64", na_value=np.nan))
            reason = _reasons(size, *hidden_now,
                              (other_n < min_n, "previous_too_few"),
                              (then["suppressed"].fillna(True).to_numpy(dtype=bool),
                               "previous_suppressed"))
            other_id = unit
        elif against == "benchmark":
            name, bench = self.benchmark(unit)
            if not name:
                return None
            b = bench.set_index("factor").reindex(now["key"])
            other_mean = b["mean"].to_numpy(dtype="float64")
            sd = b["sd"].to_numpy(dtype="float64") if "sd" in b else np.full(size, np.nan)
            other_n = b["n"].to_numpy(dtype="float64") if "n" in b else np.full(size, np.nan)
            invited = now["invited"].to_numpy(dtype="float64", na_value=np.nan)
            welch = welch_test(now["mean"], now["sd"], now["n"], other_mean, sd, other_n,
                               invited, np.nan)
            test = one_sample_test(now["mean"], now["sd"], now["n"], other_mean, invited)
            two = np.isfinite(sd) & np.isfinite(other_n) & (other_n > 1)
            test.loc[two, :] = welch.loc[two, :]
            reason = _reasons(size, *hidden_now)
            other_id = name
        else:
            raise UsageError(f"against must be parent, previous or benchmark, got {against!r}")
        hide = reason != ""
        out = pd.DataFrame({"against": against, "key": now["key"], "label": now["label"]})
        for column, values in (("mean", now["mean"]), ("other_mean", other_mean),
                               ("diff", test["diff"]), ("p", test["p"]), ("d", test["d"])):
            values = np.asarray(values, dtype="float64").copy()
            values[hide] = np.nan
            out[column] = values
        if against == "benchmark":
            missing = ~np.isfinite(other_mean)
            out.loc[missing, ["other_mean", "diff", "p", "d"]] = np.nan
        out["p_adj"] = adjust_pvalues(out["p"].to_numpy(), "holm")
        out["n"] = now["n"].to_numpy()
        out["other_n"] = np.asarray(other_n, dtype="float64")
        out["other_id"] = other_id
        out["other_wave"] = other_wave
        found = classify(out["diff"], out["p_adj"], self.threshold, ALPHA)
        if against == "benchmark":
            found = np.where(~np.isfinite(other_mean) & ~hide, "no_benchmark", found)
        out["finding"] = found
        out["suppressed"] = hide
        out["reason"] = reason
        return out.loc[:, list(COMPARISON_COLUMNS)]
