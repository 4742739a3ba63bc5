import pandas as pd
import pytest

from workbench.errors import DatasetError
from workbench.org import Hierarchy, hierarchy_problems


def _tree():
    return Hierarchy.from_frame(pd.DataFrame({
        "unit_id": ["U", "F1", "F2", "D1", "D2", "G1"],
        "parent_id": ["", "U", "U", "F1", "F1", "D1"],
        "name": ["Uni", "Fak 1", "Fak 2", "Inst 1", "Inst 2", "Gruppe 1"],
    }))


def test_tree_navigation():
    h = _tree()
    assert h.root == "U"
    assert h.children("F1") == ("D1", "D2")
    assert h.subtree("F1") == ("F1", "D1", "G1", "D2")
    assert h.path("G1") == ("U", "F1", "D1", "G1")
    assert [h.level(u) for u in h.ids] == [0, 1, 1, 2, 2, 3]
    assert h.parent("U") is None
    assert h.name("G1", "en") == "Gruppe 1"


def test_subtree_matrix():
    h = _tree()
    m = h.subtree_matrix()
    assert m.sum(axis=1).tolist() == [6, 4, 1, 2, 1, 1]


@pytest.mark.parametrize("ids, parents, codes", [
    (["A", "B", "C"], ["", "A", "X"], ["orphan_unit"]),
    (["A", "B", "C"], ["", "C", "B"], ["cycle", "cycle"]),
    (["A", "B"], ["", ""], ["several_roots"]),
    (["A", "A"], ["", "A"], ["duplicate_unit"]),
    (["A", "B"], ["B", "A"], ["no_root", "cycle", "cycle"]),
])
def test_hierarchy_problems(ids, parents, codes):
    assert sorted(p.code for p in hierarchy_problems(ids, parents)) == sorted(codes)


def test_broken_tree_refused():
    with pytest.raises(DatasetError, match="breaks the tree"):
        Hierarchy.from_frame(pd.DataFrame({"unit_id": ["A", "B"], "parent_id": ["B", "A"],
                                           "name": ["a", "b"]}))


def _lineage():
    import pandas as pd

    from workbench.org import Hierarchy, Lineage

    def tree(rows):
        return Hierarchy.from_frame(pd.DataFrame(rows, columns=["unit_id", "parent_id", "name"]))

    waves = ("2020", "2022", "2024")
    hierarchies = {
        "2020": tree([("K", "", "K"), ("A", "K", "A"), ("B", "K", "B"), ("C", "K", "C"),
                      ("D", "K", "D"), ("E", "K", "E")]),
        "2022": tree([("K", "", "K"), ("A2", "K", "A2"), ("BC", "K", "BC"), ("D1", "K", "D1"),
                      ("D2", "K", "D2"), ("E", "K", "E")]),
        "2024": tree([("K", "", "K"), ("A2", "K", "A2"), ("BC", "K", "BC")]),
    }
    table = pd.DataFrame([("2020", "A", "A2"), ("2020", "B", "BC"), ("2020", "C", "BC"),
                          ("2020", "D", "D1"), ("2020", "D", "D2")],
                         columns=["wave", "unit_id", "successor_id"])
    return Lineage(waves=waves, table=table, hierarchies=hierarchies)


def test_lineage_rename_merge_split_end():
    lineage = _lineage()
    assert (lineage.next("A", "2020"), lineage.change("A", "2020")) == (("A2",), "renamed")
    assert (lineage.next("B", "2020"), lineage.change("B", "2020")) == (("BC",), "merged")
    assert (lineage.next("D", "2020"), lineage.change("D", "2020")) == (("D1", "D2"), "split")
    assert (lineage.next("E", "2020"), lineage.change("E", "2020")) == (("E",), "same")
    assert (lineage.next("E", "2022"), lineage.change("E", "2022")) == ((), "ended")
    assert lineage.previous("BC", "2022") == ("B", "C")
    assert lineage.previous("D2", "2022") == ("D",)
    assert lineage.previous("E", "2022") == ("E",)
    assert lineage.previous("A2", "2024") == ("A2",)
    assert lineage.previous("K", "2020") == () and lineage.next("K", "2024") == ()


def test_successor_problems():
    import pandas as pd

    from workbench.org import successor_problems

    lineage = _lineage()
    rows = pd.DataFrame([("2020", "A", "A2"), ("2020", "Z", "A2"), ("2020", "B", "ZZ"),
                         ("2024", "K", "K"), ("1999", "K", "K"), ("2020", "A", "A2"),
                         ("2022", "A2", "BC"), ("2022", "BC", "A2")],
                        columns=["wave", "unit_id", "successor_id"])
    found = [(p.index, p.code, p.column) for p in
             successor_problems(rows, lineage.waves, lineage.hierarchies)]
    assert found == [(1, "successor_unknown_unit", "unit_id"),
                     (2, "successor_unknown_unit", "successor_id"),
                     (3, "successor_last_wave", "wave"), (4, "unknown_wave", "wave"),
                     (5, "successor_duplicate", "successor_id"),
                     (6, "successor_cycle", "successor_id"),
                     (7, "successor_cycle", "successor_id")]
