"""Clinic Assistant: offline dictation, redaction and drafting for clinicians."""

__version__ = "0.1.0"
