"""The deterministic parsers of the summary: sections, medicines (dose, frequency, action), allergies, problems,
readings, follow-ups, and the age helper. No store, no model."""

from __future__ import annotations

from datetime import date

import pytest

from app.core.summary.age import age_on, age_text
from app.core.summary.document import read_note
from app.core.summary.extract import combine, extract_facts
from app.core.summary.facts import NONE_KNOWN, Fact, FactKind, Origin, facts_from_json, facts_to_json
from app.core.summary.parse_allergies import allergy_facts
from app.core.summary.parse_medicines import medication_facts
from app.core.summary.parse_plan import follow_up_facts, plan_facts
from app.core.summary.parse_problems import problem_facts
from app.core.summary.parse_readings import result_facts, vital_facts
from app.core.summary.sections import clauses


def _meds(text: str) -> dict[str, tuple[str, str, str]]:
    return {f.name: (f.dose, f.frequency, f.action) for f in medication_facts(read_note(text))}


def _problems(text: str) -> list[str]:
    return [f.name for f in problem_facts(read_note(text))]


def test_sections_from_line_headings_and_inline_upper_case_labels() -> None:
    note = "HPI:\nShe has a cough.\n\nMEDICATIONS\nLisinopril 20 mg daily.\nALLERGIES:, Sulfa.,PLAN:, Rest."
    found = [(c.section, note[c.start : c.end]) for c in clauses(note)]
    assert found == [("hpi", "She has a cough."), ("medications", "Lisinopril 20 mg daily."),
                     ("allergies", "Sulfa."), ("plan", "Rest.")]


def test_a_label_is_part_of_its_clause_and_can_open_its_own_section() -> None:
    note = "PLAN\nAllergies: penicillin (rash).\nBlood pressure: 128/82."
    found = clauses(note)
    assert [(c.section, c.label, note[c.start : c.end]) for c in found] == [
        ("allergies", "allergies", "Allergies: penicillin (rash)."),
        ("plan", "blood pressure", "Blood pressure: 128/82."),
    ]


def test_dosing_abbreviations_do_not_end_a_sentence() -> None:
    note = "MEDICATIONS:\n1. Seroquel 50 mg p.o. q.h.s., 25 mg p.o. q.a.m.\n2. Imodium 2 mg p.o. p.r.n., loose stool."
    assert _meds(note) == {"quetiapine": ("50 mg", "at bedtime", "taking"),
                           "loperamide": ("2 mg", "as needed", "taking")}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("We will increase his metformin to 1000 mg twice daily.", {"metformin": ("1000 mg", "twice daily",
                                                                                  "increased")}),
        ("Continue on Protonix 40 mg daily.", {"pantoprazole": ("40 mg", "once daily", "taking")}),
        ("Stop Crestor.", {"rosuvastatin": ("", "", "stopped")}),
        ("Decrease atenolol to 25 mg daily.", {"atenolol": ("25 mg", "once daily", "decreased")}),
        ("I have recommended she take 10 mg of melatonin as needed.", {"melatonin": ("10 mg", "as needed",
                                                                                     "started")}),
        ("A digital block was applied with 1% lidocaine.", {"lidocaine": ("1%", "", "taking")}),
        ("Continue Fosamax 1 tab per week.", {"alendronate": ("1 tab", "once weekly", "taking")}),
        ("Phenergan and Zofran twice a day.", {"promethazine": ("", "twice daily", "taking"),
                                               "ondansetron": ("", "twice daily", "taking")}),
        ("We discussed treatment options including gabapentin or Tegretol.",
         {"gabapentin": ("", "", "considered"), "carbamazepine": ("", "", "considered")}),
        ("He has tried melatonin without relief.", {"melatonin": ("", "", "tried")}),
        ("Improved when she stopped Aleve.", {"naproxen": ("", "", "stopped")}),
    ],
)
def test_medicines_with_dose_frequency_and_action(text: str, expected: dict[str, tuple[str, str, str]]) -> None:
    assert _meds(text) == expected


def test_what_is_not_a_medication() -> None:
    assert _meds("He is not on aspirin.") == {}
    assert _meds("She is allergic to penicillin.") == {}
    assert _meds("We will check an erythropoietin level.") == {}
    assert _meds("FAMILY HISTORY\nHer mother takes metformin.") == {}
    assert _meds("SOCIAL HISTORY\nShe endorses marijuana use.") == {}


def test_allergy_section_items_none_known_and_inline_statements() -> None:
    found = allergy_facts(read_note("ALLERGIES:\nPenicillin (rash), sulfa.\nHPI:\nShe is allergic to latex."))
    assert [(f.name, f.value) for f in found] == [("penicillin", "rash"), ("sulfa", ""), ("latex", "")]
    assert [f.name for f in allergy_facts(read_note("ALLERGIES: No known drug allergies."))] == [NONE_KNOWN]
    assert [f.name for f in allergy_facts(read_note("ALLERGIES:, SHE IS ALLERGIC OR SENSITIVE TO MACRODANTIN.,"))] \
        == ["nitrofurantoin"]
    assert allergy_facts(read_note("ALLERGIES\nDenies seasonal allergies.")) == []
    assert allergy_facts(read_note("FAMILY HISTORY\nHer son is allergic to peanuts.")) == []


def test_problems_from_history_lists_and_assessment_headings() -> None:
    assert _problems("He has a past medical history significant for depression, type 2 diabetes, and "
                     "hypertension, who presents today.") == ["depression", "type 2 diabetes", "hypertension"]
    assert _problems("PAST MEDICAL HISTORY:\n1. Coronary artery disease status post CABG x 5.\n2. Back surgery.\n"
                     "3. Hypertension since 1985.") == ["coronary artery disease", "hypertension"]
    assert _problems("ASSESSMENT AND PLAN\nUpper respiratory infection.\n• Medical Treatment: Rest.\n"
                     "Right knee pain, possible ACL tear.\nReview in 3 months.\nBP 138/88.") == [
        "upper respiratory infection", "right knee pain"]
    assert _problems("She denies a history of high blood pressure or diabetes.") == []
    assert _problems("FAMILY HISTORY\nPatient reports family history significant for hypertension.") == []
    resolved = problem_facts(read_note("IMPRESSION:\n2. Right arm symptoms, resolved."))
    assert [(f.name, f.action) for f in resolved] == [("right arm symptoms", "resolved")]


def test_vital_signs_and_results_only_with_their_values() -> None:
    note = ("VITALS\nBlood pressure: 120/70 mmHg\nHeart rate: 72.\nO2 saturation: 99% on room air.\nRESULTS\n"
            "Hemoglobin A1c is elevated at 8.\nPLAN\nWe will repeat a hemoglobin A1c in 4 months.")
    doc = read_note(note)
    assert [(f.name, f.value, f.unit) for f in vital_facts(doc)] == [
        ("blood pressure", "120/70", "mmHg"), ("heart rate", "72", "bpm"), ("oxygen saturation", "99", "%")]
    assert [(f.name, f.value) for f in result_facts(doc)] == [("hemoglobin a1c", "8")]
    assert result_facts(read_note("He checks his blood glucose levels 4 to 5 times per week.")) == []


def test_follow_ups_and_plan_lines() -> None:
    doc = read_note("ASSESSMENT AND PLAN\nHypertension.\nReview in 1 week.\nINSTRUCTIONS\nFollow up in 3 months.\n"
                    "HPI\nHis last visit was 2 years ago.")
    assert [f.days for f in follow_up_facts(doc)] == [7, 91]
    assert [f.sentence for f in plan_facts(doc)] == ["Hypertension.", "Review in 1 week.", "Follow up in 3 months."]


def test_every_fact_points_at_its_sentence_and_survives_json() -> None:
    note = ("HPI:\nMs. Jones has a history of asthma.\nMEDICATIONS\nAlbuterol 2 puffs every 4 to 6 hours as needed.\n"
            "ALLERGIES\nPenicillin.\nVITALS\nBP 128/82.\nPLAN\nFollow up in 1 month.")
    extraction = extract_facts(note)
    assert {f.kind for f in extraction.facts} >= {FactKind.PROBLEM, FactKind.MEDICATION, FactKind.ALLERGY,
                                                  FactKind.VITAL, FactKind.FOLLOW_UP, FactKind.PLAN}
    for fact in extraction.facts:
        assert note[fact.start : fact.end] == fact.sentence
    assert facts_from_json(facts_to_json(extraction.facts)) == extraction.facts
    assert facts_from_json('[{"kind": "from-a-newer-version", "name": "x", "start": 0, "end": 1, "sentence": "x"}]') \
        == []


def test_the_model_adds_what_the_parsers_left_open() -> None:
    parsed = [Fact(FactKind.MEDICATION, "metformin", 0, 10, "metformin.", action="taking")]
    modelled = [Fact(FactKind.MEDICATION, "metformin", 0, 10, "metformin.", action="stopped", origin=Origin.MODEL),
                Fact(FactKind.PROBLEM, "asthma", 0, 10, "metformin.", action="active", origin=Origin.MODEL)]
    combined = combine(parsed, modelled)
    assert [(f.kind, f.action) for f in combined] == [(FactKind.MEDICATION, "stopped"), (FactKind.PROBLEM, "active")]


def test_age_on() -> None:
    assert age_on(date(1961, 4, 23), date(2025, 4, 22)) == 63
    assert age_on(date(1961, 4, 23), date(2025, 4, 23)) == 64
    assert age_on(date(2000, 2, 29), date(2023, 2, 28)) == 22  # a leap-day birthday counts on 1 March
    assert age_on(date(2000, 2, 29), date(2023, 3, 1)) == 23
    assert age_text(date(2024, 1, 15), date(2024, 9, 14)) == "7 months"
    assert age_text(None, date(2024, 1, 1)) == ""
    with pytest.raises(ValueError):
        age_on(date(2025, 1, 2), date(2025, 1, 1))
