"""The encounter view: dictation, identifier review, drafting actions."""
