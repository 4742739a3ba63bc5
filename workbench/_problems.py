"""Problems found in a dataset, and their messages in bokmål and English.

A problem names the file, the row as numbered in the file (a CSV's header is row 1; a
spreadsheet's rows as the spreadsheet numbers them; a Parquet file's records from 1), the
column, the value and what was expected. ``severity`` decides the exit code of
``workbench validate``: ``unusable`` (2), ``error`` (1), ``warning`` (0: worth fixing, the
numbers are right as they are) or ``note`` (0: what the workbench did with the input, e.g.
columns it leaves aside).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from workbench.instrument import Text

__all__ = ["Problem", "MESSAGES", "SEVERITY"]

# code -> (severity, English template, bokmål template). Templates may use the fields of
# Problem and the keys of Problem.detail.
MESSAGES: dict[str, tuple[str, str, str]] = {
    # The dataset cannot be used at all.
    "missing_file": ("unusable", "file not found", "filen finnes ikke"),
    "not_a_folder": ("unusable", "this is a file; give the dataset folder (the one that holds "
                     "survey.yaml)", "dette er en fil; oppgi datasettmappen (den som har "
                     "survey.yaml)"),
    "empty_file": ("unusable", "the file is empty", "filen er tom"),
    "no_data_rows": ("unusable", "the file has a header but no data rows",
                     "filen har overskrifter, men ingen datarader"),
    "unreadable_file": ("unusable", "cannot be read: {reason}", "kan ikke leses: {reason}"),
    "bad_config": ("unusable", "{reason}", "{reason}"),
    "missing_column": ("unusable", "required column {column!r} is missing; the columns found "
                       "are: {found}", "den påkrevde kolonnen {column!r} mangler; kolonnene "
                       "som finnes er: {found}"),
    "header_not_found": ("unusable", "no header row with the columns {expected} in the first "
                         "{scanned} rows{sheet}; check the file, or set header_row in the mapping "
                         "file", "fant ingen overskriftsrad med kolonnene {expected} blant de "
                         "første {scanned} radene{sheet}; sjekk filen, eller sett header_row i "
                         "mappingfilen"),
    "duplicate_column": ("unusable", "column {column!r} appears twice in the header",
                         "kolonnen {column!r} står to ganger i overskriftsraden"),
    "duplicate_unit": ("unusable", "unit id {value!r} is listed twice",
                       "enhets-id {value!r} står to ganger"),
    "orphan_unit": ("unusable", "unit {unit!r} has parent {value!r}, which is not a unit in this "
                    "file", "enheten {unit!r} har overordnet {value!r}, som ikke finnes i filen"),
    "no_root": ("unusable", "no unit has an empty parent_id, so the hierarchy has no top",
                "ingen enhet har tom parent_id, så hierarkiet har ingen topp"),
    "several_roots": ("unusable", "unit {unit!r} is a second top unit (empty parent_id); only "
                      "one unit may have no parent", "enheten {unit!r} er en topp nummer to (tom "
                      "parent_id); bare én enhet kan mangle overordnet"),
    "cycle": ("unusable", "unit {unit!r} is its own ancestor (parent {value!r}): the hierarchy "
              "has a cycle", "enheten {unit!r} er sin egen overordnede (overordnet {value!r}): "
              "hierarkiet går i ring"),
    # Row-level problems: the row is rejected (and written to the quarantine file).
    "ragged_row": ("error", "the row has {found} fields, expected {expected}",
                   "raden har {found} felt, forventet {expected}"),
    "truncated_row": ("error", "the last row has {found} of {expected} fields: the file seems "
                      "truncated", "den siste raden har {found} av {expected} felt: filen ser ut "
                      "til å være avkuttet"),
    "open_quote": ("error", "a quote opened in this row is never closed: everything from here to "
                   "the end of the file (row {last}) was read as one row of {found} fields, "
                   "expected {expected}; check for a stray quote, or whether the file was cut off",
                   "et anførselstegn som åpnes i denne raden, lukkes aldri: alt herfra til "
                   "slutten av filen (rad {last}) ble lest som én rad med {found} felt, forventet "
                   "{expected}; se etter et løst anførselstegn, eller om filen er avkuttet"),
    "quote_spans_rows": ("error", "a quoted value runs on from this row to row {last}, so rows "
                         "{row}-{last} were read as one row; check for a stray or missing quote",
                         "en verdi i anførselstegn fortsetter fra denne raden til rad {last}, så "
                         "radene {row}-{last} ble lest som én rad; se etter et løst eller "
                         "manglende anførselstegn"),
    "unreadable_row": ("error", "the row cannot be read ({reason}); it ends on row {last}, and "
                       "reading goes on after it; check for a stray quote or a far too long value",
                       "raden kan ikke leses ({reason}); den slutter på rad {last}, og lesingen "
                       "fortsetter etter den; se etter et løst anførselstegn eller en altfor lang "
                       "verdi"),
    "empty_required": ("error", "the value is empty; every row needs one",
                       "verdien er tom; hver rad må ha en"),
    "out_of_scale": ("error", "value {value!r} is outside the scale; expected {expected}",
                     "verdien {value!r} er utenfor skalaen; forventet {expected}"),
    "not_a_code": ("error", "value {value!r} is not a valid answer; expected {expected}",
                   "verdien {value!r} er ikke et gyldig svar; forventet {expected}"),
    "unknown_unit": ("error", "unit {value!r} is not in units.csv{hint}",
                     "enheten {value!r} finnes ikke i units.csv{hint}"),
    "unknown_wave": ("error", "wave {value!r} is not listed in survey.yaml (waves: {expected})",
                     "runden {value!r} står ikke i survey.yaml (runder: {expected})"),
    "duplicate_respondent": ("error", "respondent {value!r} answered already in wave {wave} "
                             "(row {first_row})", "respondenten {value!r} har allerede svart i "
                             "runde {wave} (rad {first_row})"),
    "unknown_category": ("error", "value {value!r} is not an allowed code; expected {expected}",
                         "verdien {value!r} er ikke en tillatt kode; forventet {expected}"),
    "unit_name_ambiguous": ("error", "unit name {value!r} fits several units ({units}); write "
                            "the unit id instead, or map the name in values: {{unit_id: ...}}",
                            "enhetsnavnet {value!r} passer til flere enheter ({units}); skriv "
                            "enhets-id-en i stedet, eller oversett navnet i values: "
                            "{{unit_id: ...}}"),
    "filter_unmatched": ("error", "the filter on {value!r} matches no column of {file}, so no "
                         "row was left out by it{hint}", "filteret på {value!r} passer ikke til "
                         "noen kolonne i {file}, så det holdt ingen rader utenfor{hint}"),
    "bad_number": ("error", "value {value!r} is not a whole number of 0 or more",
                   "verdien {value!r} er ikke et helt tall på 0 eller mer"),
    "bad_mean": ("error", "value {value!r} is not a number within the scale {expected}",
                 "verdien {value!r} er ikke et tall innenfor skalaen {expected}"),
    "unknown_factor": ("error", "factor {value!r} is not in the instrument (factors: {expected})",
                       "faktoren {value!r} finnes ikke i instrumentet (faktorer: {expected})"),
    # The dataset is usable, but something in it needs fixing.
    "header_on_wrong_row": ("error", "the header is on row {row}, not row 1; rows above it are "
                            "ignored (set header_row: {row} in the mapping file to accept this)",
                            "overskriftene står på rad {row}, ikke rad 1; radene over blir "
                            "ignorert (sett header_row: {row} i mappingfilen for å godta dette)"),
    "missing_item_column": ("error", "item column {column!r} of factor {factor} is missing; its "
                            "answers count as skipped", "spørsmålskolonnen {column!r} i faktoren "
                            "{factor} mangler; svarene regnes som ubesvart"),
    "successor_unknown_unit": ("error", "unit {value!r} is not in units.csv for wave {wave}{hint}",
                               "enheten {value!r} finnes ikke i units.csv for runde {wave}{hint}"),
    "successor_last_wave": ("error", "wave {value!r} is the last wave: a successor lives in the "
                            "next wave, and there is none", "runden {value!r} er den siste: en "
                            "etterfølger hører til neste runde, og den finnes ikke"),
    "successor_cycle": ("error", "the successors of unit {value!r} lead back to itself "
                        "({path})", "etterfølgerne til enheten {value!r} fører tilbake til den "
                        "selv ({path})"),
    "successor_duplicate": ("error", "unit {value!r} of wave {wave} has successor {successor!r} "
                            "already (row {first_row})", "enheten {value!r} i runde {wave} har "
                            "allerede etterfølgeren {successor!r} (rad {first_row})"),
    # Worth knowing; the exit code stays 0.
    "no_headcount": ("warning", "unit {value!r} has {answers} answer(s) in wave {wave} but no row "
                     "in headcount.csv: its answers are kept, but the number invited there and in "
                     "every unit above it is unknown (no finite population correction)",
                     "enheten {value!r} har {answers} svar i runde {wave}, men ingen rad i "
                     "headcount.csv: svarene beholdes, men antall inviterte der og i alle "
                     "enheter over den er ukjent (ingen endelighetskorreksjon)"),
    "too_many_answers": ("warning", "unit {value!r} has {answers} answers in wave {wave} but only "
                         "{invited} invited: the number invited there and in every unit above it "
                         "is treated as unknown (no finite population correction)",
                         "enheten {value!r} har {answers} svar i runde {wave}, men bare "
                         "{invited} inviterte: antall inviterte der og i alle enheter over den "
                         "regnes som ukjent (ingen endelighetskorreksjon)"),
    "only_if_failed": ("warning", "value {value!r} answers a question asked only when {condition}; "
                       "here {actual}, so the answer is not counted",
                       "verdien {value!r} svarer på et spørsmål som bare stilles når {condition}; "
                       "i denne raden er {actual}, så svaret telles ikke"),
    "mapping_unmatched": ("warning", "mapping key {value!r} matches no column of {file}{hint}",
                          "mappingnøkkelen {value!r} passer ikke til noen kolonne i {file}{hint}"),
    "low_min_n": ("warning", "min_n is {value}: results from as few as {value} persons are "
                  "published; 5 is the recommended minimum",
                  "min_n er {value}: resultater fra så få som {value} personer publiseres; 5 er "
                  "anbefalt minimum"),
    "no_headcount_file": ("warning", "no headcount.csv: response rates and the finite population "
                          "correction are not available", "ingen headcount.csv: svarprosent og "
                          "endelighetskorreksjon er ikke tilgjengelig"),
    # What the workbench did with the input; the exit code stays 0.
    "unknown_column": ("note", "column {column!r} is not an item, extra question or background "
                       "column of this survey, so it is ignored{hint}",
                       "kolonnen {column!r} er ikke et spørsmål, et tilleggsspørsmål eller en "
                       "bakgrunnsvariabel i denne undersøkelsen, så den blir ignorert{hint}"),
    "left_out": ("note", "{count} row(s) left out by the mapping's filters ({filters}); they "
                 "count as rejected and go to the quarantine file: rows {rows}",
                 "{count} rad(er) holdt utenfor av filtrene i mappingfilen ({filters}); de "
                 "regnes som avvist og skrives til karantenefilen: rad {rows}"),
    "blank_rows": ("note", "{count} blank row(s) skipped (rows {rows}); they hold no answers",
                   "{count} tomme rad(er) hoppet over (rad {rows}); de har ingen svar"),
    "other_sheets": ("note", "read sheet {value!r}, the first; the workbook also has {others} "
                     "(set sheet: in the mapping file to read another)",
                     "leste arket {value!r}, det første; arbeidsboken har også {others} (sett "
                     "sheet: i mappingfilen for å lese et annet)"),
}

SEVERITY = {code: spec[0] for code, spec in MESSAGES.items()}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as the input allows."""

    code: str
    file: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    expected: str | Text | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return SEVERITY[self.code]

    def message(self, lang: str = "en") -> str:
        """The problem as one line: where, then what and what was expected."""
        _, en, nb = MESSAGES[self.code]
        expected = self.expected(lang) if isinstance(self.expected, Text) else self.expected
        detail = {k: v(lang) if isinstance(v, Text) else v for k, v in self.detail.items()}
        fields = {"file": self.file, "row": self.row, "column": self.column,
                  "value": self.value, "expected": expected, **detail}
        text = (nb if lang == "nb" else en).format(**fields)
        where = [self.file]
        if self.row is not None:
            where.append(f"{'rad' if lang == 'nb' else 'row'} {self.row}")
        if self.column is not None:
            where.append(f"{'kolonne' if lang == 'nb' else 'column'} {self.column}")
        return f"{', '.join(where)}: {text}"

    def as_dict(self, lang: str = "en") -> dict[str, Any]:
        """A JSON-ready record (``--json``)."""
        record = asdict(self)
        record.pop("detail")
        if isinstance(self.expected, Text):
            record["expected"] = self.expected(lang)
        record["severity"] = self.severity
        record["message"] = self.message(lang)
        return record
