"""Plain words for comparisons: the finding key and the smallest difference a unit can tell."""

from __future__ import annotations

import doctest
import math

import pytest

from workbench import words


def test_doctests_run():
    failed, attempted = doctest.testmod(words)
    assert attempted > 0 and failed == 0


@pytest.mark.parametrize("n, detectable, lang, expected", [
    (7, 0.86, "nb", "Med 7 svar må en forskjell som regel være minst 0,9 poeng for å kunne "
                    "skilles fra tilfeldigheter."),
    (7, 0.86, "en", "With 7 answers, a difference usually has to be at least 0.9 points to be "
                    "told from chance."),
    (12, 1.249, "nb", "Med 12 svar må en forskjell som regel være minst 1,2 poeng for å kunne "
                      "skilles fra tilfeldigheter."),
    # one decimal would read as the threshold itself: two decimals instead
    (40, 0.21, "en", "With 40 answers, a difference usually has to be at least 0.21 points to "
                     "be told from chance."),
    (412, 0.2, "nb", "Med 412 svar kan alle forskjeller som betyr noe (minst 0,2 poeng) "
                     "skilles fra tilfeldigheter."),
    (5887, 0.2, "en", "With 5,887 answers, every difference that matters (at least 0.2 "
                      "points) can be told from chance."),
])
def test_detectable_sentence(n, detectable, lang, expected):
    assert words.detectable_sentence(n, detectable, lang) == expected


def test_detectable_sentence_without_numbers_is_empty():
    assert words.detectable_sentence(None, 0.5) == ""
    assert words.detectable_sentence(7, math.nan) == ""


def test_finding_legend_names_every_finding_with_the_threshold():
    nb = words.finding_legend(0.3, "nb")
    en = words.finding_legend(0.3, "en")
    assert [w for w, _ in nb] == ["Høyere", "Lavere", "Liten forskjell", "Omtrent likt",
                                  "Kan ikke avgjøres"]
    assert [w for w, _ in en] == ["Higher", "Lower", "Small difference", "About the same",
                                  "Cannot tell"]
    assert all("0,3" in meaning for _, meaning in nb[:4])
    assert all("0.3" in meaning for _, meaning in en[:4])
    assert "tilfeldigheter" in nb[4][1] and "chance" in en[4][1]
    assert words.threshold_sentence(0.2, "en") == \
        "A difference counts as real only if it is statistically certain and at least 0.2 " \
        "points."


def test_finding_word_and_median():
    import pandas as pd

    assert words.finding_word("unclear", "nb") == "Kan ikke avgjøres"
    assert words.finding_word("no_benchmark", "en") == "No benchmark figure"
    table = pd.DataFrame({"detectable": [0.2, 0.9, 1.1, math.nan],
                          "suppressed": [False, False, False, True]})
    assert words.median_detectable(table) == 0.9
    assert math.isnan(words.median_detectable(table.iloc[3:]))
