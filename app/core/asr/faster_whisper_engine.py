"""The Whisper engine: faster-whisper (CTranslate2) on the CPU, with the hallucination guards applied per segment.

Every stretch of speech is decoded exactly once, through faster-whisper's `BatchedInferencePipeline`: with VAD on, the
speech is cut at pauses and packed into clips of up to 30 s; with VAD off (live utterances, already cut at pauses),
the audio is the clip. Its sequential `WhisperModel.transcribe` instead seeks back to the last word of each window
and decodes the remainder again: that cost a second encoder pass per utterance here, and the re-decoded fraction of
a second of silence is exactly where Whisper invented words ("rest.", a drug from the hints repeated 30 times).
Measured on the development clips with the vocabulary hints: WER 0.03-0.04 one-pass vs up to 1.3 sequential.

faster-whisper is imported here only, so the CLI and the core tests load without it; a missing or broken native
library becomes `EngineUnavailable`, a missing or broken model `ModelError`.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from app.core.asr.base import DecodeOptions, Samples, Segment, Transcription, Word
from app.core.asr.guards import GuardThresholds, guard_segment, split_sentences
from app.core.audio.base import SAMPLE_RATE
from app.core.config import AsrSettings
from app.core.errors import CancelToken, ConfigError, EngineUnavailable, ModelError
from app.core.offline import enforce_offline

if TYPE_CHECKING:
    from faster_whisper import BatchedInferencePipeline, WhisperModel

log = logging.getLogger(__name__)

REQUIRED_FILES = ("model.bin", "config.json", "tokenizer.json")
CLIP_S = 30.0  # one Whisper window
VAD_MIN_SILENCE_MS = 160  # faster-whisper's own choice for its batched pipeline: cut at short pauses
BATCH_SIZE = 1  # batching clips saved no CPU time on 2 cores, and each clip in a batch costs memory


def resolve_threads(threads: int) -> int:
    return threads if threads > 0 else (os.cpu_count() or 1)


def _import_faster_whisper() -> Any:
    enforce_offline()
    try:
        import faster_whisper
    except (ImportError, OSError) as exc:
        raise EngineUnavailable(
            f"The speech engine (faster-whisper) cannot be loaded ({type(exc).__name__})",
            "Reinstall the application; faster-whisper and ctranslate2 must be installed",
        ) from None
    return faster_whisper


def _check_model_dir(model_dir: Path) -> None:
    if not model_dir.is_dir():
        raise ModelError(f"The speech model folder {model_dir} does not exist", "Run `clinic-assistant models install`")
    # Without tokenizer.json faster-whisper tries to download one: refuse before it can.
    missing = [name for name in REQUIRED_FILES if not (model_dir / name).is_file()]
    if missing:
        raise ModelError(
            f"The speech model in {model_dir} is incomplete (missing {', '.join(missing)})",
            "Run `clinic-assistant models install --force` for that model",
        )


class FasterWhisperTranscriber:
    """A loaded Whisper model. Not thread-safe: call it from one worker thread."""

    def __init__(self, model_dir: Path, *, threads: int = 0, compute_type: str = "int8", name: str = "") -> None:
        _check_model_dir(model_dir)
        library = _import_faster_whisper()
        try:
            self._model: WhisperModel = library.WhisperModel(
                str(model_dir), device="cpu", compute_type=compute_type, cpu_threads=resolve_threads(threads)
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise ModelError(
                f"The speech model in {model_dir} cannot be loaded ({type(exc).__name__})",
                "Run `clinic-assistant models verify`, then reinstall the model if it is corrupt",
            ) from None
        self._pipeline: BatchedInferencePipeline = library.BatchedInferencePipeline(self._model)
        self._name = name or model_dir.name
        log.info("speech model %s loaded (%s, %d threads)", self._name, compute_type, resolve_threads(threads))

    @property
    def name(self) -> str:
        return self._name

    @property
    def multilingual(self) -> bool:
        return bool(self._model.model.is_multilingual)

    @property
    def pipeline(self) -> BatchedInferencePipeline:
        """The faster-whisper pipeline itself, for the benchmark's direct-call comparison."""
        return self._pipeline

    def _language(self, options: DecodeOptions) -> str | None:
        if options.language is None:
            return None if self.multilingual else "en"
        if not self.multilingual and options.language != "en":
            raise ConfigError(
                f"The speech model '{self.name}' understands English only (language is set to '{options.language}')",
                "Choose the multilingual model whisper-base, or set the language to en",
            )
        if options.language not in self._model.supported_languages:
            raise ConfigError(
                f"'{options.language}' is not a language the speech model knows",
                "Use a two-letter code such as en, fr, de, es, or 'auto'",
            )
        return options.language

    def decode_kwargs(self, options: DecodeOptions, duration_s: float) -> dict[str, Any]:
        """The keyword arguments given to `BatchedInferencePipeline.transcribe` (the benchmark's direct call too)."""
        kwargs: dict[str, Any] = {
            "language": self._language(options),
            "beam_size": options.beam_size,
            "temperature": options.temperature,
            # Each clip is decoded on its own: an invented sentence cannot become the context of the next one.
            "condition_on_previous_text": False,
            "word_timestamps": options.word_timestamps,
            "without_timestamps": True,
            "hotwords": options.vocabulary.prompt or None,
            "no_speech_threshold": options.no_speech_threshold,
            "log_prob_threshold": options.log_prob_threshold,
            "compression_ratio_threshold": options.compression_ratio_threshold,
            "batch_size": BATCH_SIZE,
            "vad_filter": options.vad,
        }
        if options.vad:
            kwargs["vad_parameters"] = {
                "threshold": options.speech_threshold, "min_silence_duration_ms": VAD_MIN_SILENCE_MS,
            }
        elif duration_s >= CLIP_S:
            # Without VAD the pipeline needs the clips spelled out (it refuses 30 s or more in one piece).
            starts = np.arange(0.0, duration_s, CLIP_S)
            kwargs["clip_timestamps"] = [{"start": float(s), "end": float(min(s + CLIP_S, duration_s))} for s in starts]
        return kwargs

    def transcribe(self, audio: Samples, options: DecodeOptions, cancel: CancelToken | None = None) -> Transcription:
        audio = np.ascontiguousarray(audio, dtype=np.float32)
        duration_s = audio.size / SAMPLE_RATE
        if duration_s == 0:
            return Transcription(options.language or "en", 1.0, 0.0, iter(()))
        raw_segments, info = self._pipeline.transcribe(audio, **self.decode_kwargs(options, duration_s))
        result = Transcription(
            language=info.language,
            language_probability=float(info.language_probability),
            duration_s=float(info.duration),
            segments=iter(()),
        )
        result.segments = self._guarded(raw_segments, options, result, cancel)
        return result

    def _guarded(
        self, raw_segments: Any, options: DecodeOptions, result: Transcription, cancel: CancelToken | None
    ) -> Iterator[Segment]:
        limits = GuardThresholds(
            options.no_speech_threshold, options.log_prob_threshold, options.compression_ratio_threshold,
            options.speech_threshold,
        )
        for raw in raw_segments:
            if cancel is not None:
                cancel.raise_if_cancelled()
            kept, reason = guard_segment(_convert(raw), options.vocabulary, limits)
            if reason is not None:
                result.dropped.append(reason)
                log.debug("segment dropped by guard %s", reason)
            elif kept is not None:
                yield from split_sentences(kept)


def _convert(raw: Any) -> Segment:
    words = tuple(Word(w.word, float(w.start), float(w.end), float(w.probability)) for w in (raw.words or ()))
    return Segment(
        start=float(raw.start),
        end=float(raw.end),
        text=raw.text,
        confidence=math.exp(min(0.0, float(raw.avg_logprob))),
        words=words,
        no_speech_prob=float(raw.no_speech_prob),
        avg_logprob=float(raw.avg_logprob),
        compression_ratio=float(raw.compression_ratio),
    )


def load_transcriber(asr: AsrSettings, models_dir: Path, model: str | None = None) -> FasterWhisperTranscriber:
    """Load the model named in the settings (or `model`): a catalog name or a CTranslate2 directory."""
    from app.core.installed_models import locate

    name = model or asr.model
    path = locate(name, models_dir)
    return FasterWhisperTranscriber(path, threads=asr.threads, compute_type=asr.compute_type, name=Path(name).name)
