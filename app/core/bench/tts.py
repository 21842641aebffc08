"""Read-aloud benchmark: how soon speech starts, how fast it is made, and what our layer costs over Piper itself.

Figures:
- first_sentence_to_audio_s: from a complete first sentence to its first audio (normalise + synthesise), voice
  already loaded and warmed up; opening_sentence_* does the same for every sentence of the answer as if it came
  first (the delay grows with the opening clause's length). Target <= 0.5 s.
- rtf: synthesis time / audio duration over a fixed clinical answer (< 1 = faster than it is spoken).
- stream_start_speaking_s: a simulated model streams the answer at ~28 tokens/s (the 1.5B model's pace here);
  time from its first token to the first audio chunk. Compared with waiting for the whole answer and then
  synthesising (wait_whole_answer_start_speaking_s). stream_late_sentences counts sentences whose audio was not
  ready when the previous one would have finished playing (an audible gap).
- ratio_vs_direct_*: ours / `PiperVoice.synthesize` called directly on the same normalised text, with the app's
  ONNX session options (synthesis_threads); medians of runs alternating ours and direct.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from app.core.bench.common import BenchRequest, PeakMemory
from app.core.tts.normalise import ClinicalNormaliser
from app.core.tts.piper_engine import SYNTHESIS_THREADS, PiperSpeaker, load_piper_voice
from app.core.tts.sentences import split_sentences

TARGET_FIRST_AUDIO_S = 0.5
MODEL_TOKENS_PER_S = 28.0

CLINICAL_ANSWER = (
    "The blood pressure of 152/96 mmHg is above target. "
    "Start amlodipine 5 mg once daily, e.g. in the morning, and recheck BP in 2-4 weeks. "
    "Aim for less than 130/80 mmHg at home. "
    "If ankle swelling occurs, reduce the dose to 2.5 mg. "
    "Continue metformin 500 mg b.i.d. with meals. "
    "Dr. Patel will review the HbA1c of 7.8% and the eGFR of 64 mL/min at the next visit."
)
QUICK_ANSWER = "Start amlodipine 5 mg daily. Recheck BP in 2 weeks."  # plumbing only: seconds, not figures


def model_tokens(text: str) -> list[str]:
    """Split like a model's tokenizer roughly would: words with their leading space, each punctuation mark alone
    ("0.5" arrives as "0", ".", "5", which exercises the sentence splitter)."""
    return re.findall(r"\s*[\w']+|\s*[^\w\s]", text)


def paced(tokens: list[str], tokens_per_s: float) -> Iterator[str]:
    """Yield tokens at a model's pace (the pipeline bench uses the real model instead)."""
    start = time.perf_counter()
    for i, token in enumerate(tokens):
        delay = start + i / tokens_per_s - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield token


def _first_audio(speaker: PiperSpeaker, sentence: str) -> float:
    started = time.perf_counter()
    next(iter(speaker.synthesize(sentence)))
    return time.perf_counter() - started


def _stream(speaker: PiperSpeaker, text: str) -> dict[str, Any]:
    tokens = model_tokens(text)
    started = time.perf_counter()
    first: float | None = None
    play_end = 0.0  # when the audio queued so far would finish if played without gaps
    late = 0
    last_index = -1
    for chunk in speaker.speak_stream(paced(tokens, MODEL_TOKENS_PER_S)):
        ready = time.perf_counter() - started
        if first is None:
            first, play_end = ready, ready
        elif chunk.sentence_index != last_index and ready > play_end:
            late += 1
        play_end = max(play_end, ready) + chunk.duration_s
        last_index = chunk.sentence_index
    return {
        "stream_tokens": len(tokens),
        "stream_answer_generation_s": round(len(tokens) / MODEL_TOKENS_PER_S, 3),
        "stream_start_speaking_s": round(first or 0.0, 3),
        "stream_late_sentences": late,
    }


def _timed(blocks: Iterator[np.ndarray], sample_rate: int) -> tuple[float, float, float]:
    """(seconds to the first block, seconds to the last, seconds of audio) for a lazy stream of sample blocks."""
    started = time.perf_counter()
    first: float | None = None
    samples = 0
    for block in blocks:
        first = first or time.perf_counter() - started
        samples += len(block)
    return first or 0.0, time.perf_counter() - started, samples / sample_rate


def run(request: BenchRequest) -> dict[str, Any]:
    answer = QUICK_ANSWER if request.quick else CLINICAL_ANSWER
    sentences = split_sentences(answer)
    reps = 1 if request.quick else 5
    with PeakMemory() as memory:
        request.progress("tts: loading the voice")
        speaker = PiperSpeaker.from_settings(request.settings, models_dir=request.models_dir)
        rate = speaker.sample_rate
        # The first ONNX run allocates its buffers; the app warms up the same way when it loads the voice.
        warmup_s = _timed((c.samples for c in speaker.synthesize("Ready.")), rate)[1]

        request.progress("tts: first sentence to first audio")
        first_audio = [_first_audio(speaker, sentences[0]) for _ in range(reps)]
        # Each sentence of the answer as if it opened an answer: how the delay varies with the opening sentence.
        as_opening = [_first_audio(speaker, sentence) for sentence in sentences]

        request.progress("tts: the whole answer, ours and Piper called directly, alternately")
        import piper  # importable: the speaker above loaded it

        normaliser = ClinicalNormaliser(date_order=request.settings.tts.date_order)
        normalised = " ".join(normaliser(sentence) for sentence in sentences)
        load_started = time.perf_counter()
        # The same ONNX session options as the app's (its thread count): the comparison is of our layer only.
        direct = load_piper_voice(piper, speaker.voice)
        direct_load = time.perf_counter() - load_started
        list(direct.synthesize("Ready."))
        ours_runs: list[tuple[float, float, float]] = []
        direct_runs: list[tuple[float, float, float]] = []
        for _ in range(reps):  # alternating, so machine noise hits both alike
            ours_runs.append(_timed((c.samples for c in speaker.synthesize(answer)), rate))
            direct_runs.append(_timed((c.audio_float_array for c in direct.synthesize(normalised)), rate))
        ours_first = statistics.median(r[0] for r in ours_runs)
        ours_total = statistics.median(r[1] for r in ours_runs)
        audio_s = ours_runs[0][2]
        direct_first = statistics.median(r[0] for r in direct_runs)
        direct_total = statistics.median(r[1] for r in direct_runs)

        request.progress("tts: streaming from a simulated model")
        streaming = _stream(speaker, answer)

    first_median = statistics.median(first_audio)
    return {
        "voice": speaker.voice.name,
        "load_s": round(speaker.load_seconds, 3),
        "direct_piper_load_s": round(direct_load, 3),
        "synthesis_threads": SYNTHESIS_THREADS,
        "comparison_runs": reps,
        "warmup_s": round(warmup_s, 3),
        "first_sentence_to_audio_s": round(first_median, 3),
        "first_sentence_to_audio_max_s": round(max(first_audio), 3),
        "opening_sentence_to_audio_median_s": round(statistics.median(as_opening), 3),
        "opening_sentence_to_audio_max_s": round(max(as_opening), 3),
        "target_first_audio_s": TARGET_FIRST_AUDIO_S,
        "meets_first_audio_target": statistics.median(as_opening) <= TARGET_FIRST_AUDIO_S,
        "answer_sentences": len(sentences),
        "audio_s": round(audio_s, 3),
        "synth_s": round(ours_total, 3),
        "rtf": round(ours_total / audio_s, 3) if audio_s else None,
        "direct_piper_synth_s": round(direct_total, 3),
        "direct_piper_first_audio_s": round(direct_first, 3),
        "ratio_vs_direct_total": round(ours_total / direct_total, 3) if direct_total else None,
        "ratio_vs_direct_first_audio": round(ours_first / direct_first, 3) if direct_first else None,
        "stream_tokens_per_s": MODEL_TOKENS_PER_S,
        **streaming,
        # Without streaming, speech starts only after the whole answer is generated and its first sentence made.
        "wait_whole_answer_start_speaking_s": round(streaming["stream_answer_generation_s"] + direct_first, 3),
        "peak_rss_mib": memory.peak_mib,
    }
