"""The README's main command in a real browser: Voila serves the overview app on the samples."""

import re

import pytest
from conftest import ARTIFACTS, SAMPLES


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_overview_in_browser(serve, browser):
    served = serve(SAMPLES / "university")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(served.analyst("voila/render/overview.ipynb"), wait_until="domcontentloaded",
              timeout=120_000)
    page.get_by_text("Svarprosent").first.wait_for(timeout=120_000)
    text = page.inner_text("body")
    assert "Eksempeluniversitetet" in text
    for wave in ("2014", "2017", "2019", "2021"):
        assert wave in text
    page.screenshot(path=ARTIFACTS / "overview-nb.png", full_page=True)
    page.get_by_text("English").click()
    page.get_by_text("Response rate").first.wait_for(timeout=30_000)
    page.screenshot(path=ARTIFACTS / "overview-en.png", full_page=True)
    html = page.content()
    # no respondent ids and no source code reach the page
    assert not re.search(r"\b\d{2}-\d{6}\b", html)
    assert "overview_app(" not in html
    page.close()
