"""Voice-activity detection while recording: Silero VAD (the model shipped inside faster-whisper) run on the stream,
and the rule that cuts the stream into utterances at pauses.

faster-whisper only offers VAD over a whole recording. Silero is a recurrent model: window i's probability depends on
the state left by window i-1, so a streaming run must carry that state (and the 64-sample context) across calls;
done so, the probabilities equal a whole-recording pass exactly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from app.core.audio.base import SAMPLE_RATE, Samples
from app.core.errors import EngineUnavailable

WINDOW = 512  # samples per VAD decision (32 ms at 16 kHz)
CONTEXT = 64  # samples of the previous window the model sees
WINDOW_S = WINDOW / SAMPLE_RATE


def _silero_path() -> Path:
    try:
        from faster_whisper.utils import get_assets_path
    except (ImportError, OSError) as exc:
        raise EngineUnavailable(
            f"The voice-activity model cannot be found ({type(exc).__name__})", "Reinstall the application"
        ) from None
    return Path(get_assets_path()) / "silero_vad_v6.onnx"


class VoiceActivity(Protocol):
    """Speech probabilities per WINDOW samples of a stream (StreamingVad; tests pass a simple energy detector)."""

    def push(self, samples: Samples) -> Samples: ...

    def flush(self) -> Samples: ...


@functools.cache
def _silero_session() -> Any:
    """One Silero session per process, shared by every recording (each keeps its own recurrent state): a new one
    cost 5-12 ms of CPU at the start of every dictation, just when the window, the recogniser and often the
    language model all start work (the stall probe found it among the threads busy during the longest stall)."""
    try:
        import onnxruntime
    except (ImportError, OSError) as exc:
        raise EngineUnavailable(
            f"The voice-activity engine (onnxruntime) cannot be loaded ({type(exc).__name__})",
            "Reinstall the application",
        ) from None
    options = onnxruntime.SessionOptions()
    # One thread: the VAD is tiny and must not compete with Whisper for the cores.
    options.inter_op_num_threads = 1
    options.intra_op_num_threads = 1
    options.log_severity_level = 4
    return onnxruntime.InferenceSession(str(_silero_path()), providers=["CPUExecutionProvider"], sess_options=options)


class StreamingVad:
    """Speech probability per 32 ms window of a stream, fed in blocks of any size."""

    def __init__(self) -> None:
        self._session: Any = _silero_session()  # InferenceSession.run is thread-safe; the state lives here
        self.reset()

    def reset(self) -> None:
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def push(self, samples: Samples) -> Samples:
        """Probabilities for every window completed by these samples (possibly none)."""
        data = np.concatenate([self._pending, np.asarray(samples, dtype=np.float32)])
        whole = data.size // WINDOW * WINDOW
        self._pending = data[whole:]
        if whole == 0:
            return np.zeros(0, dtype=np.float32)
        windows = data[:whole].reshape(-1, WINDOW)
        contexts = np.concatenate([self._context[None, :], windows[:-1, -CONTEXT:]], axis=0)
        batch = np.concatenate([contexts, windows], axis=1)
        probs, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        self._context = windows[-1, -CONTEXT:].copy()
        return np.asarray(probs, dtype=np.float32).reshape(-1)

    def flush(self) -> Samples:
        """The last, partial window padded with silence (call once at the end)."""
        if self._pending.size == 0:
            return np.zeros(0, dtype=np.float32)
        return self.push(np.zeros(WINDOW - self._pending.size, dtype=np.float32))


@dataclass(frozen=True)
class SegmenterConfig:
    threshold: float = 0.5  # speech starts above this
    pause_s: float = 0.5  # this much quiet ends an utterance
    max_utterance_s: float = 20.0  # a longer stretch is cut at its quietest moment
    pad_s: float = 0.2  # audio kept either side of the speech (Whisper needs the word onsets)
    min_speech_s: float = 0.25  # shorter blips (a click, a cough) are not utterances

    @property
    def quiet(self) -> float:
        # Silero's hysteresis: once in speech, only a clearly lower probability counts as quiet.
        return max(self.threshold - 0.15, 0.01)


@dataclass(frozen=True)
class Utterance:
    """Sample range [start, end) in the recording, padding included; `voiced_end` is where the speech stopped."""

    start: int
    end: int
    voiced_end: int

    @property
    def start_s(self) -> float:
        return self.start / SAMPLE_RATE


@dataclass
class UtteranceSegmenter:
    """Turns window probabilities into utterances. Pure logic: testable with made-up probabilities."""

    config: SegmenterConfig = field(default_factory=SegmenterConfig)
    windows: int = 0  # windows seen so far
    _start: int | None = None  # first speech window of the open utterance
    _last_voiced: int = 0
    _probs: list[float] = field(default_factory=list)  # probabilities since _start
    _floor: int = 0  # the next utterance may not start before this sample (the end of the last one)

    def _windows(self, seconds: float) -> int:
        return max(1, round(seconds / WINDOW_S))

    def _close(self, end_window: int) -> Utterance | None:
        assert self._start is not None
        voiced = sum(1 for p in self._probs[: end_window - self._start] if p >= self.config.threshold)
        pad = self._windows(self.config.pad_s)
        start = max(self._floor, (self._start - pad) * WINDOW)
        end = min(self.windows, end_window + pad) * WINDOW
        self._floor = end
        if voiced < self._windows(self.config.min_speech_s):
            return None
        return Utterance(start, end, min(end, end_window * WINDOW))

    def _cut_point(self) -> int:
        """Where to split an over-long utterance: the quietest window in its second half."""
        assert self._start is not None
        half = len(self._probs) // 2
        tail = self._probs[half:]
        return self._start + half + int(np.argmin(tail))

    def push(self, probs: Samples) -> list[Utterance]:
        closed: list[Utterance] = []
        for p in probs.tolist():
            index = self.windows
            self.windows += 1
            if self._start is None:
                if p >= self.config.threshold:
                    self._start, self._last_voiced, self._probs = index, index, [p]
                continue
            self._probs.append(p)
            if p >= self.config.quiet:
                self._last_voiced = index
            if index - self._last_voiced >= self._windows(self.config.pause_s):
                utterance = self._close(self._last_voiced + 1)
                if utterance:
                    closed.append(utterance)
                self._start = None
            elif index + 1 - self._start >= self._windows(self.config.max_utterance_s):
                cut = self._cut_point()
                utterance = self._close_at(cut)
                if utterance:
                    closed.append(utterance)
        return closed

    def _close_at(self, cut: int) -> Utterance | None:
        """End the open utterance at window `cut` without padding into the next one, which starts there."""
        assert self._start is not None
        voiced = sum(1 for p in self._probs[: cut - self._start] if p >= self.config.threshold)
        start = max(self._floor, (self._start - self._windows(self.config.pad_s)) * WINDOW)
        end = cut * WINDOW
        self._floor = end
        self._probs = self._probs[cut - self._start :]
        self._start = cut
        if voiced < self._windows(self.config.min_speech_s):
            return None
        return Utterance(start, end, end)

    def open_utterance(self) -> Utterance | None:
        """The utterance still being spoken, up to now (for the tentative preview)."""
        if self._start is None:
            return None
        start = max(self._floor, (self._start - self._windows(self.config.pad_s)) * WINDOW)
        return Utterance(start, self.windows * WINDOW, (self._last_voiced + 1) * WINDOW)

    @property
    def open_speech_s(self) -> float:
        """Seconds heard as speech in the open utterance (0 when none is open)."""
        if self._start is None:
            return 0.0
        return sum(1 for p in self._probs if p >= self.config.threshold) * WINDOW_S

    def finish(self) -> Utterance | None:
        """Close the open utterance at the end of the recording."""
        if self._start is None:
            return None
        utterance = self._close(self._last_voiced + 1)
        self._start = None
        return utterance

    def keep_from(self) -> int:
        """The earliest sample a future utterance can still need: older audio can be let go."""
        pad = self._windows(self.config.pad_s) * WINDOW
        if self._start is not None:
            return max(self._floor, self._start * WINDOW - pad)
        return max(self._floor, self.windows * WINDOW - pad)
