"""Many leaders at once, smaller than the benchmark (benchmarks/leaders.py runs 30)."""

import sys

import pytest
from conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

sys.path.insert(0, str(ROOT / "benchmarks"))


def test_leaders_open_their_links_together():
    import leaders

    figures = leaders.run(leaders=6, pool_size=6, browser=3)
    print(figures)
    assert figures["first_view_shown"] == 6, figures["failures"]
    assert figures["failed_requests"] == 0, figures["failures"]
    assert figures["first_view_p95_s"] <= 3.0
    assert figures["browser_first_view_shown"] == figures["browser_pages"] == 3
    assert figures["browser_widgets_shown"] == 3
    assert figures["browser_failures"] == [] and figures["outside_requests"] == 0
    drawn = figures["kernel_memory_drawn_mb"]
    assert drawn["kernels"] == 6
    # what a kernel alone holds (USS, target 150 MB) and its share of what it shares with the
    # zygote and the other kernels (PSS); its RSS also counts every shared page (the libraries
    # and the release's tables, read once by the zygote), see the benchmark's text
    assert drawn["uss_max"] <= 150 and drawn["pss_max"] <= 200 and drawn["rss_max"] <= 320
    assert figures["zygote_memory_mb"]["kernels"] == 1
