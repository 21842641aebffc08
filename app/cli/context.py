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

    def result(self, text: str) -> None:
        print(text, file=self.stdout, flush=True)

    def result_json(self, obj: Any) -> None:
        print(json.dumps(obj, ensure_ascii=False), file=self.stdout, flush=True)

    def message(self, text: str) -> None:
        print(text, file=self.stderr, flush=True)

    def progress(self, text: str) -> None:
        """A transient progress line on stderr (overwritten when stderr is a terminal)."""
        if self.stderr.isatty():
            print("\r\033[K" + text, end="", file=self.stderr, flush=True)
        else:
            print(text, file=self.stderr, flush=True)

    def end_progress(self) -> None:
        if self.stderr.isatty():
            print(file=self.stderr, flush=True)
