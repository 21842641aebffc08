"""What every command receives: the resolved settings and directories, and the two output channels.

Results go to stdout (so `--json` can be piped); messages and progress go to stderr.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from app.core.config import Settings


@dataclass
class CliContext:
    settings: Settings
    data_dir: Path
    models_dir: Path
    config_file: Path
    debug: bool = False
    warnings: list[str] = field(default_factory=list)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    _progress_shown: bool = field(default=False, init=False, repr=False)  # a progress line is open on the terminal

    def result(self, text: str) -> None:
        self._clear_progress()  # on a terminal, a result never lands on the end of a progress line either
        print(text, file=self.stdout, flush=True)

    def result_json(self, obj: Any) -> None:
        self._clear_progress()
        print(json.dumps(obj, ensure_ascii=False), file=self.stdout, flush=True)

    def message(self, text: str) -> None:
        self._clear_progress()
        print(text, file=self.stderr, flush=True)

    def progress(self, text: str, *, terminal_only: bool = False) -> None:
        """A transient progress line on stderr (overwritten when stderr is a terminal). `terminal_only`: say nothing
        when stderr is a file or a pipe, where the line would only be noise between the messages that matter."""
        if self.stderr.isatty():
            print("\r\033[K" + text, end="", file=self.stderr, flush=True)
            self._progress_shown = True
        elif not terminal_only:
            print(text, file=self.stderr, flush=True)

    def end_progress(self) -> None:
        if self._progress_shown:
            print(file=self.stderr, flush=True)
            self._progress_shown = False

    def _clear_progress(self) -> None:
        """A message never lands on the end of a progress line: the line is wiped first."""
        if self._progress_shown:
            print("\r\033[K", end="", file=self.stderr, flush=True)
            self._progress_shown = False


def configure_streams() -> None:
    """Standard output is always valid UTF-8 and printing never raises on odd characters (a lone surrogate from a
    file name, a terminal with a narrow code page): the last net under the input decoding of text_input."""
    for stream, errors in ((sys.stdout, "replace"), (sys.stderr, "backslashreplace")):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            if stream is sys.stdout and str(getattr(stream, "encoding", "")).lower().replace("-", "") != "utf8":
                reconfigure(encoding="utf-8", errors=errors)
            else:
                reconfigure(errors=errors)
        except (ValueError, OSError):  # a stream that cannot be reconfigured (already read, closed)
            continue
