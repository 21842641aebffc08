"""`clinic-assistant store init|check|backup|restore|export|passwd|audit|salvage|server-key`: the encrypted store
from the shell.

The passphrase comes from a prompt (no echo; asked twice when a new one is set) or, for scripts, from the first
line(s) of standard input with `--passphrase-stdin` (`passwd` and `salvage --new-passphrase` read two lines: the
store's, then the new one; `server-key set` reads the passphrase, then the clinic server's API key). Neither is ever
a command-line argument, where other users could read it in the process list.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.context import CliContext
from app.core.errors import InputError

if TYPE_CHECKING:
    from app.core.storage.records import BackupInfo, CheckReport, SalvageReport
    from app.core.storage.store import Store

ACTIONS = ("init", "check", "backup", "restore", "export", "passwd", "audit", "salvage", "server-key")
EXIT_PROBLEMS = 1  # check: the report was made and found problems


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "store",
        help="create, check, back up, restore or export the encrypted store",
        description="The encrypted clinical store at <data dir>/clinic.db.",
    )
    actions = p.add_subparsers(dest="store_action", metavar="ACTION", required=True)

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        parser: argparse.ArgumentParser = actions.add_parser(name, help=help_text, description=help_text)
        parser.add_argument(
            "--passphrase-stdin", action="store_true", help="read the passphrase from the first line of stdin"
        )
        return parser

    action("init", "create a new encrypted store (asks for a passphrase twice)")
    check = action(
        "check",
        "full integrity check (SQLite structure, SQLCipher page HMACs, foreign keys); on a damaged store, which "
        "tables and records the damage costs. Exit 1 when problems are found",
    )
    check.add_argument("--json", action="store_true", help="machine-readable report on stdout")
    backup = action("backup", "write an encrypted backup (same passphrase) and its .cipher.json beside it")
    backup.add_argument("output", type=Path, help="backup file to write")
    backup.add_argument("--force", action="store_true", help="replace an existing file")
    backup.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
    restore = action("restore", "replace the store with a verified backup (asks for the backup's passphrase)")
    restore.add_argument("backup", type=Path, help="backup file to restore")
    restore.add_argument(
        "--force", action="store_true", help="replace an existing store (it is kept as clinic.db.replaced-<time>)"
    )
    restore.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
    export = action("export", "write one patient's notes as UNENCRYPTED plain text")
    who = export.add_mutually_exclusive_group(required=True)
    who.add_argument("--patient-id", type=int, help="the patient's number in the store")
    who.add_argument("--mrn", help="the patient's MRN")
    export.add_argument("-o", "--output", type=Path, required=True, help="text file to write")
    export.add_argument("--force", action="store_true", help="replace an existing file")
    export.add_argument("--yes", action="store_true", help="confirm the unencrypted export without a question")
    action("passwd", "change the passphrase (stdin: current passphrase, then the new one)")
    audit = action("audit", "export the audit log (who did what to which record, when; never content)")
    audit.add_argument("--format", choices=("csv", "json"), default="csv", help="output format (default csv)")
    audit.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    audit.add_argument("--since", help="only entries at or after this ISO date/time")
    salvage = action(
        "salvage",
        "copy every record that can still be read (of a damaged store) into a new encrypted store; the store itself "
        "is only read",
    )
    salvage.add_argument("output", type=Path, help="new store file to write (then: store restore OUTPUT --force)")
    salvage.add_argument(
        "--new-passphrase",
        action="store_true",
        help="give the new store another passphrase (asked twice; with --passphrase-stdin: the second line)",
    )
    salvage.add_argument("--force", action="store_true", help="replace an existing file")
    salvage.add_argument("--json", action="store_true", help="machine-readable summary on stdout")
    _register_server_key(actions)
    p.set_defaults(run=run)


def _register_server_key(actions: argparse._SubParsersAction) -> None:
    text = "the clinic server's API key, kept in the encrypted store (never in the settings file)"
    key = actions.add_parser("server-key", help=text, description=text)
    key_actions = key.add_subparsers(dest="server_key_action", metavar="ACTION", required=True)
    for name, help_text in (
        ("set", "store the key: typed without echo, or read from stdin (with --passphrase-stdin: the second line)"),
        ("clear", "remove the key from the store"),
    ):
        parser = key_actions.add_parser(name, help=help_text, description=help_text)
        parser.add_argument(
            "--passphrase-stdin", action="store_true", help="read the passphrase from the first line of stdin"
        )


def _read_stdin_line(what: str) -> str:
    line = sys.stdin.readline()
    if not line:
        raise InputError(f"No {what} on standard input", "Write it as one line to stdin, or drop --passphrase-stdin")
    return line.rstrip("\r\n")


def _ask(args: argparse.Namespace, prompt: str, *, confirm: bool = False) -> str:
    if args.passphrase_stdin:
        value = _read_stdin_line(prompt.rstrip(": ").lower())
    else:
        value = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat it: ") != value:
            raise InputError("The two passphrases differ", "Run the command again and type the same passphrase twice")
    if not value:
        raise InputError("The passphrase is empty", "Enter the passphrase")
    return value


def _store(ctx: CliContext) -> Store:
    from app.core.storage.store import Store

    store = Store.from_settings(ctx.settings, ctx.data_dir)
    store.remove_leftovers()  # partial copies a killed command left behind
    return store


def _unlocked(args: argparse.Namespace, ctx: CliContext) -> Store:
    store = _store(ctx)
    if not store.exists():
        raise InputError(f"There is no store in {ctx.data_dir}", "Create one with 'clinic-assistant store init'")
    store.unlock(_ask(args, "Passphrase: "))
    return store


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    handlers = {
        "init": _init, "check": _check, "backup": _backup, "restore": _restore, "export": _export,
        "passwd": _passwd, "audit": _audit, "salvage": _salvage, "server-key": _server_key,
    }
    return handlers[args.store_action](args, ctx)


def _init(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.services.passphrases import words_to_avoid
    from app.core.storage.passphrase import PASSPHRASE_ADVICE, require_strong

    store = _store(ctx)
    if store.exists():
        raise InputError(
            f"A store already exists in {ctx.data_dir}", "Use it, or choose another folder with --data-dir"
        )
    if not args.passphrase_stdin:
        ctx.message(f"Choose a passphrase for the new store. {PASSPHRASE_ADVICE}.")
    passphrase = _ask(args, "New passphrase: ", confirm=True)
    require_strong(passphrase, words_to_avoid(ctx.settings))
    ctx.progress("creating the encrypted store…")
    with store:
        store.create(passphrase)
    ctx.end_progress()
    ctx.result(f"Created an encrypted store at {store.path}")
    ctx.message("Keep the passphrase safe: without it the data cannot be recovered by anyone.")
    return 0


def _check(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataclasses import asdict

    from app.core.storage.opening import StoreDamaged

    store = _store(ctx)
    if not store.exists():
        raise InputError(f"There is no store in {ctx.data_dir}", "Create one with 'clinic-assistant store init'")
    passphrase = _ask(args, "Passphrase: ")
    try:
        with store:
            store.unlock(passphrase)
            report = store.check()
    except StoreDamaged:
        ctx.progress("the store is damaged: finding which records can still be read…")
        report = store.inspect_damage(passphrase)
        ctx.end_progress()
    if args.json:
        ctx.result_json(asdict(report))
    else:
        _print_check(ctx, store.path, report)
    return 0 if report.ok else EXIT_PROBLEMS


def _ids(ranges: list[list[int]], limit: int = 8) -> str:
    shown = [f"{lo}" if lo == hi else f"{lo}-{hi}" if hi < 2**63 - 1 else f"{lo} on" for lo, hi in ranges[:limit]]
    return ", ".join(shown) + (f" and {len(ranges) - limit} more ranges" if len(ranges) > limit else "")


def _print_check(ctx: CliContext, path: Path, report: CheckReport) -> None:
    damage = report.damage
    if damage is None:
        ctx.result(f"{'OK' if report.ok else 'PROBLEMS FOUND'}: {path} (layout version {report.schema_version})")
        ctx.result("records: " + ", ".join(f"{k} {v}" for k, v in report.counts.items()))
    else:
        ctx.result(
            f"DAMAGED: {path} (layout version {report.schema_version}): {len(damage.damaged_pages)} of its "
            f"{damage.page_count} pages cannot be read"
        )
        ctx.result("records that can be read: " + ", ".join(f"{k} {v}" for k, v in report.counts.items()))
    ctx.result("cipher: " + ", ".join(f"{k} {v}" for k, v in sorted(report.cipher.items())))
    for problem in report.integrity_errors + report.cipher_errors:
        ctx.result(f"problem: {problem}")
    if report.foreign_key_errors:
        ctx.result(f"problem: {report.foreign_key_errors} rows point at missing records")
    if damage is None:
        return
    for table in damage.tables:
        ids = _ids(table.lost_ids)
        if table.rows_lost is None:
            ctx.result(f"damaged: {table.table}: an unknown number of records cannot be read (ids {ids})")
        elif table.rows_lost:
            at_most = "" if table.lost_exact else "at most "
            ctx.result(f"damaged: {table.table}: {at_most}{table.rows_lost} records cannot be read (ids {ids})")
        for index in table.damaged_indexes:
            ctx.result(f"damaged: index {index} of {table.table} (no records lost: a salvaged copy rebuilds it)")
    if not damage.tables and damage.damaged_pages:
        ctx.result("damaged: the damaged pages hold no records (unused space)")
    ctx.result(
        "what to do: 'clinic-assistant store salvage OUT' copies every readable record into a new store; then "
        "'clinic-assistant store restore OUT --force' (the damaged file is kept beside it). Or restore the latest "
        "backup."
    )


def _backup_summary(ctx: CliContext, verb: str, info: BackupInfo, as_json: bool) -> None:
    from dataclasses import asdict

    data = asdict(info)
    if as_json:
        ctx.result_json(data)
    else:
        counts = ", ".join(f"{k} {v}" for k, v in data["counts"].items())
        ctx.result(f"{verb} {data['path']} ({data['bytes']} bytes, layout version {data['schema_version']}): {counts}")


def _backup(args: argparse.Namespace, ctx: CliContext) -> int:
    with _unlocked(args, ctx) as store:
        ctx.progress("writing and verifying the backup…")
        info = store.backup(args.output, overwrite=args.force)
        ctx.end_progress()
    _backup_summary(ctx, "Backed up to", info, args.json)
    ctx.message(f"Keep {Path(info.path).name}.cipher.json with the backup: it records the cipher settings.")
    return 0


def _restore(args: argparse.Namespace, ctx: CliContext) -> int:
    store = _store(ctx)
    if store.exists() and not args.force:
        raise InputError(
            f"A store already exists in {ctx.data_dir}",
            "Pass --force to replace it; the current file is kept beside it as clinic.db.replaced-<time>",
        )
    passphrase = _ask(args, "Passphrase of the backup: ")
    ctx.progress("verifying and restoring the backup…")
    with store:
        info = store.restore(args.backup, passphrase, replace_existing=args.force)
    ctx.end_progress()
    _backup_summary(ctx, "Restored", info, args.json)
    return 0


def _export(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.storage.export import PLAINTEXT_WARNING, write_private_text

    ctx.message(f"WARNING: {PLAINTEXT_WARNING}")
    if not args.yes:
        if args.passphrase_stdin or not sys.stdin.isatty():
            raise InputError("The unencrypted export was not confirmed", "Add --yes to confirm it")
        if input("Type 'yes' to write the unencrypted file: ").strip().lower() != "yes":
            raise InputError("The export was cancelled", "Nothing was written")
    with _unlocked(args, ctx) as store:
        repos = store.repositories()
        patient_id = args.patient_id
        if args.mrn is not None:
            patient = repos.patients.find_by_mrn(args.mrn)
            if patient is None:
                raise InputError("No patient has that MRN", "Check the MRN")
            patient_id = patient.id
        text = store.export_patient_text(patient_id)
    write_private_text(args.output, text, overwrite=args.force)
    ctx.result(f"Wrote patient {patient_id}'s notes (unencrypted) to {args.output}")
    return 0


def _passwd(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.services.passphrases import change_passphrase, words_to_avoid
    from app.core.storage.passphrase import PASSPHRASE_ADVICE

    store = _store(ctx)
    if not store.exists():
        raise InputError(f"There is no store in {ctx.data_dir}", "Create one with 'clinic-assistant store init'")
    current = _ask(args, "Current passphrase: ")
    with store:
        store.unlock(current)
        if not args.passphrase_stdin:
            ctx.message(f"Choose the new passphrase. {PASSPHRASE_ADVICE}.")
        new = _ask(args, "New passphrase: ", confirm=True)
        for step in change_passphrase(store, current, new, words_to_avoid(ctx.settings, store)):
            if step.done:
                ctx.end_progress()
                ctx.result(step.message)
            else:
                ctx.progress(step.message)
    return 0


def _audit(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.storage.audit import AuditAction, write_audit_csv, write_audit_json

    since = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since)
        except ValueError:
            raise InputError("--since is not an ISO date or time", "Use e.g. 2026-01-31 or 2026-01-31T08:00") from None
        if since.tzinfo is None:
            since = since.astimezone()  # local time, as the user typed it
    with _unlocked(args, ctx) as store:
        repos = store.repositories()
        entries = repos.audit.entries(since=since)
        repos.audit.record(AuditAction.EXPORT, "audit_log")
    write = write_audit_json if args.format == "json" else write_audit_csv
    if args.output is None:
        write(entries, ctx.stdout)
    else:
        with open(args.output, "w", encoding="utf-8", newline="") as fh:
            write(entries, fh)
        ctx.message(f"Wrote {len(entries)} audit entries to {args.output}")
    return 0


def _salvage(args: argparse.Namespace, ctx: CliContext) -> int:
    from dataclasses import asdict

    store = _store(ctx)
    if not store.exists():
        raise InputError(f"There is no store in {ctx.data_dir}", "Check --data-dir")
    passphrase = _ask(args, "Passphrase: ")
    new = _ask(args, "New passphrase: ", confirm=True) if args.new_passphrase else None
    if new is not None:
        from app.core.services.passphrases import words_to_avoid
        from app.core.storage.passphrase import require_strong

        require_strong(new, words_to_avoid(ctx.settings))  # before the long copy, not after it
    ctx.progress("copying every record that can be read…")
    report = store.salvage(args.output, passphrase, new_passphrase=new, overwrite=args.force)
    ctx.end_progress()
    if args.json:
        ctx.result_json(asdict(report))
    else:
        _print_salvage(ctx, report)
    ctx.message(
        f"The store itself was not changed: keep it. To use the salvaged copy: clinic-assistant store restore "
        f"{report.path} --force (the current file is then kept beside it as clinic.db.replaced-<time>)."
    )
    return 0


def _print_salvage(ctx: CliContext, report: SalvageReport) -> None:
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
    ctx.result(f"Salvaged to {report.path} ({report.bytes} bytes, layout version {report.schema_version}): {counts}")
    lost = {k: v for k, v in report.lost.items() if v != 0}
    if not lost:
        ctx.result("Nothing was lost: every record could be read.")
    else:
        text = ", ".join(f"{k} {'an unknown number' if v is None else v}" for k, v in lost.items())
        ctx.result(f"Could not be read{'' if report.lost_exact else ' (at most)'}: {text}")
    if report.placeholders:
        text = ", ".join(f"{k} {v}" for k, v in report.placeholders.items())
        ctx.result(f"Stand-ins named 'Unreadable record' for lost records that others point at: {text}")


def _server_key(args: argparse.Namespace, ctx: CliContext) -> int:
    """The key comes from a prompt or stdin, never from the command line (other users can read the process list)."""
    from app.core.config import drop_secret_from_file, secret_from_env
    from app.core.services.server_key import store_key

    with _unlocked(args, ctx) as store:
        if args.server_key_action == "set":
            if args.passphrase_stdin or not sys.stdin.isatty():
                key = _read_stdin_line("API key").strip()
            else:
                key = getpass.getpass("Clinic server API key: ").strip()
            if not key:
                raise InputError("The API key is empty", "Give the key the clinic server expects")
            changed = store_key(store, key)
            ctx.result("Saved the clinic server's API key in the encrypted store." if changed
                       else "The store already holds this key: nothing changed.")
        else:
            changed = store_key(store, "")
            ctx.result("Removed the clinic server's API key from the store." if changed
                       else "The store holds no clinic server API key: nothing changed.")
    if drop_secret_from_file(ctx.config_file):
        ctx.message(f"The settings file {ctx.config_file} held a key too: it was removed from the file.")
    if secret_from_env():
        ctx.message("CLINIC_LLM__SERVER_API_KEY is set in this environment: where it is set, it is used instead.")
    return 0
