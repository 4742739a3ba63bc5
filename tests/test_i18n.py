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
