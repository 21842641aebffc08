"""`clinic-assistant speak TEXT [-o OUT.wav] [--voice NAME]`, `speak --list-voices`, `speak --spoken-text TEXT`.

Without -o the text is played on the output device (tts.output_device, else the system default), starting as soon
as its first sentence is synthesised. With no device that is a clear error, and the text is still on screen.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.context import CliContext
from app.cli.private_files import create_private
from app.cli.text_input import text_argument
from app.core.errors import AudioError, InputError

if TYPE_CHECKING:
    from app.core.tts.base import Speaker, VoiceInfo


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "speak",
        help="read text aloud with the Piper voice, or save it as a WAV file",
        description="Read clinical text aloud (doses, units and blood pressure are read as words). "
        "TEXT '-' reads standard input.",
    )
    p.add_argument("text", nargs="?", metavar="TEXT", help="what to say ('-' = standard input)")
    p.add_argument("-o", "--output", type=Path, metavar="OUT.wav", help="write a WAV file instead of playing")
    p.add_argument("--voice", metavar="NAME", help="a voice in the models folder's piper/ (default: tts.voice)")
    p.add_argument("--speed", type=float, metavar="X", help="speaking rate, 0.5-2.0 (default: tts.speed)")
    p.add_argument("--device", metavar="NAME", help="audio output name (default: tts.output_device)")
    p.add_argument("--list-voices", action="store_true", help="list the voices that can be chosen")
    p.add_argument(
        "--spoken-text", action="store_true", help="print the text as it would be spoken (no audio, no voice needed)"
    )
    p.add_argument("--json", action="store_true", help="machine-readable result on stdout")
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.list_voices:
        return _list_voices(args, ctx)
    text = _read_text(args, ctx)
    if args.spoken_text:
        return _spoken_text(text, args, ctx)
    if args.speed is not None and not 0.5 <= args.speed <= 2.0:
        raise InputError(f"The speed {args.speed} is out of range", "Use a value from 0.5 to 2.0")
    if args.output is not None:
        return _export(text, args, ctx)
    return _play(text, args, ctx)


def _read_text(args: argparse.Namespace, ctx: CliContext) -> str:
    text = text_argument(args.text, ctx)  # bad bytes become U+FFFD (counted on stderr), never a crash
    if not text.strip():
        raise InputError("No text to speak", "Give the text as an argument, or '-' to read standard input")
    return text


def _load_speaker(args: argparse.Namespace, ctx: CliContext, voice: VoiceInfo | None = None) -> Speaker:
    from app.core.services.engines import load_speaker
    from app.core.tts.voices import resolve_voice

    voice = voice or resolve_voice(args.voice or ctx.settings.tts.voice, ctx.models_dir)
    ctx.progress(f"loading the voice {voice.name}…")
    speaker = load_speaker(ctx.settings, ctx.models_dir, voice)
    if args.speed is not None:
        speaker.speed = args.speed
    ctx.end_progress()
    return speaker


def _export(text: str, args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.tts.wav import check_wav_target, write_wav

    check_wav_target(args.output)  # before the voice is loaded
    speaker = _load_speaker(args, ctx)
    create_private(args.output)  # spoken clinical text: readable by the doctor's account only (0600)
    export = write_wav(speaker.synthesize(text), args.output, speaker.sample_rate)
    if args.json:
        ctx.result_json(
            {"output": str(export.path), "voice": speaker.voice.name, "sample_rate": export.sample_rate,
             "duration_s": export.duration_s, "sentences": export.sentences}
        )
    else:
        ctx.result(f"{export.path}  ({export.duration_s:.1f} s, {export.sentences} sentence(s), {speaker.voice.name})")
    return 0


def _play(text: str, args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.tts.playback import Player
    from app.core.tts.read_aloud import ReadAloud
    from app.core.tts.voices import resolve_voice

    tts = ctx.settings.tts
    voice = resolve_voice(args.voice or tts.voice, ctx.models_dir)
    device = tts.output_device if args.device is None else args.device
    player = Player(voice.sample_rate, device=device, volume=tts.volume)
    try:
        player.open()  # fail on a missing speaker before spending a second loading the voice
    except AudioError as exc:
        raise AudioError(
            exc.message,
            "Connect speakers or headphones and check the system's sound settings, or save the speech as a file "
            "with `clinic-assistant speak TEXT -o OUT.wav`",
        ) from None
    speaker = _load_speaker(args, ctx, voice)
    session = ReadAloud(speaker, player)
    ctx.progress("speaking… (Ctrl+C stops)")
    result = session.run([text])
    ctx.end_progress()
    if args.json:
        ctx.result_json(
            {"played": not result.stopped, "voice": speaker.voice.name, "sentences": result.sentences,
             "duration_s": result.audio_seconds, "first_audio_s": result.first_audio_s}
        )
    else:
        ctx.message(f"spoke {result.sentences} sentence(s), {result.audio_seconds:.1f} s")
    return 0


def _spoken_text(text: str, args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.tts.normalise import ClinicalNormaliser
    from app.core.tts.sentences import split_sentences

    normaliser = ClinicalNormaliser(date_order=ctx.settings.tts.date_order)
    spoken = [s for s in (normaliser(sentence) for sentence in split_sentences(text)) if s]
    if args.json:
        ctx.result_json({"sentences": spoken})
    else:
        for sentence in spoken:
            ctx.result(sentence)
    return 0


def _list_voices(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.tts.voices import list_voices, voices_dir

    voices = list_voices(ctx.models_dir)
    chosen = ctx.settings.tts.voice
    if args.json:
        ctx.result_json(
            [
                {"name": v.name, "language": v.language, "quality": v.quality, "sample_rate": v.sample_rate,
                 "path": str(v.model_path), "selected": v.name == chosen, "usable": v.usable, "problem": v.problem}
                for v in voices
            ]
        )
        return 0
    ctx.message(f"voices in {voices_dir(ctx.models_dir)}:")
    if not voices:
        ctx.message("  none: run `clinic-assistant models install`, or add NAME.onnx + NAME.onnx.json there")
    for v in voices:
        mark = "*" if v.name == chosen else " "
        detail = f"unusable: {v.problem}" if v.problem else f"{v.language} {v.quality} {v.sample_rate} Hz"
        ctx.result(f"{mark} {v.name:32} {detail}")
    return 0
