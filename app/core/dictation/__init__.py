"""Dictation: spoken commands ("new paragraph", "scratch that"…) and number/unit formatting ("50 mg", "140/90")."""

from app.core.dictation.commands import Command
from app.core.dictation.document import DictationDocument, DictationOptions, RenderedText

__all__ = ["Command", "DictationDocument", "DictationOptions", "RenderedText"]
