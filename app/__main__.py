"""`python -m app` / `clinic-assistant`: the window with no command, a CLI command otherwise."""

from __future__ import annotations

import sys

from app.core.offline import enforce_offline


def main(argv: list[str] | None = None) -> int:
    enforce_offline()  # before any engine library is imported
    from app.cli.main import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
