import pytest

from workbench.survey import ConfigProblem, read_config


def _config(tmp_path, text):
    (tmp_path / "survey.yaml").write_text(text, encoding="utf-8")
    return read_config(tmp_path)


def test_defaults(tmp_path):
    config, warnings = _config(tmp_path, "name: X\ninstrument: ark\nwaves: [2019, 2021]\n")
    assert config.waves == ("2019", "2021")
    assert (config.min_n, config.background_levels, config.language) == (5, (0,), "nb")
    assert config.name("en") == "X" and warnings == []


def test_bilingual_name_and_background(tmp_path):
    config, _ = _config(tmp_path, "name: {nb: Kommune, en: Municipality}\ninstrument: tifaktor\n"
                        "waves: ['2023']\nbackground:\n  age: {name: {nb: Alder, en: Age}, "
                        "values: {u30: {nb: Under 30 år, en: Under 30}}}\n")
    assert config.name("en") == "Municipality"
    assert config.background["age"].values["u30"]("nb") == "Under 30 år"


def test_min_n_three_warns(tmp_path):
    config, warnings = _config(tmp_path, "name: X\ninstrument: ark\nwaves: [1]\n"
                               "privacy: {min_n: 3}\n")
    assert config.min_n == 3
    assert [w.code for w in warnings] == ["low_min_n"]


@pytest.mark.parametrize("text, fragment", [
    ("name: X\ninstrument: ark\n", "the key 'waves' is missing"),
    ("name: X\ninstrument: ark\nwaves: 2021\n", "waves must be a list"),
    ("name: X\ninstrument: ark\nwaves: [1, 1]\n", "lists a wave twice"),
    ("name: X\ninstrument: ark\nwaves: [1]\nprivacy: {min_n: 2}\n", "min_n 2 is refused"),
    ("name: X\ninstrument: ark\nwaves: [1]\nlanguage: de\n", "language must be nb or en"),
    ("name: X\ninstrument: ark\nwaves: [1]\nbackground: {sex: [a, b]}\n", "needs values"),
])
def test_refused(tmp_path, text, fragment):
    with pytest.raises(ConfigProblem) as info:
        _config(tmp_path, text)
    assert fragment in info.value.problem.message()
    assert info.value.problem.severity == "unusable"
