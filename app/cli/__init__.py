"""The command-line interface: argparse commands over app.core.services."""
