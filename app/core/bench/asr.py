"""`bench asr`: what our speech layer costs over faster-whisper itself, and how soon the text is ready after Stop.

Figures:
- app_rtf / direct_rtf: seconds of work per second of audio over the development clips
  (`../shared/data/speech`), for the app's file path (decode, one-pass transcription, guards, dictation
  formatting) and for faster-whisper's `BatchedInferencePipeline.transcribe` called directly on the same file with
  the same keyword arguments. app_vs_direct_ratio = app / direct; target <= 1.05. Runs alternate and each file's
  best of `repeats` counts, so a busy neighbour hurts both sides alike.
- wer: word error rate of the app's text against references.tsv, after normalisation.
- stop_to_final_s: a dictation made by concatenating the clips (60 s; a few seconds in quick mode) is pushed into
  the live transcriber at wall-clock pace, as a microphone would deliver it; the time from the end of the audio
  (Stop) to the final text. Target <= 1.5 s with whisper-base on 2 cores. It splits into
  stop_waited_for_running_decode_s (a decode already running at Stop: a preview, or work we were behind on) and
  stop_final_decode_s (what was left, packed into one pass). live_decodes counts recogniser calls (confirmed
  utterances and previews), live_max_lag_s the worst lag behind real time while speaking.
- peak_rss_mib: the process's peak memory during the run.
"""

from __future__ import annotations

import csv
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.core.bench.common import BenchRequest, PeakMemory
from app.core.paths import install_root

TARGET_RATIO = 1.05
TARGET_STOP_TO_FINAL_S = 1.5
DICTATION_S = 60.0
QUICK_DICTATION_S = 4.0
GAP_S = 0.4  # shorter than the 0.5 s pause that ends an utterance: clips run on into long utterances (the hard case)
QUICK_FILES = ("coqui_LJ001-0002.wav", "coqui_LJ001-0008.wav")


def speech_dir() -> Path:
    return install_root().parent / "shared" / "data" / "speech"


def references(directory: Path) -> dict[str, str]:
    with open(directory / "references.tsv", encoding="utf-8", newline="") as fh:
        return {row["file"]: row["transcript"] for row in csv.DictReader(fh, delimiter="\t")}


def dictation(clips: list[np.ndarray], seconds: float) -> np.ndarray:
    """Clips end to end with short pauses, repeated until `seconds`, cut to exactly that length."""
    gap = np.zeros(int(GAP_S * 16000), dtype=np.float32)
    pieces: list[np.ndarray] = []
    total = 0
    while total < seconds * 16000:
        for clip in clips:
            pieces.extend([clip, gap])
            total += clip.size + gap.size
    return np.concatenate(pieces)[: int(seconds * 16000)]


def _file_rtf(request: BenchRequest, transcriber: Any, files: list[Path], refs: dict[str, str]) -> dict[str, Any]:
    from app.core.asr.base import DecodeOptions
    from app.core.asr.files import transcribe_file
    from app.core.asr.vocabulary import load_vocabulary
    from app.core.asr.wer import word_errors
    from app.core.audio.decode import decode_file
    from app.core.dictation.document import DictationOptions

    asr = request.settings.asr
    options = DecodeOptions.from_settings(asr, load_vocabulary(asr))
    dictation_options = DictationOptions(asr.dictation_commands, asr.format_numbers, asr.low_confidence)
    repeats = 1 if request.quick else 3
    app_s = direct_s = audio_s = 0.0
    errors = words = 0
    for path in files:
        duration = decode_file(path).duration_s
        kwargs = transcriber.decode_kwargs(options, duration)
        best_app = best_direct = float("inf")
        text = ""
        for _ in range(repeats):
            started = time.perf_counter()
            text = transcribe_file(path, transcriber, options, dictation_options).text
            best_app = min(best_app, time.perf_counter() - started)
            started = time.perf_counter()
            segments, _info = transcriber.pipeline.transcribe(str(path), **kwargs)
            for _segment in segments:
                pass
            best_direct = min(best_direct, time.perf_counter() - started)
        app_s, direct_s, audio_s = app_s + best_app, direct_s + best_direct, audio_s + duration
        e, n = word_errors(refs.get(path.name, ""), text)
        errors, words = errors + e, words + n
        request.progress(f"asr: {path.name} app {best_app:.2f} s, direct {best_direct:.2f} s")
    ratio = app_s / direct_s if direct_s else float("nan")
    return {
        "files": len(files),
        "files_audio_s": round(audio_s, 2),
        "app_rtf": round(app_s / audio_s, 4),
        "direct_rtf": round(direct_s / audio_s, 4),
        "app_vs_direct_ratio": round(ratio, 3),
        "app_vs_direct_ok": ratio <= TARGET_RATIO,
        "wer": round(errors / words, 4) if words else None,
    }


class _CountingTranscriber:
    """The same recogniser with its calls counted (confirmed utterances plus previews)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.spans: list[tuple[float, float]] = []  # monotonic (start, end) of each call, segments included
        self.name = inner.name
        self.multilingual = inner.multilingual

    def transcribe(self, *args: Any, **kwargs: Any) -> Any:
        started = time.monotonic()
        result = self.inner.transcribe(*args, **kwargs)
        result.segments = iter(list(result.segments))  # decoding happens while iterating: time all of it
        self.spans.append((started, time.monotonic()))
        return result


def _live_latency(request: BenchRequest, transcriber: Any, audio: np.ndarray) -> dict[str, Any]:
    from app.core.asr.live import LiveTranscriber
    from app.core.asr.vocabulary import load_vocabulary
    from app.core.audio.replay import ReplaySource

    asr = request.settings.asr
    counting = _CountingTranscriber(transcriber)
    live = LiveTranscriber.from_settings(counting, asr, load_vocabulary(asr))
    source = ReplaySource(audio, realtime=True)
    max_lag = 0.0
    final_at: float | None = None
    words = 0
    for update in live.run(source):
        now = time.monotonic()
        if update.final:
            final_at = now
            words = len(update.confirmed.split())
        elif source.started_at is not None:
            max_lag = max(max_lag, now - (source.started_at + update.audio_s))
    if source.started_at is None or final_at is None:
        raise RuntimeError("the live transcriber ended without a final update")
    stop_at = source.started_at + audio.size / 16000
    latency = final_at - stop_at
    # Where the wait after Stop went: finishing a decode already running (a preview, or work we were behind on),
    # then decoding what was left.
    busy_at_stop = max((end - stop_at for start, end in counting.spans if start < stop_at < end), default=0.0)
    after_stop = sum(end - max(start, stop_at) for start, end in counting.spans if end > stop_at) - busy_at_stop
    return {
        "live_audio_s": round(audio.size / 16000, 2),
        "stop_to_final_s": round(latency, 3),
        "stop_to_final_ok": latency <= TARGET_STOP_TO_FINAL_S,
        "stop_waited_for_running_decode_s": round(busy_at_stop, 3),
        "stop_final_decode_s": round(after_stop, 3),
        "live_decodes": len(counting.spans),
        "live_max_lag_s": round(max_lag, 3),
        "live_words": words,
    }


def run(request: BenchRequest) -> dict[str, Any]:
    from app.core.asr.faster_whisper_engine import load_transcriber, resolve_threads
    from app.core.audio.decode import decode_file

    directory = speech_dir()
    refs = references(directory)
    names = list(QUICK_FILES) if request.quick else sorted(refs)
    files = [directory / name for name in names]
    asr = request.settings.asr
    with PeakMemory() as memory:
        request.progress(f"asr: loading {asr.model}")
        started = time.perf_counter()
        transcriber = load_transcriber(asr, request.models_dir)
        load_s = time.perf_counter() - started
        figures: dict[str, Any] = {
            "model": transcriber.name,
            "threads": resolve_threads(asr.threads),
            "compute_type": asr.compute_type,
            "load_s": round(load_s, 2),
        }
        figures.update(_file_rtf(request, transcriber, files, refs))
        clips = [decode_file(path).samples for path in files]
        seconds = QUICK_DICTATION_S if request.quick else DICTATION_S
        request.progress(f"asr: dictating {seconds:.0f} s in real time")
        figures.update(_live_latency(request, transcriber, dictation(clips, seconds)))
    figures["peak_rss_mib"] = memory.peak_mib
    figures["targets"] = {"app_vs_direct_ratio": TARGET_RATIO, "stop_to_final_s": TARGET_STOP_TO_FINAL_S}
    return figures
