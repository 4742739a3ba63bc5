from workbench.apps.overview import OverviewState, report_table, structure_table, wave_table
from workbench.validate import validate_dataset


def test_overview_tables(tiny_dataset):
    result = validate_dataset(tiny_dataset())
    waves = wave_table(result.survey, "en")
    # 10 answers of 13 invited, by hand
    assert waves.iloc[0].tolist() == ["2021", "10", "13", "77%"]
    nb = wave_table(result.survey, "nb")
    assert nb.columns.tolist() == ["Runde", "Svar", "Inviterte", "Svarprosent"]
    assert nb.iloc[0]["Svarprosent"].replace("\xa0", " ") == "77 %"
    assert structure_table(result.survey, "en")["Units"].tolist() == [1, 2]
    assert report_table(result.report, "en")["Rejected"].tolist() == ["0", "0", "0"]


def test_state_ignores_untrusted_language():
    state = OverviewState("x")
    assert state.with_lang("en").lang == "en"
    assert state.with_lang("<script>").lang == "nb"
