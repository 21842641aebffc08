"""The window fits a 1,280 x 720 laptop screen with an encounter open: its minimum width stays below 1,240 px and
every action of the dictation, identifier-review and answer rows is on screen, none clipped, none overlapping.
Also the flow layout those rows use, on its own."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QPushButton, QWidget
from pytestqt.qtbot import QtBot

from app.ui.flow_layout import FlowLayout
from app.ui.main_window import MainWindow
from tests.ui.support import create_store, factories, make_app, new_encounter, shut, ui_settings, unlock

LAPTOP = QSize(1280, 720)


def _rect_in(widget: QWidget, ancestor: QWidget) -> QRect:
    return QRect(widget.mapTo(ancestor, QPoint(0, 0)), widget.size())


def _assert_shown(widgets: dict[str, QWidget], window: QWidget) -> None:
    """Visible, inside every ancestor up to the window (so no parent clips it), and not on top of a neighbour."""
    for name, widget in widgets.items():
        assert widget.isVisible(), f"{name} is hidden"
        assert widget.width() > 0 and widget.height() > 0, f"{name} has no size"
        ancestor = widget.parentWidget()
        while ancestor is not None:
            assert ancestor.rect().contains(_rect_in(widget, ancestor)), (
                f"{name} {_rect_in(widget, ancestor)} is cut off by {ancestor.objectName() or type(ancestor).__name__}"
                f" {ancestor.rect()}"
            )
            if ancestor is window:
                break
            ancestor = ancestor.parentWidget()
    for (first, a), (second, b) in combinations(widgets.items(), 2):
        assert not _rect_in(a, window).intersects(_rect_in(b, window)), f"{first} overlaps {second}"


def _dictation_row(w: MainWindow) -> dict[str, QWidget]:
    panel = w.encounter_view.dictation
    return {"record": panel.record_button, "open audio": panel.open_button, "meter": panel.meter,
            "state": panel.state}


def _review_row(w: MainWindow) -> dict[str, QWidget]:
    panel = w.encounter_view.redaction
    return {"kind": panel.kind, "mark": panel.mark_button, "check again": panel.recheck_button, "skip": panel.skip,
            "approve": panel.approve_button, "show identifiers": panel.highlight}


def _answer_row(w: MainWindow) -> dict[str, QWidget]:
    a = w.answer
    shown: dict[str, QWidget] = {"notes": a.notes}
    shown.update({b.objectName(): b for b in (a.stop_button, a.accept_button, a.undo_button, a.read_button,
                                               a.copy_button, a.export_button)})
    shown.update({f"action {key}": button for key, button in w.encounter_view.action_buttons.items()})
    shown.update({"back": w.encounter_view.back_button, "ask": w.chat.ask_button})
    return shown


def test_the_window_fits_a_1280_by_720_screen_with_an_encounter_open(
    qtbot: QtBot, tmp_path: Path, models_dir: Path
) -> None:
    create_store(tmp_path / "data")
    clinic = make_app(qtbot, ui_settings("tiny"), tmp_path / "data", models_dir, tmp_path / "settings.toml",
                      factories())
    unlock(qtbot, clinic)
    new_encounter(qtbot, clinic, "Tredgold-Featherstonehaugh", "Oswin Bartholomew", mrn="447291")
    w = clinic.window
    assert w.center.currentWidget() is w.encounter_view
    # The longest texts the controllers put in these rows, so the measure is not flattered by an empty encounter.
    w.encounter_view.show_header("Tredgold-Featherstonehaugh, Oswin Bartholomew", "2026-11-22 09:41",
                                 "Three days of productive cough, fever and breathlessness on exertion")
    # Recording: the level meter is in the row then (it is hidden while idle).
    w.encounter_view.dictation.set_recording(True, "Warning: 12.4 s of audio could not be kept.")
    w.answer.title.setText("Referral letter (draft)")
    w.answer.set_notes([(1, "Referral letter v12 (accepted)"), (2, "SOAP note v3 (draft)")], 1)
    w.answer.set_reading(True)  # "Stop reading" is the wider label of the read-aloud button

    assert w.minimumSizeHint().width() <= 1240, w.minimumSizeHint()
    w.resize(LAPTOP)
    qtbot.waitUntil(lambda: w.size() == LAPTOP, timeout=5000)
    qtbot.waitUntil(lambda: _assert_shown({**_dictation_row(w), **_answer_row(w)}, w), timeout=5000)

    w.encounter_view.show_review()
    qtbot.waitUntil(lambda: _assert_shown({**_review_row(w), **_answer_row(w)}, w), timeout=5000)
    w.answer.set_reading(False)
    w.encounter_view.dictation.set_idle("Ready.")
    shut(qtbot, clinic)


def _buttons(labels: tuple[str, ...]) -> list[QPushButton]:
    return [QPushButton(label) for label in labels]


def test_flow_layout_wraps_when_narrow_and_grows_taller(qtbot: QtBot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    flow = FlowLayout(host)
    buttons = _buttons(("Stop", "Accept", "Undo acceptance", "Read aloud", "Copy", "Export…"))
    for button in buttons:
        flow.addWidget(button)
    hidden = QPushButton("Not shown")
    flow.addWidget(hidden)
    hidden.hide()
    widest = max(b.sizeHint().width() for b in buttons)
    left, right = flow.contentsMargins().left(), flow.contentsMargins().right()
    assert flow.minimumSize().width() == widest + left + right  # one button per line at the least
    one_line = flow.sizeHint().width()

    host.resize(one_line, flow.heightForWidth(one_line))
    host.show()
    qtbot.waitUntil(lambda: len({b.y() for b in buttons}) == 1, timeout=5000)
    assert [b.x() for b in buttons] == sorted(b.x() for b in buttons)
    single = flow.heightForWidth(one_line)

    narrow = widest * 2 + left + right + flow.horizontal_spacing()
    assert flow.heightForWidth(narrow) > single
    assert flow.heightForWidth(widest + left + right) > flow.heightForWidth(narrow)
    host.resize(narrow, flow.heightForWidth(narrow))
    qtbot.waitUntil(lambda: len({b.y() for b in buttons}) >= 3, timeout=5000)
    _assert_shown({b.text(): b for b in buttons}, host)
    assert not hidden.isVisible()


def test_flow_layout_stretch_pushes_what_follows_right_also_after_a_wrap(qtbot: QtBot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    flow = FlowLayout(host)
    first, middle, last = _buttons(("Mark selection", "Skip", "Approve and continue"))
    flow.addWidget(first)
    flow.add_stretch()
    flow.addWidget(middle)
    flow.addWidget(last)
    left, right = flow.contentsMargins().left(), flow.contentsMargins().right()
    gap = flow.horizontal_spacing()

    def lay_out(width: int) -> None:
        host.resize(width, flow.heightForWidth(width))
        host.show()
        qtbot.waitUntil(lambda: host.width() == width and last.geometry().right() == width - right - 1, timeout=5000)
        assert first.x() == left

    lay_out(first.sizeHint().width() + middle.sizeHint().width() + last.sizeHint().width() + 2 * gap + 80
            + left + right)
    assert first.y() == middle.y() == last.y()
    lay_out(first.sizeHint().width() + middle.sizeHint().width() + gap + 20 + left + right)
    assert first.y() == middle.y() < last.y() and middle.geometry().right() == host.width() - right - 1
    lay_out(max(b.sizeHint().width() for b in (first, middle, last)) + left + right)
    assert first.y() < middle.y() < last.y() and middle.geometry().right() == host.width() - right - 1


def test_flow_layout_places_a_row_again_when_an_item_changes_at_the_same_width(qtbot: QtBot) -> None:
    """The row's measurements are cached per width and per what its items ask for: a button that gets a longer
    label (or is hidden) is placed again although the row's width did not change."""
    host = QWidget()
    qtbot.addWidget(host)
    flow = FlowLayout(host)
    first, second = _buttons(("Read aloud", "Copy"))
    flow.addWidget(first)
    flow.addWidget(second)
    width = flow.sizeHint().width() + 40
    host.resize(width, flow.heightForWidth(width))
    host.show()
    qtbot.waitUntil(lambda: first.y() == second.y() and second.x() > first.x(), timeout=5000)
    one_line = flow.heightForWidth(width)

    first.setText("Stop reading and go back to the start of the answer")  # now too wide to share the line
    assert flow.heightForWidth(width) > one_line
    host.resize(width, flow.heightForWidth(width))
    qtbot.waitUntil(lambda: second.y() > first.y() and second.x() == first.x(), timeout=5000)

    first.hide()
    qtbot.waitUntil(lambda: second.y() == flow.contentsMargins().top(), timeout=5000)
    left = second.x()

    flow.setContentsMargins(left + 30, 0, 0, 0)  # the row's own settings count too: margins, direction
    qtbot.waitUntil(lambda: second.x() == left + 30, timeout=5000)
    host.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    mirrored_right = host.width() - 1 - (left + 30)
    qtbot.waitUntil(lambda: second.geometry().right() == mirrored_right, timeout=5000)

    replacement = QPushButton("Copy")  # same text, new widget: placed, not left where a new widget starts
    flow.removeWidget(second)
    second.deleteLater()
    flow.addWidget(replacement)
    qtbot.waitUntil(lambda: replacement.isVisible() and replacement.geometry().right() == mirrored_right, timeout=5000)
