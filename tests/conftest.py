"""Shared fixtures: repository paths and a tiny dataset builder."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data_samples"
REALDATA = ROOT.parent / "shared" / "realdata"


@pytest.fixture
def tiny_dataset(tmp_path: Path):
    """Write a small valid tifaktor dataset; keyword arguments replace whole files."""

    def make(**files: str) -> Path:
        from workbench.instrument import load_instrument

        items = load_instrument("tifaktor").item_ids
        header = ",".join(["respondent_id", "wave", "unit_id", *items])
        rows = [f"r{i},2021,{'S1' if i < 6 else 'S2'}," + ",".join(["4"] * len(items))
                for i in range(10)]
        defaults = {
            "survey.yaml": "name: Tiny\ninstrument: tifaktor\nwaves: [2021]\n",
            "units.csv": "unit_id,parent_id,name\nK,,Kommune\nS1,K,Skole\nS2,K,Barnehage\n",
            "headcount.csv": "wave,unit_id,invited\n2021,S1,8\n2021,S2,5\n",
            "responses.csv": header + "\n" + "\n".join(rows) + "\n",
        }
        defaults.update({k.replace("__", "."): v for k, v in files.items()})
        for name, text in defaults.items():
            if text is not None:
                (tmp_path / name).write_text(text, encoding="utf-8")
        return tmp_path

    return make
