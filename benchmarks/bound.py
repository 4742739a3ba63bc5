"""The most factor cells rules 1 and 2 allow a dataset to publish: an exact optimum.

For one factor in one wave, every unit's cell holds the persons of its subtree with a score.
A cell can be published when it has at least ``min_n`` persons (rule 1), and every published
cell's atom (its persons minus those of its nearest published descendants) must hold 0 or at
least ``min_n`` (rule 2). A dynamic programme over the tree finds the largest number of cells
that can be published together: per unit and per number of persons (0 .. min_n, min_n
standing for "min_n or more") that its subtree passes up uncovered to the nearest published
unit above, the fewest hidden cells inside. The top unit stays published (it is what the
whole survey reports).

The release also keeps rule 3 (no unit of 20 or more answers wholly hidden, the loss spread
over the factors), so its share can only be lower; the gap says what rule 3 costs. This is a
developer's figure: it reads the respondent rows, which no surface of the workbench does.
"""

from __future__ import annotations

import math

import numpy as np

_NONE = math.inf


def most_cells(parent: list[int], n: list[int], min_n: int) -> int:
    """The largest number of cells with at least ``min_n`` persons that can be published.

    ``parent`` gives each unit's parent position (-1 for a top unit), ``n`` its subtree's
    persons; units come parents first.
    """
    m = min_n
    children: list[list[int]] = [[] for _ in n]
    own = list(map(float, n))
    for u, p in enumerate(parent):
        if p >= 0:
            children[p].append(u)
            own[p] -= n[u]
    best: list[list[float]] = [[]] * len(n)  # per unit: fewest hidden cells per s passed up
    for u in reversed(range(len(n))):
        inside = [0.0] + [_NONE] * m  # children combined, by persons passed up (capped)
        for c in children[u]:
            merged = [_NONE] * (m + 1)
            for a, x in enumerate(inside):
                if x == _NONE:
                    continue
                for b, y in enumerate(best[c]):
                    if y != _NONE:
                        t = min(m, a + b)
                        merged[t] = min(merged[t], x + y)
            inside = merged
        here = [_NONE] * (m + 1)
        eligible = n[u] >= m
        for t, x in enumerate(inside):
            if x == _NONE:
                continue
            atom = min(m, round(own[u] + t))
            if eligible and atom in (0, m):
                here[0] = min(here[0], x)
            if parent[u] >= 0:  # hidden: its persons pass up
                here[atom] = min(here[atom], x + (1 if eligible else 0))
            elif not eligible:  # a top unit too small to publish: its persons go nowhere
                here[0] = min(here[0], x)
        best[u] = here
    eligible = sum(1 for x in n if x >= m)
    hidden = sum(best[u][0] for u, p in enumerate(parent) if p < 0)
    return eligible - int(hidden)


def utility_bound(survey, min_n: int) -> tuple[int, int]:
    """(factor cells with at least ``min_n`` scored persons, the most of them rules 1 and 2
    let a release publish), over every wave and factor of ``survey``."""
    from workbench.scoring import factor_scores, item_values

    responses = survey.responses
    eligible = possible = 0
    for wave in survey.waves:
        hierarchy = survey.hierarchy(wave)
        ids = list(hierarchy.units["unit_id"])
        order = sorted(range(len(ids)), key=lambda i: int(hierarchy.units["level"].iloc[i]))
        position = {ids[i]: k for k, i in enumerate(order)}
        parents = [position.get(str(hierarchy.units["parent_id"].iloc[i]), -1) for i in order]
        data = responses.loc[responses["wave"].astype(str) == wave]
        scores = factor_scores(item_values(data, survey.instrument).to_numpy(),
                               survey.instrument)
        at = np.array([position[u] for u in data["unit_id"].astype(str)])
        for k in range(scores.shape[1]):
            own = np.bincount(at[~np.isnan(scores[:, k])], minlength=len(ids))
            subtree = own.astype(np.int64)
            for u in reversed(range(len(ids))):
                if parents[u] >= 0:
                    subtree[parents[u]] += subtree[u]
            eligible += int((subtree >= min_n).sum())
            possible += most_cells(parents, subtree.tolist(), min_n)
    return eligible, possible
