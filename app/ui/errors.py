"""One path for every failure to reach the doctor: `ErrorPresenter`.

An `AppError` shows its message and hint in a banner at the top of the window (non-blocking; it stays until
dismissed or replaced) and in the status bar. Anything else is a bug: the doctor sees a generic message naming what
was being done, never the exception's text (it can quote patient data); the log gets the frames and the type only.
`Cancelled` is not a failure and shows nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStatusBar, QWidget

from app.core.errors import AppError, Cancelled
from app.core.logs import safe_traceback

log = logging.getLogger(__name__)

STATUS_MS = 10000


@dataclass(frozen=True)
class Problem:
    """What the doctor is shown. `doing` names the action ("drafting the SOAP note"), never content."""

    title: str
    message: str
    hint: str
    kind: str
    expected: bool  # an AppError (True) or a bug (False)


def describe(exc: BaseException, doing: str) -> Problem | None:
    if isinstance(exc, Cancelled):
        return None
    if isinstance(exc, AppError):
        return Problem(f"Could not finish {doing}", exc.message, exc.hint, exc.kind, True)
    return Problem(
        f"Could not finish {doing}",
        f"Something unexpected went wrong ({type(exc).__name__}).",
        "Try again. If it happens again, report it with the log file (it holds no patient text).",
        "internal",
        False,
    )


class ErrorBanner(QFrame):
    """A dismissible strip above the work area. Shown by ErrorPresenter; hides itself on Dismiss or Esc."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("errorBanner")
        self.setAccessibleName("Error message")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # A red border says "problem" without a hard-coded background that would clash with a dark palette.
        self.setStyleSheet("#errorBanner { border: 2px solid #c62828; border-radius: 4px; }")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 6, 6)
        self.text = QLabel()
        self.text.setObjectName("errorText")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.text, 1)
        self.dismiss = QPushButton("Dismiss")
        self.dismiss.setAccessibleName("Dismiss the error message")
        self.dismiss.clicked.connect(self.hide)
        layout.addWidget(self.dismiss)
        self.hide()

    def show_problem(self, problem: Problem) -> None:
        lines = [problem.title + ":", problem.message]
        if problem.hint:
            lines.append(problem.hint)
        self.text.setText(" ".join(line.strip() for line in lines))
        self.setAccessibleDescription(self.text.text())
        self.show()


class ErrorPresenter(QObject):
    """Every controller hands its failures here: `presenter.present(exc, "drafting the SOAP note")`."""

    presented = Signal(object)  # Problem: tests and the status bar listen

    def __init__(self, banner: ErrorBanner | None = None, status_bar: QStatusBar | None = None) -> None:
        super().__init__()
        self._banner = banner
        self._status_bar = status_bar
        self.history: list[Problem] = []  # what was shown this session (no patient text by construction)

    def attach(self, banner: ErrorBanner, status_bar: QStatusBar) -> None:
        self._banner = banner
        self._status_bar = status_bar

    def present(self, exc: object, doing: str) -> Problem | None:
        if not isinstance(exc, BaseException):
            exc = RuntimeError(f"a failure of type {type(exc).__name__}")
        problem = describe(exc, doing)
        if problem is None:
            return None
        if problem.expected:
            log.info("shown to the user: %s error while %s", problem.kind, doing)
        else:
            log.error("unexpected failure while %s:\n%s", doing, safe_traceback(exc))
        self.history.append(problem)
        if self._banner is not None:
            self._banner.show_problem(problem)
        if self._status_bar is not None:
            self._status_bar.showMessage(f"{problem.title}: {problem.message}", STATUS_MS)
        self.presented.emit(problem)
        return problem

    def notify(self, text: str) -> None:
        """A short confirmation in the status bar (never patient text)."""
        if self._status_bar is not None:
            self._status_bar.showMessage(text, STATUS_MS)

    def clear(self) -> None:
        if self._banner is not None:
            self._banner.hide()
