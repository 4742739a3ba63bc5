"""What a unit's workshop recorded, as the handout shows it (every format alike).

The store (:mod:`workbench.workshop`) keeps votes, chosen factors, the future picture, the
action plan with each measure's place in the priority matrix, and the parking lot. A handout
made with the unit's :class:`~workbench.workshop.WorkshopState` shows them in its worksheets;
without one (or with nothing recorded) the worksheets are blank, to be filled in by hand.

The words for status, impact and feasibility are the ones ``workbench workshop DATASET
import`` reads back (:func:`workbench.workshop.clean_action`), so a filled-in XLSX handout
imports as it is.
"""

from __future__ import annotations

import datetime as _dt
from typing import TYPE_CHECKING

from workbench.words import CODE_WORDS
from workbench.workshop import FEASIBILITIES, IMPACTS, STATUSES

if TYPE_CHECKING:  # pragma: no cover
    from workbench.handouts.handout import Handout
    from workbench.workshop import WorkshopState

__all__ = ["recorded", "workshop_context", "code_words", "STATUS_WORDS", "IMPACT_WORDS",
           "FEASIBILITY_WORDS", "QUADRANT_TEXT", "PLAN_ROWS", "PARKING_ROWS"]

#: Status, impact and feasibility words per language (:data:`workbench.words.CODE_WORDS`).
STATUS_WORDS, IMPACT_WORDS, FEASIBILITY_WORDS = (
    {lang: {code: CODE_WORDS[code][i] for code in codes} for i, lang in enumerate(("nb", "en"))}
    for codes in (STATUSES, IMPACTS, FEASIBILITIES))
#: The texts.yaml key of each priority-matrix quadrant (:data:`workbench.workshop.QUADRANTS`).
QUADRANT_TEXT = {"quick_win": "quick_wins", "consider": "consider", "drop": "drop"}
#: The matrix cell of each (impact, feasibility), as the worksheet draws it.
_CELLS = {("large", "easy"): "quick_wins", ("large", "hard"): "consider",
          ("small", "easy"): "maybe", ("small", "hard"): "drop"}
#: Rows of an action plan and a parking lot on paper (recorded rows, then blank ones).
PLAN_ROWS, PARKING_ROWS = 6, 7


def code_words(lang: str) -> dict[str, dict[str, str]]:
    """column -> code -> word, for status, impact and feasibility."""
    lang = "en" if lang == "en" else "nb"
    return {"status": STATUS_WORDS[lang], "impact": IMPACT_WORDS[lang],
            "feasibility": FEASIBILITY_WORDS[lang]}


def recorded(state: "WorkshopState | None") -> bool:
    """True when ``state`` holds anything a worksheet shows."""
    if state is None:
        return False
    picture = state.picture
    return bool(state.votes or (state.choice and state.choice.factors) or state.actions
                or state.parking or (picture and (picture.employees or picture.leader
                                                  or picture.organisation)))


def _deadline(value: str | None, lang: str) -> str:
    if not value:
        return ""
    try:
        day = _dt.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return day.strftime("%d.%m.%Y") if lang == "nb" else day.isoformat()


def workshop_context(h: "Handout", t) -> dict | None:
    """The recorded workshop of the handout's unit, formatted; None when nothing is recorded
    (the worksheets stay blank)."""
    state = h.workshop
    if not recorded(state):
        return None
    lang = h.lang
    names = {f.id: f.name(lang) for f in h.instrument.factors}
    words = code_words(lang)
    votes = {v.factor: v for v in state.votes}
    cross = []
    for key in h.unit["key"]:
        v = votes.get(key)
        reasons = []
        if v is not None and v.pleased_reasons:
            reasons.append((t("pleased"), v.pleased_reasons))
        if v is not None and v.improve_reasons:
            reasons.append((t("improve"), v.improve_reasons))
        cross.append({"key": key, "name": names.get(key, key),
                      "pleased": str(v.pleased) if v is not None else "",
                      "improve": str(v.improve) if v is not None else "",
                      "reasons": reasons})
    chosen = list(state.choice.factors) if state.choice else []
    picture = state.picture
    picture_parts = {part: getattr(picture, part) if picture else ""
                     for part in ("employees", "leader", "organisation")}
    actions, matrix, unplaced = [], {cell: [] for cell in _CELLS.values()}, []
    for a in state.actions:
        area = " \u2013 ".join(x for x in (names.get(a.factor, a.factor), a.area) if x)
        cell = _CELLS.get((a.impact, a.feasibility))
        actions.append({"area": area, "measure": a.measure, "goal": a.goal,
                        "responsible": a.responsible, "deadline": _deadline(a.deadline, lang),
                        "status": words["status"].get(a.status, a.status),
                        "quadrant": t(cell) if cell else "",
                        "done": a.status in ("done", "dropped")})
        (matrix[cell] if cell else unplaced).append(a.measure)
    parking = [{"issue": p.issue, "passed_by": p.passed_by, "passed_to": p.passed_to,
                "answer": p.answer} for p in state.parking]
    return {
        "cross": cross, "any_votes": bool(state.votes),
        "chosen": [names.get(k, k) for k in chosen], "chosen_keys": chosen,
        "picture": picture_parts, "any_picture": any(picture_parts.values()),
        "actions": actions, "matrix": matrix, "unplaced": unplaced,
        "plan_blank": max(2, PLAN_ROWS - len(actions)),
        "parking": parking, "parking_blank": max(2, PARKING_ROWS - len(parking)),
        "recorded_note": t("recorded_note"),
    }
