"""`clinic-assistant patient add|summary`: patients and their summaries from the shell.

    patient add --name "FAMILY, GIVEN" --dob YYYY-MM-DD --mrn MRN [--json]
    patient summary --mrn MRN [--json] [--refresh] [--model [NAME]]

The passphrase is read like the other store commands: from a prompt, or the first line of stdin with
`--passphrase-stdin`. `summary --refresh` first extracts the facts of every accepted note version that has none yet
(and retries failed ones), here in this process; with `--model` the language model's step runs too (on the redacted
notes), and notes read by the parsers alone are read again. The summary itself never calls a model.
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import TYPE_CHECKING, Any

from app.cli.cmd_store import _unlocked
from app.cli.context import CliContext
from app.core.errors import InputError

if TYPE_CHECKING:
    from app.core.llm.base import LanguageModel
    from app.core.redact.base import Redactor
    from app.core.storage import Patient, Repositories

SETTINGS_MODEL = "\0settings"  # `--model` without a name: the model of the settings


def add_store_options(parser: argparse.ArgumentParser, *, model: bool = False) -> None:
    parser.add_argument(
        "--passphrase-stdin", action="store_true", help="read the passphrase from the first line of stdin"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    if model:
        parser.add_argument(
            "--model", nargs="?", const=SETTINGS_MODEL, metavar="NAME",
            help="also run the language model's extraction step on the redacted note (default: parsers only); "
                 "without NAME, the model of the settings",
        )


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("patient", help="add a patient, or show a patient's summary",
                       description="Patients in the encrypted store, and their summaries.")
    actions = p.add_subparsers(dest="patient_action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a patient", description="Add a patient to the store.")
    add.add_argument("--name", required=True, help='"FAMILY, GIVEN" (the given names may be left out)')
    add.add_argument("--dob", required=True, help="date of birth, YYYY-MM-DD")
    add.add_argument("--mrn", required=True, help="medical record number (unique)")
    add_store_options(add)
    summary = actions.add_parser(
        "summary", help="the patient's summary from the accepted notes, every item with its source",
        description="Problems, medications (with their history), allergies, vital signs, results, the last plan, "
                    "follow-ups and open drafts, each linked to the note sentence it came from.",
    )
    summary.add_argument("--mrn", required=True, help="the patient's MRN")
    summary.add_argument("--refresh", action="store_true",
                         help="first extract the facts of accepted notes not summarised yet (waits until done)")
    add_store_options(summary, model=True)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    return _add(args, ctx) if args.patient_action == "add" else _summary(args, ctx)


def parse_date(value: str, what: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InputError(f"{what} is not a date", "Use YYYY-MM-DD, e.g. 1961-04-23") from None


def _name(value: str) -> tuple[str, str]:
    family, _comma, given = value.partition(",")
    if not family.strip():
        raise InputError("The name has no family name", 'Write it as "FAMILY, GIVEN"')
    return family.strip(), given.strip()


def patient_by_mrn(repos: Repositories, mrn: str) -> Patient:
    patient = repos.patients.find_by_mrn(mrn)
    if patient is None:
        raise InputError(
            "No patient has that MRN", "Check the MRN, or add the patient with 'clinic-assistant patient add'"
        )
    return patient


def patient_json(patient: Patient, today: date) -> dict[str, Any]:
    from app.core.summary.age import age_on

    dob = patient.date_of_birth
    return {
        "patient_id": patient.id, "name": patient.display_name, "family_name": patient.family_name,
        "given_names": patient.given_names, "date_of_birth": dob.isoformat() if dob else None, "mrn": patient.mrn,
        "age": age_on(dob, today) if dob and dob <= today else None,
    }


def _describe(patient: Patient, today: date) -> str:
    from app.core.summary.age import age_text

    born = patient.date_of_birth
    age = age_text(born, today)
    return (f"{patient.display_name} (MRN {patient.mrn or 'none'}"
            f"{', born ' + born.isoformat() if born else ''}{', ' + age if age else ''})")


def _add(args: argparse.Namespace, ctx: CliContext) -> int:
    family, given = _name(args.name)
    born = parse_date(args.dob, "--dob")
    today = date.today()
    if born > today:
        raise InputError("The date of birth is in the future", "Check --dob")
    with _unlocked(args, ctx) as store:
        patient = store.repositories().patients.add(family, given, date_of_birth=born, mrn=args.mrn)
    if args.json:
        ctx.result_json(patient_json(patient, today))
    else:
        ctx.result(f"Added patient {patient.id}: {_describe(patient, today)}")
    return 0


def load_engines(args: argparse.Namespace, ctx: CliContext) -> tuple[LanguageModel | None, Redactor | None]:
    """The redactor and the language model when `--model` was given; (None, None) for the parsers alone."""
    if getattr(args, "model", None) is None:
        return None, None
    from app.cli.chat_models import check_chat_model
    from app.core.services.engines import load_language_model, load_redactor

    name = None if args.model == SETTINGS_MODEL else args.model
    if ctx.settings.llm.backend == "local":
        check_chat_model(name or ctx.settings.llm.model, ctx.models_dir)
    ctx.progress("loading the identifier detector…")
    redactor = load_redactor(ctx.settings, ctx.models_dir)
    llm = load_language_model(ctx.settings, ctx.models_dir, name)
    for step in llm.load():
        ctx.progress(step.message)
    ctx.end_progress()
    return llm, redactor


def describe_outcome(outcome: Any) -> str:
    if outcome.status is None:
        return "not extracted (the version is not accepted)"
    if outcome.error:
        return f"extraction failed ({outcome.error}): the note is marked 'not summarised'"
    return f"{outcome.facts} facts extracted ({outcome.extractor})"


def _summary(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.services.summaries import extract_pending, patient_summary
    from app.core.summary.render import NO_NOTES, summary_text

    today = date.today()
    if args.model is not None and not args.refresh:
        ctx.message("note: --model only matters with --refresh (the summary itself never calls a model)")
    llm, redactor = load_engines(args, ctx) if args.refresh else (None, None)
    try:
        with _unlocked(args, ctx) as store:
            repos = store.repositories()
            patient = patient_by_mrn(repos, args.mrn)
            if args.refresh:
                for number, outcome in enumerate(
                    extract_pending(repos, llm, redactor, patient_id=patient.id, retry_failed=True,
                                    upgrade=llm is not None), 1
                ):
                    ctx.progress(f"note version {outcome.note_version_id}: {describe_outcome(outcome)}")
                    if outcome.error:
                        ctx.message(f"note version {outcome.note_version_id}: {describe_outcome(outcome)}")
                    ctx.progress(f"{number} note version(s) summarised", terminal_only=True)
                ctx.end_progress()
            repos.patients.overview(patient.id)  # the patient view, audited as one
            summary = patient_summary(repos, patient.id, today)
    finally:
        if llm is not None:
            llm.close()
    if args.json:
        out = {"patient": patient_json(patient, today), **summary.as_dict()}
        if summary.empty:
            out["message"] = NO_NOTES
        ctx.result_json(out)
    else:
        ctx.result(_describe(patient, today))
        ctx.result(summary_text(summary))
    return 0
