import datetime

from workbench.i18n import check_lang, date, number, percent, text


def test_numbers():
    assert number(4.126, "nb") == "4,13"
    assert number(4.126, "en") == "4.13"
    assert number(12345.5, "en", 1) == "12,345.5"
    assert number(12345.5, "nb", 0).replace("\xa0", " ") == "12 346"
    assert number(float("nan")) == "–" and number(None) == "–"


def test_percent_and_dates():
    assert percent(72.4, "nb").replace("\xa0", " ") == "72 %"
    assert percent(72.4, "en") == "72%"
    assert date(datetime.date(2026, 11, 22), "nb") == "22. november 2026"
    assert date(datetime.date(2026, 11, 22), "en") == "22 November 2026"


def test_text_and_lang():
    catalog = {"hello": ("Hei, {name}", "Hello, {name}")}
    assert text(catalog, "hello", "en", name="Kari") == "Hello, Kari"
    assert check_lang("<script>") == "nb"


def test_numbers_as_babel_formats_them():
    """number() takes a short way for numbers below 999; Babel's format_decimal with the
    locale's pattern is the reference for every value, rounding ties and signs included,
    except that a value rounding to zero shows no sign ("0,00", where Babel writes "-0,00")."""
    import numpy as np
    from babel.numbers import format_decimal

    rng = np.random.default_rng(20261122)
    values = [*rng.uniform(-6, 6, 3000), *rng.uniform(-1200, 1200, 1000), 2.675, 0.005, -0.004,
              -0.005, 999.995, 998.9951, 0.125, 1.005, 4.0, 1e-12, 0.0, -0.0]
    for value in values:
        for lang, babel_locale in (("nb", "nb_NO"), ("en", "en_GB")):
            for digits in (0, 1, 2):
                pattern = "#,##0" + ("." + "0" * digits if digits else "")
                expected = format_decimal(float(value), format=pattern, locale=babel_locale)
                if expected.lstrip("-\u2212").strip("0.,") == "":
                    expected = expected.lstrip("-\u2212")
                assert number(value, lang, digits) == expected, (value, lang, digits)
