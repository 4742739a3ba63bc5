"""What a comparison can tell, in plain words: one home for the sentences the leader page, the
explorer and the handouts show beside a comparison.

A comparison's finding (:func:`workbench.compare.classify`) is one of ``higher``/``lower``
(a real difference: significant after adjustment and at least the threshold), ``small``,
``similar`` (the 90 % interval of the difference lies inside +- the threshold) and
``unclear`` (neither: too few answers to tell). How small a difference a unit can show
depends on its answers: the comparison table's ``detectable`` column holds, per row, the
smallest difference that row could call real.

Examples
--------
>>> detectable_sentence(7, 0.94, "nb")
'Med 7 svar kan forskjeller under 0,94 poeng ikke skilles fra tilfeldigheter.'
>>> detectable_sentence(43, 0.2, "en")
'With 43 answers, differences under 0.2 points cannot be called real (the threshold).'
>>> [word for word, _ in finding_legend(0.2, "en")]
['Higher / Lower', 'A small difference', 'About the same', 'Cannot tell']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.i18n import number

__all__ = ["THRESHOLD", "detectable_sentence", "finding_legend", "unit_detectable",
           "comparison_reading"]

#: The smallest difference (in points on the scale) that counts as real (DESIGN.md).
THRESHOLD = 0.2

_TOLERANCE = 1e-9

_TEXTS = {
    "detectable": (
        "Med {n} svar kan forskjeller under {d} poeng ikke skilles fra tilfeldigheter.",
        "With {n} answers, differences under {d} points cannot be told from chance."),
    "threshold": (
        "Med {n} svar kan forskjeller under {d} poeng ikke kalles reelle (terskelen).",
        "With {n} answers, differences under {d} points cannot be called real (the "
        "threshold)."),
    "why_unclear": (
        "Derfor står det ofte «kan ikke avgjøres» for en liten enhet: gjennomsnittet av få "
        "personer svinger mye av tilfeldige grunner, så bare store forskjeller kan skilles "
        "fra tilfeldigheter.",
        "That is why a small unit often reads 'cannot tell': the mean of a few persons "
        "varies a lot by chance, so only large differences can be told from chance."),
    "interval": (
        "Intervallet viser hvor stor forskjellen sannsynligvis er (95 % sikkerhet): går det "
        "over null, kan forskjellen like gjerne gå den andre veien.",
        "The interval shows how large the difference probably is (95 % confidence): when it "
        "spans zero, the difference may just as well go the other way."),
}

_LEGEND = (
    (("Høyere / Lavere",
      "En reell forskjell: statistisk sikker også når alle faktorene testes samtidig, og "
      "minst {t} poeng."),
     ("Higher / Lower",
      "A real difference: statistically certain even when all factors are tested together, "
      "and at least {t} points.")),
    (("En liten forskjell",
      "Statistisk sikker, men mindre enn {t} poeng: neppe noe å legge vekt på."),
     ("A small difference",
      "Statistically certain, but under {t} points: hardly worth weight.")),
    (("Omtrent likt",
      "Forskjellen er med stor sikkerhet mindre enn {t} poeng: dere ligger likt, og det "
      "vet vi."),
     ("About the same",
      "The difference is, with high confidence, under {t} points: you are alike, and we "
      "can tell.")),
    (("Kan ikke avgjøres",
      "For få svar til å si om det er en forskjell eller ikke: forskjellen kan være "
      "tilfeldig."),
     ("Cannot tell",
      "Too few answers to tell whether there is a difference: it may be chance.")),
)


def _say(key: str, lang: str, **fields) -> str:
    return _TEXTS[key][lang == "en"].format(**fields)


def detectable_sentence(n, detectable, lang: str = "nb", threshold: float = THRESHOLD) -> str:
    """"With N answers, differences under D cannot be told from chance", in bokmål or
    English; "" when ``n`` or ``detectable`` is missing.

    When ``detectable`` is the threshold itself (a large unit), the sentence says that the
    threshold, not chance, sets the bound.
    """
    if n is None or detectable is None or pd.isna(n) or pd.isna(detectable):
        return ""
    count = number(n, lang, 0)
    if float(detectable) <= threshold + _TOLERANCE:
        return _say("threshold", lang, n=count, d=number(threshold, lang, 1))
    return _say("detectable", lang, n=count, d=number(detectable, lang, 2))


def finding_legend(threshold: float = THRESHOLD, lang: str = "nb") -> list[tuple[str, str]]:
    """``(word, meaning)`` for each finding a comparison can give, in bokmål or English."""
    t = number(threshold, lang, 1)
    return [(pair[lang == "en"][0], pair[lang == "en"][1].format(t=t)) for pair in _LEGEND]


def unit_detectable(table: pd.DataFrame) -> tuple[float, float]:
    """``(n, detectable)`` of one unit's comparison table: the median over its tested rows
    (the unit's answers differ a little between factors); NaN when no row was tested."""
    if table is None or not len(table) or "detectable" not in table:
        return float("nan"), float("nan")
    d = pd.to_numeric(table["detectable"], errors="coerce").to_numpy(dtype="float64")
    n = pd.to_numeric(table["n"], errors="coerce").to_numpy(dtype="float64")
    tested = np.isfinite(d) & np.isfinite(n)
    if not tested.any():
        return float("nan"), float("nan")
    return float(np.median(n[tested])), float(np.median(d[tested]))


def comparison_reading(table: pd.DataFrame, lang: str = "nb",
                       threshold: float = THRESHOLD) -> list[str]:
    """The sentences that explain one unit's comparison with its own numbers: what it can
    tell (:func:`detectable_sentence`), why a small unit reads "cannot tell" when that is
    so, and how to read the interval."""
    n, d = unit_detectable(table)
    out = [s for s in (detectable_sentence(round(n) if np.isfinite(n) else n, d, lang,
                                           threshold),) if s]
    if np.isfinite(d) and d >= 1.5 * threshold:  # well above what counts as real
        out.append(_say("why_unclear", lang))
    out.append(_say("interval", lang))
    return out
