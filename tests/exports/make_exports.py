"""Write the three fictional survey exports of ``tests/exports/`` (seeded, documented).

Each folder is a dataset a new user would make around an export as their survey tool gives
it, and ``truth.csv`` holds, per answer the workbench should keep, the codes it should come
out with (``respondent_id, wave, unit_id, gender``, then one column per item and extra
question). ``tests/test_exports.py`` loads each folder end to end and compares.

- ``nettskjema/``: a Nettskjema-like XLSX (sheets "Svar" and "Om skjemaet"), answers as labels,
  units by *name* (bokmål or English), question texts as headers (one with a no-break space,
  one with double spaces), a timestamp column nobody maps.
- ``questback/``: a Questback-like XLSX with two title rows above the header on sheet "Data",
  two waves, no respondent ids (ids from row numbers), a completion status to filter on, a
  reorganisation between the waves (units.csv ``wave`` column, ``successors.csv``).
- ``limesurvey/``: a LimeSurvey-like CSV (comma, CRLF), answer codes A1..A5, subquestion
  headers like ``stress[SQ001]``, incomplete responses with an empty ``submitdate``.

All three use ``instrument.yaml``: a custom instrument with two scales (1-5 agreement, 0-4
frequency for the stress factor) and an appraisal question asked only of those who had one.

Run from the repository root: ``.venv/bin/python tests/exports/make_exports.py``.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED = 20261201

AGREE = {1: "Helt uenig", 2: "Litt uenig", 3: "Verken enig eller uenig", 4: "Litt enig",
         5: "Helt enig", 6: "Vet ikke"}
OFTEN = {0: "Aldri", 1: "Sjelden", 2: "Av og til", 3: "Ofte", 4: "Svært ofte"}
ITEMS = {  # id -> (question text in the export, scale)
    "M1": ("Jeg mestrer arbeidsoppgavene mine", "agree"),
    "M2": ("Jeg får brukt kompetansen min", "agree"),
    "M3": ("Jeg føler meg ofte utilstrekkelig", "agree"),   # reverse
    "L1": ("Min leder gir meg tilbakemelding", "agree"),
    "L2": ("Min leder behandler alle rettferdig", "agree"),
    "S1": ("Hvor ofte har du for mye å gjøre?", "often"),
    "S2": ("Hvor ofte jobber du utover arbeidstiden?", "often"),
    "S3": ("Hvor ofte er det vanskelig å koble av?", "often"),
}
EXTRA = {"samtale": "Har du hatt medarbeidersamtale siste år?",
         "nytte": "Hvor nyttig var medarbeidersamtalen?"}
INSTRUMENT = """\
# A custom instrument with two scales: agreement 1-5 and, for STRESS, frequency 0-4.
id: trivsel
name: {nb: Trivsel på jobb, en: Well-being at work}
scale:
  min: 1
  max: 5
  labels: {1: {nb: Helt uenig, en: Strongly disagree}, 2: {nb: Litt uenig, en: Disagree},
           3: {nb: Verken eller, en: Neither}, 4: {nb: Litt enig, en: Agree},
           5: {nb: Helt enig, en: Strongly agree}}
  missing_codes: [6]
  missing_labels: {6: {nb: Vet ikke, en: "Don't know"}}
  top_box: 2
min_answered: 0.5
factors:
  - id: MEST
    name: {nb: Mestring, en: Mastery}
    items:
      - {id: M1, text: {nb: Jeg mestrer arbeidsoppgavene mine, en: I master my tasks}}
      - {id: M2, text: {nb: Jeg får brukt kompetansen min, en: I use my skills}}
      - {id: M3, text: {nb: Jeg føler meg ofte utilstrekkelig, en: I often feel inadequate},
         reverse: true}
  - id: LEDER
    name: {nb: Ledelse, en: Leadership}
    items:
      - {id: L1, text: {nb: Min leder gir meg tilbakemelding, en: My leader gives feedback}}
      - {id: L2, text: {nb: Min leder behandler alle rettferdig, en: My leader is fair}}
  - id: STRESS
    name: {nb: Arbeidspress, en: Work pressure}
    scale:                      # a scale of its own: 0 = never .. 4 = very often
      min: 0
      max: 4
      labels: {0: {nb: Aldri, en: Never}, 1: {nb: Sjelden, en: Rarely},
               2: {nb: Av og til, en: Sometimes}, 3: {nb: Ofte, en: Often},
               4: {nb: Svært ofte, en: Very often}}
      top_box: 2
    items:
      - {id: S1, text: {nb: For mye å gjøre, en: Too much to do}, reverse: true}
      - {id: S2, text: {nb: Jobber utover arbeidstiden, en: Works overtime}, reverse: true}
      - {id: S3, text: {nb: Vanskelig å koble av, en: Hard to switch off}, reverse: true}
extra:
  - id: samtale
    name: {nb: Medarbeidersamtale, en: Appraisal interview}
    type: category
    categories: [{code: 1, label: {nb: Ja, en: "Yes"}}, {code: 2, label: {nb: Nei, en: "No"}}]
  - id: nytte
    name: {nb: Nytte av samtalen, en: Usefulness of the interview}
    type: scale
    min: 1
    max: 5
    only_if: {samtale: 1}
"""
SURVEY = """\
name: {{nb: "{nb}", en: "{en}"}}
instrument: instrument.yaml
waves: [{waves}]
language: nb
privacy: {{min_n: 5, background_levels: [0]}}
background:
  gender: {{name: {{nb: Kjønn, en: Gender}}, values: {{female: Kvinne, male: Mann}}}}
responses: {responses}
mapping: mapping.yaml
"""
UNITS = [  # unit_id, parent_id, name, name_en
    ("kommune", "", "Eksempelkommune", "Example Municipality"),
    ("oppvekst", "kommune", "Oppvekst", "Education"),
    ("skole_nord", "oppvekst", "Nord skole", "North School"),
    ("skole_sor", "oppvekst", "Sør skole", "South School"),
    ("helse", "kommune", "Helse og omsorg", "Health and Care"),
    ("sykehjem", "helse", "Sykehjemmet", "The Nursing Home"),
    ("hjemmetjeneste", "helse", "Hjemmetjenesten", "Home Care"),
]
LEAVES = ["skole_nord", "skole_sor", "sykehjem", "hjemmetjeneste"]


def answers(rng: np.random.Generator, n: int) -> list[dict]:
    """n persons' codes: items (some skipped, some "don't know"), the appraisal questions."""
    people = []
    for _ in range(n):
        level = rng.normal(0, 0.7)
        person: dict = {}
        for item, (_, scale) in ITEMS.items():
            if scale == "agree":
                centre = 2.2 - level if item == "M3" else 3.8 + level  # M3 is reversed
                code = int(np.clip(round(centre + rng.normal(0, 0.8)), 1, 5))
                if rng.random() < 0.05:
                    code = 6
            else:
                code = int(np.clip(round(1.8 - level + rng.normal(0, 0.9)), 0, 4))
            person[item] = None if rng.random() < 0.04 else code
        had = 1 if rng.random() < 0.7 else 2
        person["samtale"] = had
        person["nytte"] = int(rng.integers(2, 6)) if had == 1 else None
        people.append(person)
    return people


def write_common(folder: Path, name: str, waves: str, responses: str, units=UNITS) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "instrument.yaml").write_text(INSTRUMENT, encoding="utf-8")
    (folder / "survey.yaml").write_text(SURVEY.format(nb=name, en=name, waves=waves,
                                                      responses=responses), encoding="utf-8")
    lines = ["unit_id,parent_id,name,name_en" + (",wave" if len(units[0]) > 4 else "")]
    lines += [",".join(u) for u in units]
    (folder / "units.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_truth(folder: Path, rows: list[dict]) -> None:
    columns = ["respondent_id", "wave", "unit_id", "gender", *ITEMS, *EXTRA]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row[c] for c in columns])
    (folder / "truth.csv").write_text(out.getvalue(), encoding="utf-8")


def _book(sheets: dict[str, list[list]], path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        ws = book.create_sheet(title)
        for row in rows:
            ws.append(row)
    fixed = datetime(2024, 1, 1)
    book.properties.created = book.properties.modified = fixed
    book.save(path)


def nettskjema(rng: np.random.Generator) -> None:
    folder = HERE / "nettskjema"
    write_common(folder, "Trivselsundersøkelse 2024 (Nettskjema)", "2024",
                 "nettskjema-export.xlsx")
    (folder / "headcount.csv").write_text(
        "wave,unit_id,invited\n2024,kommune,2\n2024,oppvekst,1\n2024,skole_nord,14\n"
        "2024,skole_sor,12\n2024,helse,1\n2024,sykehjem,15\n2024,hjemmetjeneste,12\n",
        encoding="utf-8")
    headers = ["$submission_id", "$created", "Hvor jobber du?", "Kjønn"]
    headers += [ITEMS[i][0] for i in ITEMS] + [EXTRA["samtale"], EXTRA["nytte"]]
    headers[4] = "Jeg\xa0mestrer arbeidsoppgavene mine"      # a no-break space in the export
    headers[5] = "Jeg får  brukt kompetansen  min"          # double spaces
    names = {u[0]: (u[2], u[3]) for u in UNITS}
    rows, truth = [headers], []
    start = datetime(2024, 3, 4, 8, 0)
    for k, person in enumerate(answers(rng, 44)):
        unit = LEAVES[k % len(LEAVES)]
        name = names[unit][1] if k % 7 == 3 else names[unit][0]  # some in English
        gender = ["female", "male", None][k % 5 % 3]
        sid = 2_310_000 + 17 * k
        cells = [sid, (start + timedelta(minutes=37 * k)).isoformat(sep=" "), name,
                 {"female": "Kvinne", "male": "Mann", None: "Vil ikke svare"}[gender]]
        for item, (_, scale) in ITEMS.items():
            code = person[item]
            cells.append(None if code is None else (AGREE if scale == "agree" else OFTEN)[code])
        cells.append({1: "Ja", 2: "Nei"}[person["samtale"]])
        cells.append(person["nytte"])
        rows.append(cells)
        truth.append({"respondent_id": str(sid), "wave": "2024", "unit_id": unit,
                      "gender": gender, **person})
    about = [["Skjema", "Trivselsundersøkelse 2024"], ["Eksportert", "2024-04-02"]]
    _book({"Svar": rows, "Om skjemaet": about}, folder / "nettskjema-export.xlsx")
    mapping = {
        "columns": '"$submission_id": respondent_id\n  "Hvor jobber du?": unit_id\n'
                   '  "Kjønn": gender\n' + "".join(f'  "{ITEMS[i][0]}": {i}\n' for i in ITEMS)
                   + f'  "{EXTRA["samtale"]}": samtale\n  "{EXTRA["nytte"]}": nytte\n'}
    (folder / "mapping.yaml").write_text(
        "# Nettskjema: question texts as headers, answers as labels, units by name.\n"
        "columns:\n  " + mapping["columns"] +
        "values:\n"
        '  "*": {"Helt uenig": 1, "Litt uenig": 2, "Verken enig eller uenig": 3,\n'
        '        "Litt enig": 4, "Helt enig": 5, "Vet ikke": 6}\n'
        '  "Hvor ofte har du for mye å gjøre?": &often {Aldri: 0, Sjelden: 1, "Av og til": 2,\n'
        '                                             Ofte: 3, "Svært ofte": 4}\n'
        '  "Hvor ofte jobber du utover arbeidstiden?": *often\n'
        '  "Hvor ofte er det vanskelig å koble av?": *often\n'
        '  Kjønn: {Kvinne: female, Mann: male, "Vil ikke svare": missing}  # the export\'s name\n'
        '  samtale: {Ja: 1, Nei: 2}                                         # the workbench\'s\n'
        "constants: {wave: '2024'}\n"
        "unit_names: true      # 'Hvor jobber du?' holds units.csv names (name or name_en)\n",
        encoding="utf-8")
    write_truth(folder, truth)


def questback(rng: np.random.Generator) -> None:
    folder = HERE / "questback"
    # 2022: helse has sykehjem and hjemmetjeneste; 2024: helse is split into two new sectors
    # (omsorg takes the nursing home, hjemme takes home care), and the two schools merge.
    units = [
        ("kommune", "", "Eksempelkommune", "Example Municipality", ""),
        ("oppvekst", "kommune", "Oppvekst", "Education", ""),
        ("skole_nord", "oppvekst", "Nord skole", "North School", "2022"),
        ("skole_sor", "oppvekst", "Sør skole", "South School", "2022"),
        ("skolen", "oppvekst", "Sentrum skole", "Central School", "2024"),
        ("helse", "kommune", "Helse og omsorg", "Health and Care", "2022"),
        ("sykehjem", "helse", "Sykehjemmet", "The Nursing Home", "2022"),
        ("hjemmetjeneste", "helse", "Hjemmetjenesten", "Home Care", "2022"),
        ("omsorg", "kommune", "Omsorg", "Care", "2024"),
        ("sykehjem_24", "omsorg", "Sykehjemmet", "The Nursing Home", "2024"),
        ("hjemme", "kommune", "Hjemmebaserte tjenester", "Home-based Services", "2024"),
        ("hjemmetjeneste_24", "hjemme", "Hjemmetjenesten", "Home Care", "2024"),
    ]
    write_common(folder, "Medarbeiderundersøkelse (Questback)", "2022, 2024", "questback.xlsx",
                  units=units)
    (folder / "successors.csv").write_text(
        "wave,unit_id,successor_id\n"
        "2022,skole_nord,skolen\n2022,skole_sor,skolen\n"          # a merger
        "2022,helse,omsorg\n2022,helse,hjemme\n"                   # a split
        "2022,sykehjem,sykehjem_24\n2022,hjemmetjeneste,hjemmetjeneste_24\n",  # new ids
        encoding="utf-8")
    leaves = {"2022": ["skole_nord", "skole_sor", "sykehjem", "hjemmetjeneste"],
              "2024": ["skolen", "sykehjem_24", "hjemmetjeneste_24"]}
    head = ["wave,unit_id,invited"]
    for wave, ids in leaves.items():
        head += [f"{wave},kommune,2", f"{wave},oppvekst,1"]
        head += [f"{wave},{u},{16 if wave == '2024' and u == 'skolen' else 12}" for u in ids]
    head += ["2022,helse,1", "2024,omsorg,1", "2024,hjemme,1"]
    (folder / "headcount.csv").write_text("\n".join(head) + "\n", encoding="utf-8")
    header = ["Runde", "Avdeling", "Status", "Starttid", "Kjønn"]
    header += [ITEMS[i][0].upper() if i == "L1" else ITEMS[i][0] for i in ITEMS]
    header += [EXTRA["samtale"], EXTRA["nytte"]]
    rows = [["Questback Essentials - rapport: Medarbeiderundersøkelse"],
            ["Eksportert 2024-05-02 av HR"], header]
    truth = []
    number = 3  # spreadsheet row of the header
    for wave, n in (("2022", 36), ("2024", 33)):
        for k, person in enumerate(answers(rng, n)):
            number += 1
            unit = leaves[wave][k % len(leaves[wave])]
            complete = k % 9 != 4
            gender = ["female", "male"][k % 2]
            cells = [int(wave), unit, "Fullført" if complete else "Ikke fullført",
                     f"{wave}-03-{1 + k % 27:02d} 09:{k % 60:02d}",
                     {"female": "Kvinne", "male": "Mann"}[gender]]
            for item, (_, scale) in ITEMS.items():
                code = person[item]
                cells.append(None if code is None else
                             (AGREE if scale == "agree" else OFTEN)[code])
            cells += [{1: "Ja", 2: "Nei"}[person["samtale"]], person["nytte"]]
            rows.append(cells)
            if complete:
                truth.append({"respondent_id": str(number), "wave": wave, "unit_id": unit,
                              "gender": gender, **person})
    report = [["Svarprosent", "74 %"]]
    _book({"Rapport": report, "Data": rows}, folder / "questback.xlsx")
    (folder / "mapping.yaml").write_text(
        "# Questback: a report sheet first, two title rows, no respondent ids.\n"
        "sheet: Data\n"
        "header_row: 3\n"
        "respondent_id: row          # ids from the spreadsheet's row numbers\n"
        "columns:\n  Runde: wave\n  Avdeling: unit_id\n  Kjønn: gender\n" +
        "".join(f'  "{ITEMS[i][0]}": {i}\n' for i in ITEMS) +
        f'  "{EXTRA["samtale"]}": samtale\n  "{EXTRA["nytte"]}": nytte\n'
        "values:\n"
        '  "*": {"Helt uenig": 1, "Litt uenig": 2, "Verken enig eller uenig": 3,\n'
        '        "Litt enig": 4, "Helt enig": 5, "Vet ikke": 6, Ja: 1, Nei: 2}\n'
        '  S1: &often {Aldri: 0, Sjelden: 1, "Av og til": 2, Ofte: 3, "Svært ofte": 4}\n'
        "  S2: *often\n  S3: *often\n"
        "  gender: {Kvinne: female, Mann: male}\n"
        "filters: {Status: Fullført}  # incomplete answers are left out (and not counted)\n"
        "ignore: [Starttid]\n", encoding="utf-8")
    write_truth(folder, truth)


def limesurvey(rng: np.random.Generator) -> None:
    folder = HERE / "limesurvey"
    write_common(folder, "Trivsel 2024 (LimeSurvey)", "2024", "results-survey482913.csv")
    (folder / "headcount.csv").write_text(
        "wave,unit_id,invited\n2024,kommune,2\n2024,oppvekst,1\n2024,skole_nord,15\n"
        "2024,skole_sor,14\n2024,helse,1\n2024,sykehjem,14\n2024,hjemmetjeneste,13\n",
        encoding="utf-8")
    codes = {"M1": "trivsel[SQ001]", "M2": "trivsel[SQ002]", "M3": "trivsel[SQ003]",
             "L1": "leder[SQ001]", "L2": "leder[SQ002]", "S1": "stress[SQ001]",
             "S2": "stress[SQ002]", "S3": "stress[SQ003]"}
    header = ["id", "submitdate", "lastpage", "startlanguage", "seed", "startdate", "enhet",
              "kjonn", *codes.values(), "samtale", "nytte"]
    rows, truth = [header], []
    for k, person in enumerate(answers(rng, 48)):
        complete = k % 8 != 5
        unit = LEAVES[(k * 3) % len(LEAVES)]
        gender = ["female", "male"][k % 2]
        cells = [str(k + 1), f"2024-02-{1 + k % 27:02d} 10:{k % 60:02d}:00" if complete else "",
                 "3" if complete else "1", "nb", str(1000003 * (k + 1) % 99991),
                 f"2024-02-{1 + k % 27:02d} 09:{k % 60:02d}:00", unit,
                 {"female": "F", "male": "M"}[gender]]
        for item in codes:
            code = person[item]
            cells.append("" if code is None else f"A{code}")
        cells += [f"A{person['samtale']}", "" if person["nytte"] is None else
                  str(person["nytte"])]
        rows.append(cells)
        if complete:
            truth.append({"respondent_id": str(k + 1), "wave": "2024", "unit_id": unit,
                          "gender": gender, **person})
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    (folder / "results-survey482913.csv").write_bytes(out.getvalue().encode("utf-8"))
    (folder / "mapping.yaml").write_text(
        "# LimeSurvey: answer codes A0..A6, subquestion headers, incomplete responses.\n"
        "columns:\n  id: respondent_id\n  enhet: unit_id\n  kjonn: gender\n" +
        "".join(f'  "{c}": {i}\n' for i, c in codes.items()) +
        "values:\n"
        '  "*": {A1: 1, A2: 2, A3: 3, A4: 4, A5: 5, A6: 6}\n'
        '  "stress[SQ001]": &often {A0: 0, A1: 1, A2: 2, A3: 3, A4: 4}\n'
        '  "stress[SQ002]": *often\n  "stress[SQ003]": *often\n'
        "  gender: {F: female, M: male}\n"
        "constants: {wave: '2024'}\n"
        "filters: {submitdate: filled}   # keep completed responses only\n"
        "ignore: [lastpage, startlanguage, seed]\n", encoding="utf-8")
    write_truth(folder, truth)


def main() -> None:
    rng = np.random.default_rng(SEED)
    nettskjema(rng)
    questback(rng)
    limesurvey(rng)


if __name__ == "__main__":
    main()
