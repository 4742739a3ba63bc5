"""Plain words for comparisons: what each finding means and how small a difference a unit
can tell from chance, with the unit's own numbers.

One home for these sentences: the handouts, the leader page and the explorer all say them
(the finding codes come from :func:`workbench.compare.classify`; numbers are formatted by
:func:`workbench.i18n.number`, with the decimal comma in bokmål).

Examples
--------
>>> detectable_sentence(7, 0.86, "nb")
'Med 7 svar må en forskjell som regel være minst 0,9 poeng for å kunne skilles fra \
tilfeldigheter.'
>>> detectable_sentence(7, 0.86, "en")
'With 7 answers, a difference usually has to be at least 0.9 points to be told from chance.'
>>> finding_word("similar", "en")
'About the same'
>>> [word for word, _ in finding_legend(0.2, "nb")][:2]
['Høyere', 'Lavere']
"""

from __future__ import annotations

import math
from typing import Any

from workbench.i18n import check_lang, number

__all__ = ["THRESHOLD", "FINDINGS", "CODE_WORDS", "finding_word", "finding_legend",
           "detectable_sentence", "threshold_sentence", "median_detectable", "unit_detectable",
           "comparison_reading"]

#: The smallest difference (in points on the scale) that counts as real (DESIGN.md).
THRESHOLD = 0.2

#: The finding codes of a comparison, in the order a legend lists them.
FINDINGS = ("higher", "lower", "small", "similar", "unclear")

#: The workshop store's codes (:data:`workbench.workshop.STATUSES`, ``IMPACTS``,
#: ``FEASIBILITIES``) in words (bokmål, English), as the pages and handouts show them; the
#: bokmål words are among those ``workbench workshop import`` reads back.
CODE_WORDS = {
    "planned": ("planlagt", "planned"), "started": ("startet", "started"),
    "done": ("ferdig", "done"), "dropped": ("droppet", "dropped"),
    "large": ("stor", "large"), "small": ("liten", "small"),
    "easy": ("lett", "easy"), "hard": ("vanskelig", "hard"),
}

_WORDS = {
    "higher": ("Høyere", "Higher"),
    "lower": ("Lavere", "Lower"),
    "small": ("Liten forskjell", "Small difference"),
    "similar": ("Omtrent likt", "About the same"),
    "unclear": ("Kan ikke avgjøres", "Cannot tell"),
    "suppressed": ("skjult", "suppressed"),
    "no_benchmark": ("Ingen sammenligningstall", "No benchmark figure"),
}

_MEANINGS = {
    "higher": ("Enheten ligger høyere, og forskjellen er reell: statistisk sikker, også etter "
               "justering for at mange faktorer testes samtidig, og minst {t} poeng.",
               "The unit is higher, and the difference is real: statistically certain, also "
               "after adjusting for testing many factors at once, and at least {t} points."),
    "lower": ("Enheten ligger lavere, og forskjellen er reell: statistisk sikker, også etter "
              "justering for at mange faktorer testes samtidig, og minst {t} poeng.",
              "The unit is lower, and the difference is real: statistically certain, also "
              "after adjusting for testing many factors at once, and at least {t} points."),
    "small": ("Forskjellen er statistisk sikker, men under {t} poeng: for liten til å bety "
              "mye i praksis.",
              "The difference is statistically certain, but under {t} points: too small to "
              "matter much in practice."),
    "similar": ("Forskjellen er med stor sikkerhet mindre enn {t} poeng: dere ligger omtrent "
                "likt.",
                "The difference is almost certainly under {t} points: the two are about the "
                "same."),
    "unclear": ("For få svar til å skille forskjellen fra tilfeldigheter. Det betyr ikke at "
                "det er likt, bare at tallene ikke kan avgjøre det.",
                "Too few answers to tell the difference from chance. It does not mean the two "
                "are the same, only that the figures cannot tell."),
}


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if check_lang(lang) == "en" else pair[0]


def finding_word(finding: str, lang: str = "nb") -> str:
    """The short word for a finding code (``higher`` -> "Høyere" / "Higher").

    An unknown code comes back as it is.
    """
    pair = _WORDS.get(str(finding))
    return _pick(pair, lang) if pair else str(finding)


def finding_legend(threshold: float = 0.2, lang: str = "nb") -> list[tuple[str, str]]:
    """What each finding word means, as ``(word, meaning)`` pairs in :data:`FINDINGS` order.

    Examples
    --------
    >>> finding_legend(0.2, "en")[2]
    ('Small difference', 'The difference is statistically certain, but under 0.2 points: too \
small to matter much in practice.')
    """
    t = number(threshold, lang, 1)
    return [(finding_word(code, lang), _pick(_MEANINGS[code], lang).format(t=t))
            for code in FINDINGS]


def threshold_sentence(threshold: float = 0.2, lang: str = "nb") -> str:
    """When a difference counts as real.

    Examples
    --------
    >>> threshold_sentence(0.2, "nb")
    'En forskjell regnes som reell bare hvis den er statistisk sikker og minst 0,2 poeng.'
    """
    t = number(threshold, lang, 1)
    return _pick((f"En forskjell regnes som reell bare hvis den er statistisk sikker og minst "
                  f"{t} poeng.",
                  f"A difference counts as real only if it is statistically certain and at "
                  f"least {t} points."), lang)


def _points(value: float, lang: str, avoid: str = "") -> str:
    """``value`` with one decimal, or two when one decimal would read as ``avoid``."""
    shown = number(value, lang, 1)
    return number(value, lang, 2) if shown == avoid else shown


def detectable_sentence(n: Any, detectable: Any, lang: str = "nb",
                        threshold: float = 0.2) -> str:
    """How small a difference a unit with ``n`` answers can tell from chance.

    Parameters
    ----------
    n
        The unit's answers (persons).
    detectable
        The smallest difference its comparison could call real (the ``detectable`` column
        of :func:`workbench.compare.compare`; for a whole comparison, its median).
    lang
        ``nb`` or ``en``.
    threshold
        The practical threshold: a ``detectable`` at the threshold means that every
        difference that matters can be told.

    Returns
    -------
    str
        "" when ``n`` or ``detectable`` is missing.

    Examples
    --------
    >>> detectable_sentence(412, 0.2, "en")
    'With 412 answers, every difference that matters (at least 0.2 points) can be told from \
chance.'
    """
    try:
        n_value, d_value = float(n), float(detectable)
    except (TypeError, ValueError):
        return ""
    if not (math.isfinite(n_value) and math.isfinite(d_value)):
        return ""
    answers = number(n_value, lang, 0)
    # "usually": the figure is a median over the factors, and Holm's later tests, or a
    # factor everyone answered alike, can tell a smaller difference (a newcomer, helper-19,
    # saw a "higher" of 0.7 under "differences under 1.2 cannot be told")
    if d_value <= threshold + 1e-9:
        t = number(threshold, lang, 1)
        return _pick((f"Med {answers} svar kan alle forskjeller som betyr noe (minst {t} poeng) "
                      "skilles fra tilfeldigheter.",
                      f"With {answers} answers, every difference that matters (at least {t} "
                      "points) can be told from chance."), lang)
    shown = _points(d_value, lang, avoid=number(threshold, lang, 1))
    return _pick((f"Med {answers} svar må en forskjell som regel være minst {shown} poeng for "
                  "å kunne skilles fra tilfeldigheter.",
                  f"With {answers} answers, a difference usually has to be at least {shown} "
                  "points to be told from chance."), lang)


def median_detectable(comparisons) -> float:
    """The median ``detectable`` of a comparison table's tested rows (NaN when none)."""
    if comparisons is None or not len(comparisons) or "detectable" not in comparisons:
        return math.nan
    rows = comparisons
    if "suppressed" in rows:
        rows = rows.loc[~rows["suppressed"].astype(bool)]
    values = rows["detectable"].astype("float64").dropna()
    return float(values.median()) if len(values) else math.nan


_READING = {
    "why_unclear": (
        "Derfor står det ofte «kan ikke avgjøres» for en liten enhet: gjennomsnittet av få "
        "personer svinger mye av tilfeldige grunner, så bare store forskjeller kan skilles "
        "fra tilfeldigheter.",
        "That is why a small unit often reads 'cannot tell': the mean of a few persons "
        "varies a lot by chance, so only large differences can be told from chance."),
    "interval": (
        "Intervallet viser hvor stor forskjellen sannsynligvis er (95 % sikkerhet): går det "
        "over null, kan forskjellen like gjerne gå den andre veien. Det er ikke justert for at "
        "mange faktorer testes samtidig, men ordet er det: et intervall som så vidt ikke går "
        "over null, kan derfor stå som «kan ikke avgjøres».",
        "The interval shows how large the difference probably is (95% confidence): when it "
        "spans zero, the difference may just as well go the other way. It is not adjusted for "
        "testing many factors at once, but the word is: an interval that only just misses zero "
        "can therefore read 'cannot tell'."),
}


def unit_detectable(comparisons) -> tuple[float, float]:
    """``(n, detectable)`` of one unit's comparison table: the medians over its tested rows
    (the unit's answers differ a little between factors); NaN when no row was tested."""
    d = median_detectable(comparisons)
    if not math.isfinite(d):
        return math.nan, math.nan
    rows = comparisons.loc[comparisons["detectable"].astype("float64").notna()]
    if "suppressed" in rows:
        rows = rows.loc[~rows["suppressed"].astype(bool)]
    n = rows["n"].astype("float64").dropna()
    return (float(n.median()) if len(n) else math.nan), d


def comparison_reading(comparisons, lang: str = "nb", threshold: float = THRESHOLD
                       ) -> list[str]:
    """The sentences that explain one unit's comparison with its own numbers: what it can
    tell (:func:`detectable_sentence`), why a small unit reads "cannot tell" when that is
    so, and how to read the interval.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"n": [7, 7, 6], "detectable": [0.9, 0.95, 1.1],
    ...                       "suppressed": [False, False, False]})
    >>> comparison_reading(table, "en")[0]
    'With 7 answers, a difference usually has to be at least 1.0 points to be told from chance.'
    """
    n, d = unit_detectable(comparisons)
    out = [s for s in (detectable_sentence(round(n) if math.isfinite(n) else n, d, lang,
                                           threshold),) if s]
    if math.isfinite(d) and d >= 1.5 * threshold:  # well above what counts as real
        out.append(_pick(_READING["why_unclear"], lang))
    out.append(_pick(_READING["interval"], lang))
    return out
