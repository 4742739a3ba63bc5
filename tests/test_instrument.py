from pathlib import Path

import pytest
import yaml

from workbench.errors import InstrumentError
from workbench.instrument import builtin_instruments, load_instrument, parse_instrument

ARK_FACTORS = [
    "Autonomi", "Mening i jobben", "Indre motivasjon", "Rolleklarhet", "Fravær av rollekonflikt",
    "Fravær av stress", "Fravær av arbeid-hjem-konflikt", "Leders relasjonsorientering",
    "Anerkjennelse fra ledelsen", "Tydelighet i forventninger", "Innflytelse og medvirkning",
    "Fellesskap mellom kolleger", "Initiativ og ansvar mellom kolleger",
    "Respektfull omgangstone", "Fravær av personkonflikt", "Kultur for utvikling",
    "Tilhørighet til arbeidsstedet",
]
ARK_THEMES = [
    "Den enkelte og jobben", "Samspill ledere og medarbeidere", "Kommunikasjon og medvirkning",
    "Samarbeid og fellesskap", "Håndtering av uheldige hendelser", "Støtte, samspill og kultur",
]
TIFAKTOR = [
    "Indre motivasjon", "Mestringstro", "Autonomi", "Bruk av kompetanse",
    "Mestringsorientert ledelse", "Rolleklarhet", "Relevant kompetanseutvikling",
    "Fleksibilitetsvilje", "Mestringsklima", "Prososial motivasjon",
]


def test_builtins():
    assert builtin_instruments() == ("ark", "tifaktor")


def test_ark_structure():
    ark = load_instrument("ark")
    assert [f.name.nb for f in ark.factors] == ARK_FACTORS
    assert [t.name.nb for t in ark.themes] == ARK_THEMES
    assert all(3 <= len(f.items) <= 4 for f in ark.factors)
    assert any(i.reverse for i in ark.items)
    assert all(f.theme in {t.id for t in ark.themes} for f in ark.factors)
    assert ark.extra_ids == ("hours", "appraisal", "appraisal_useful")
    assert ark.extra[2].only_if == {"appraisal": 1}
    # bilingual everywhere
    for f in ark.factors:
        assert f.name.en and f.name.en != f.name.nb
        assert f.definition.nb and f.definition.en
        assert all(i.text.nb and i.text.en and i.text.nb != i.text.en for i in f.items)


def test_tifaktor_structure():
    tf = load_instrument("tifaktor")
    assert [f.name.nb.split(" (")[0] for f in tf.factors] == TIFAKTOR
    assert len(tf.items) == 35
    assert all(3 <= len(f.items) <= 5 for f in tf.factors)
    assert tf.scale.points == (1, 2, 3, 4, 5)
    assert tf.scale.missing_codes == (6,)
    assert tf.scale.labels[5].nb == "Svært enig"


def test_min_items_rule():
    tf = load_instrument("tifaktor")
    # ceil(0.5 x items): 3 items -> 2, 4 -> 2, 5 -> 3
    assert {len(f.items): tf.min_items(f) for f in tf.factors} == {3: 2, 4: 2, 5: 3}


def test_instrument_from_path(tmp_path: Path):
    (tmp_path / "inst.yaml").write_text(
        "id: mini\nscale: {min: 0, max: 4}\nfactors:\n"
        "  - {id: A, items: [{id: a1}, {id: a2, reverse: true}]}\n", encoding="utf-8")
    inst = load_instrument("inst.yaml", base=tmp_path)
    assert inst.item_ids == ("a1", "a2")
    assert inst.scale.describe()("en") == "0-4 or empty"


@pytest.mark.parametrize("text, message", [
    ("id: x\nfactors: [{id: A, items: [{id: a}]}]\n", "has no 'scale'"),
    ("id: x\nscale: {min: 5, max: 1}\nfactors: []\n", "must be above"),
    ("id: x\nscale: {min: 1, max: 5, missing_codes: [3]}\nfactors: [{id: A, items: [{id: a}]}]",
     "lie inside the scale"),
    ("id: x\nscale: {min: 1, max: 5}\nfactors: [{id: A, items: [{id: a}, {id: a}]}]",
     "used twice"),
    ("id: x\nscale: {min: 1, max: 5}\nfactors: [{id: A, theme: t, items: [{id: a}]}]",
     "names theme 't'"),
])
def test_schema_errors(text, message):
    import yaml

    with pytest.raises(InstrumentError, match=message):
        parse_instrument(yaml.safe_load(text), source="x.yaml")


def test_unknown_instrument():
    with pytest.raises(InstrumentError, match="neither a built-in instrument"):
        load_instrument("nope")


@pytest.mark.parametrize("scale, message", [
    ("{min: 0, max: 0}", "scale of factor 'H'.max (0) must be above"),
    ("{min: 0, max: 4, missing_codes: [3]}", "missing code(s) [3] lie inside the scale of "
                                             "factor 'H' 0-4"),
    ("{min: 0, max: 9}", "(inherited from the instrument's scale; set missing_codes"),
    ("{max: 4}", "scale of factor 'H' has no 'min'"),
])
def test_factor_scale_errors(scale, message):
    text = ("id: x\nscale: {min: 1, max: 5, missing_codes: [9]}\nfactors:\n"
            "  - {id: A, items: [{id: a1}]}\n"
            f"  - {{id: H, scale: {scale}, items: [{{id: h1}}]}}\n")
    with pytest.raises(InstrumentError) as info:
        parse_instrument(yaml.safe_load(text), source="x.yaml")
    assert message in str(info.value)
