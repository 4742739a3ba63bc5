"""Language helpers: numbers, percentages and dates in bokmål or English (Babel).

Bokmål uses the decimal comma and Norwegian dates ("22. november 2026"); English the
decimal point. Missing values show as an en dash. Texts of one module live beside it as
``{key: (bokmål, English)}`` and are looked up with :func:`text`.
"""

from __future__ import annotations

import datetime as _dt
import math
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Mapping

__all__ = ["LANGS", "locale", "number", "percent", "date", "text", "check_lang", "DASH"]

LANGS = ("nb", "en")
DASH = "–"


def check_lang(lang: str) -> str:
    """``lang`` when it is nb or en; anything else (e.g. from a browser) becomes nb."""
    return lang if lang in LANGS else "nb"


def locale(lang: str) -> str:
    """The Babel locale for a workbench language."""
    return "en_GB" if lang == "en" else "nb_NO"


def _missing(value) -> bool:
    try:
        return value is None or math.isnan(float(value))
    except (TypeError, ValueError):
        return True


def number(value, lang: str = "nb", digits: int = 2) -> str:
    """A number with ``digits`` decimals: 4,12 (nb) or 4.12 (en); "–" when missing.

    Babel formats it (digit grouping, the locale's signs); numbers below 999, most of what a
    survey shows, take a short way that gives the same text (Babel rounds
    ``Decimal(str(value))`` half to even, and so does this; a test holds the two equal) at a
    tenth of the cost: a handout or an explorer view formats thousands of them.
    """
    if _missing(value):
        return DASH
    v = float(value) + 0.0  # no "-0"
    if 0 < abs(v) < 999 and digits >= 0:
        exact = Decimal(str(v)).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)
        shown = ("-" if v < 0 and exact != 0 else "") + f"{abs(exact):.{digits}f}"
        return shown.replace(".", ",") if lang == "nb" else shown
    from babel.numbers import format_decimal

    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(v, format=pattern, locale=locale(lang))


def percent(value, lang: str = "nb", digits: int = 0) -> str:
    """A share given in percent (0-100): "72 %" (nb, no-break space) or "72%" (en)."""
    shown = number(value, lang, digits)
    if shown == DASH:
        return shown
    return shown + ("%" if lang == "en" else "\u00a0%")


def date(day: _dt.date, lang: str = "nb") -> str:
    """A date in words: "22. november 2026" (nb) or "22 November 2026" (en)."""
    from babel.dates import format_date

    return format_date(day, format="long", locale=locale(lang))


def text(catalog: Mapping[str, tuple[str, str]], key: str, lang: str = "nb", **fields) -> str:
    """Look up ``key`` in a ``{key: (bokmål, English)}`` catalog and fill in ``fields``."""
    nb, en = catalog[key]
    return (en if lang == "en" else nb).format(**fields)
