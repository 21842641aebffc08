"""Use cases shared by the GUI and the CLI: the consultation pipeline, self-check, engine construction."""
