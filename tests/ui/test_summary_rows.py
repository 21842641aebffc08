"""The summary as the patient view lists it, from facts the parsers read: the wording of each row, the marks (notes
of the same day that disagree, a medicine the patient is allergic to), and the tree that shows them (the sign, the
tint, the tooltip with the source sentence)."""

from __future__ import annotations

from datetime import date

from pytestqt.qtbot import QtBot

from app.core.summary.extract import extract_facts
from app.core.summary.items import Source
from app.core.summary.merge import NoteEntry, merge
from app.ui.patients.summary_rows import ALLERGIC, SAME_DAY, sections
from app.ui.patients.summary_tree import LINK_ROLE, MARK, MARKED_BACKGROUND, SummaryTree

DAY = date(2026, 5, 1)


def _entry(note_id: int, text: str, day: date = DAY) -> NoteEntry:
    facts = tuple(extract_facts(text).facts)
    return NoteEntry(note_id, note_id, note_id * 10, day, f"Visit {note_id}", facts)


def test_notes_of_the_same_day_that_disagree_and_an_allergy_to_a_current_medicine_are_marked(qtbot: QtBot) -> None:
    summary = merge(1, [
        _entry(1, "ALLERGIES\nPenicillin.\nPLAN\nContinue atenolol 50 mg daily."),
        _entry(2, "ALLERGIES\nNo known drug allergies.\nPLAN\nContinue atenolol 25 mg daily."),
        _entry(3, "ALLERGIES\nAllergic to amoxicillin.\nPLAN\nStart amoxicillin 500 mg three times daily.",
               date(2026, 4, 1)),
    ], date(2026, 6, 1))
    listed = {s.key: s for s in sections(summary, date(2026, 6, 1))}
    medicines = {row.text: row for row in listed["medications"].rows}
    assert medicines["Atenolol 50 mg, once daily"].warning == SAME_DAY
    assert medicines["Atenolol 25 mg, once daily"].warning == SAME_DAY
    assert medicines["Amoxicillin 500 mg, three times daily"].warning == ALLERGIC
    allergies = {row.text: row.warning for row in listed["allergies"].rows}
    assert allergies["No known allergies"] == SAME_DAY and allergies["Penicillin"] == SAME_DAY

    tree = SummaryTree()
    qtbot.addWidget(tree)
    tree.show_sections(list(listed.values()))
    top = tree.section("medications")
    assert top is not None and top.text(0) == "Current medicines (3)"
    shown = {item.text(0): item for i in range(top.childCount()) if (item := top.child(i)) is not None}
    atenolol = shown[MARK + "Atenolol 50 mg, once daily"]
    assert atenolol.background(0).color() == MARKED_BACKGROUND
    source = atenolol.data(0, LINK_ROLE)
    assert isinstance(source, Source) and source.sentence == "Continue atenolol 50 mg daily."
    assert SAME_DAY in atenolol.toolTip(0) and source.sentence in atenolol.toolTip(0)
    activated: list[object] = []
    tree.link_activated.connect(activated.append)
    tree.itemActivated.emit(atenolol, 0)
    tree.itemActivated.emit(top, 0)  # a section heading opens nothing
    assert activated == [source]


def test_sections_say_none_recorded_and_hide_what_is_empty_and_optional() -> None:
    summary = merge(1, [_entry(1, "PLAN\nContinue metformin 500 mg twice daily.")], DAY)
    listed = {s.key: s for s in sections(summary, DAY)}
    assert listed["problems"].rows == () and listed["problems"].empty == "None recorded"
    assert "results" not in listed and "drafts" not in listed and "not_summarised" not in listed
    assert [row.text for row in listed["plan"].rows] == ["Continue metformin 500 mg twice daily."]
    assert listed["plan"].heading == "Last assessment and plan (2026-05-01, Visit 1)"  # no count: the date says it
    assert sections(merge(1, [], DAY), DAY) == []  # no accepted notes: the view says so instead
