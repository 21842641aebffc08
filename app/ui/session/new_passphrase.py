"""A new passphrase, typed twice, with a strength meter and what to change: the first-run page and the Change
passphrase dialog share it. The estimate (zxcvbn, `app/core/storage/passphrase.py`) runs as the doctor types: a few
milliseconds of arithmetic, no engine and no store."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFormLayout, QLineEdit, QProgressBar, QWidget

from app.core.storage.passphrase import MAX_SCORE, PASSPHRASE_ADVICE, PassphraseCheck, check_passphrase
from app.ui.session.dialog_parts import wrapped_label

STRENGTH_WORDS = ("Very weak", "Weak", "Fair", "Nearly there", "Strong")


class NewPassphraseFields(QWidget):
    changed = Signal()  # the verdict was recomputed (ready or not)

    def __init__(self, avoid: Iterable[str] = (), parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._avoid = set(avoid)
        self.form = form = QFormLayout(self)  # a dialog may put its own rows above (the current passphrase)
        form.setContentsMargins(0, 0, 0, 0)
        self.first = QLineEdit()
        self.first.setObjectName("newPassphrase")
        self.first.setAccessibleName("New passphrase")
        self.second = QLineEdit()
        self.second.setObjectName("repeatPassphrase")
        self.second.setAccessibleName("Repeat the new passphrase")
        for line in (self.first, self.second):
            line.setEchoMode(QLineEdit.EchoMode.Password)
            line.textChanged.connect(self.check)
        self.meter = QProgressBar()
        self.meter.setObjectName("passphraseStrength")
        self.meter.setAccessibleName("Passphrase strength")
        self.meter.setRange(0, MAX_SCORE)
        self.meter.setTextVisible(True)
        self.advice = wrapped_label("passphraseAdvice", PASSPHRASE_ADVICE + ".")
        self.feedback = wrapped_label("passphraseFeedback")
        self.feedback.setAccessibleName("What to change")
        form.addRow("&New passphrase", self.first)
        form.addRow("&Repeat it", self.second)
        form.addRow("Strength", self.meter)
        form.addRow(self.feedback)
        form.addRow(self.advice)
        self._ready = False
        self.verdict: PassphraseCheck = check_passphrase("")
        self.check()

    def set_avoid(self, words: Iterable[str]) -> None:
        """Names a passphrase must not lean on (the patients', once the store has listed them)."""
        self._avoid = set(words)
        self.check()

    def check(self) -> None:
        text = self.first.text()
        self.verdict = verdict = check_passphrase(text, self._avoid)
        self.meter.setValue(verdict.score if text else 0)
        self.meter.setFormat(STRENGTH_WORDS[verdict.score] if text else "Not typed yet")
        if not text:
            message = ""
        elif not verdict.ok:
            message = "Not yet: " + verdict.message() + "."
        elif not self.second.text():
            message = "Strong enough. Now type it again to confirm it."
        elif self.second.text() != text:
            message = "The two do not match."
        else:
            message = "Strong enough, and both match."
        self._ready = verdict.ok and self.second.text() == text
        self.feedback.setText(message)
        self.changed.emit()

    def is_ready(self) -> bool:
        return self._ready

    def matches(self) -> bool:
        return self.first.text() == self.second.text()

    def passphrase(self) -> str:
        return self.first.text()

    def show_problem(self, text: str) -> None:
        self.feedback.setText(text)
        self.changed.emit()

    def set_read_only(self, read_only: bool) -> None:
        for line in (self.first, self.second):
            line.setReadOnly(read_only)

    def clear(self) -> None:
        self.first.clear()
        self.second.clear()
