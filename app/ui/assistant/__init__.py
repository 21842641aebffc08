"""Drafts (SOAP, summary, referral), the chat about the encounter, and reading answers aloud."""
