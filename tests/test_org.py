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
