"""Live transcription while the doctor speaks.

The stream is cut into utterances at pauses (streaming Silero VAD). Each closed utterance is decoded once, without
the previous text as context, and its text becomes *confirmed*; when the recogniser has fallen behind real time,
the utterances waiting are decoded together in one pass (packing.py). While an utterance is still being spoken, it is
decoded now and then as a *preview*: the tentative tail, shown apart because it may still change. At Stop only what is
still waiting remains, decoded as one pack — and nothing when the last preview already covered all of the speech —
so the final text is ready about one decode after Stop, whatever the recording's length.

Previews are skipped while the recogniser is behind real time, and spaced at least twice their own cost apart,
so they never starve the confirmed text of CPU (and are rarely in flight when Stop comes). One preview is not
spaced: as soon as the speech has paused for ENDPOINT_QUIET_S, the open utterance is decoded to there. When the
pause turns out to end the utterance (or the doctor presses Stop), that decode is its confirmed text, ready some
tenths of a second before the pause is long enough to close it.

Each update also carries the text as it will most likely be confirmed (`provisional`): the confirmed text with the
latest preview added as if confirmed, less its last word while the speech goes on (it may be cut off). A local model
reads that ahead (services/prereading.py); whatever then differs is re-read, so it is a speed-up, never the text.
"""

from __future__ import annotations

import logging
import time
from array import array
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from app.core.asr.base import DecodeOptions, Segment, Transcriber
from app.core.asr.guards import GuardThresholds, remove_prompt_echo
from app.core.asr.packing import PACK_MAX_S, build_packs, unpack
from app.core.asr.vad import WINDOW, SegmenterConfig, StreamingVad, Utterance, UtteranceSegmenter, VoiceActivity
from app.core.asr.vocabulary import Vocabulary
from app.core.audio.base import SAMPLE_RATE, AudioChunk, AudioSource, Samples
from app.core.config import AsrSettings
from app.core.dictation.document import DictationDocument, DictationOptions, RenderedText
from app.core.dictation.tokens import words_from_text
from app.core.errors import AudioError, CancelToken

log = logging.getLogger(__name__)

Spans = tuple[tuple[int, int], ...]
EVIDENCE_MARGIN_S = 0.1  # word timestamps are approximate: look this far either side for speech
# A preview costs a full encoder pass (~0.5-1 s for whisper-base on 2 cores) whatever the audio's length: not worth it
# for less speech than this, which is confirmed soon anyway. And a preview in flight when Stop comes delays the
# final text by up to its cost, so previews are spaced at least PREVIEW_COST_FACTOR times their cost apart.
PREVIEW_MIN_SPEECH_S = 1.0
PREVIEW_COST_FACTOR = 2.0
# Quiet after speech long enough to decode the utterance as if it had ended: shorter than the pause that closes an
# utterance (asr.pause_ms, 0.5 s), longer than the gaps between words. A pause that turns out not to end the
# utterance has cost one preview, which is shown anyway.
ENDPOINT_QUIET_S = 0.2
# A preview is reused as an utterance's text when it heard this far past the speech (word endings fade).
REUSE_PAD_S = 0.1


@dataclass(frozen=True)
class LiveUpdate:
    """What the UI shows after each chunk. Offsets in the span tuples are [start, end) into their own text."""

    confirmed: str  # will not change, except when the doctor says "scratch that"
    tentative: str  # the utterance still being spoken: may change
    confirmed_low_confidence: Spans
    tentative_low_confidence: Spans
    audio_s: float  # audio received so far
    level: float  # 0..1 meter value of the latest chunk
    dropped_audio_s: float  # audio lost so far (full queue, device overrun): show it when it grows
    dropped_segments: int  # passages the hallucination guards left out
    final: bool = False
    # The whole text as it will most likely be confirmed (see the module docstring); "" when no preview is open.
    provisional: str = ""


@dataclass(frozen=True)
class LiveResult:
    """The finished dictation. `segments` hold the recogniser's own text with recording times (before formatting)."""

    text: str
    low_confidence: Spans
    segments: tuple[Segment, ...]
    language: str
    duration_s: float
    dropped_audio_s: float
    dropped_segments: int


@dataclass(frozen=True)
class _Preview:
    start: int  # utterance start sample
    covered_to: int  # audio end sample the preview decoded
    segments: tuple[Segment, ...]


class _RollingAudio:
    """The recording's recent samples, addressable by absolute sample index; older audio is let go."""

    def __init__(self) -> None:
        self._blocks: list[Samples] = []
        self._start = 0  # absolute index of the first kept sample
        self.total = 0

    def append(self, samples: Samples) -> None:
        if samples.size:
            self._blocks.append(samples)
            self.total += samples.size

    def slice(self, start: int, end: int) -> Samples:
        data = np.concatenate(self._blocks) if self._blocks else np.zeros(0, dtype=np.float32)
        self._blocks = [data] if data.size else []
        return data[max(0, start - self._start) : max(0, end - self._start)]

    def discard_before(self, sample: int) -> None:
        while self._blocks and self._start < sample:
            first = self._blocks[0]
            drop = min(first.size, sample - self._start)
            if drop == first.size:
                self._blocks.pop(0)
            else:
                self._blocks[0] = first[drop:]
            self._start += drop


class LiveTranscriber:
    """Feed it chunks (`feed`) or a whole source (`run`); `finish()` drains and returns the final text.

    Owned by one worker thread, like the `Transcriber` it drives.
    """

    def __init__(
        self,
        transcriber: Transcriber,
        options: DecodeOptions,
        *,
        dictation: DictationOptions | None = None,
        segmenter: SegmenterConfig | None = None,
        preview_interval_s: float = 1.0,
        max_lag_s: float = 0.3,
        vad: VoiceActivity | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transcriber = transcriber
        self._options = options.for_utterances()
        self._limits = GuardThresholds(
            options.no_speech_threshold, options.log_prob_threshold, options.compression_ratio_threshold,
            options.speech_threshold,
        )
        self._vocabulary: Vocabulary = options.vocabulary
        self._document = DictationDocument(dictation)
        self._segmenter = UtteranceSegmenter(segmenter or SegmenterConfig(threshold=options.speech_threshold))
        self._vad: VoiceActivity = vad or StreamingVad()
        self._clock = clock
        self._preview_interval_s = preview_interval_s
        self._max_lag_s = max_lag_s
        self._audio = _RollingAudio()
        self._probs = array("f")  # every VAD window of the recording: 4 bytes per 32 ms, 0.5 MB per hour
        self._segments: list[Segment] = []
        self._pending: list[Utterance] = []  # closed, not yet decoded
        self._preview: _Preview | None = None
        self._tentative = RenderedText("")
        self._provisional = ""
        self._confirmed = RenderedText("")
        self._last_preview_end = 0
        self._decode_cost_s = 0.0  # wall time of the latest recogniser call (one pack)
        self._level = 0.0
        self._dropped_audio_s = 0.0
        self._dropped_segments = 0
        self._language = options.language or "en"
        self._result: LiveResult | None = None

    @classmethod
    def from_settings(
        cls, transcriber: Transcriber, asr: AsrSettings, vocabulary: Vocabulary | None = None, **kwargs: object
    ) -> LiveTranscriber:
        options = DecodeOptions.from_settings(asr, vocabulary)
        dictation = DictationOptions(asr.dictation_commands, asr.format_numbers, asr.low_confidence)
        segmenter = SegmenterConfig(
            threshold=asr.vad_threshold, pause_s=asr.pause_ms / 1000, max_utterance_s=asr.max_utterance_s
        )
        return cls(
            transcriber, options, dictation=dictation, segmenter=segmenter,
            preview_interval_s=asr.preview_interval_s, **kwargs,  # type: ignore[arg-type]
        )

    # --- decoding ------------------------------------------------------------------------------------------------
    def _speech_between(self, start_s: float, end_s: float) -> float:
        """The highest VAD probability heard between two recording times (echo guard evidence)."""
        first = max(0, int((start_s - EVIDENCE_MARGIN_S) * SAMPLE_RATE) // WINDOW)
        last = int((end_s + EVIDENCE_MARGIN_S) * SAMPLE_RATE) // WINDOW + 1
        window = self._probs[first:last]
        return max(window) if window else 0.0

    def _decode(self, utterances: Sequence[Utterance], cancel: CancelToken | None) -> list[tuple[Segment, ...]]:
        """Segments (recording time, guarded) for each utterance, decoded in as few packs as fit."""
        decoded: list[tuple[Segment, ...]] = []
        for pack in build_packs(utterances, lambda u: self._audio.slice(u.start, u.end)):
            began = time.perf_counter()
            result = self._transcriber.transcribe(pack.audio, self._options, cancel)
            segments = list(result.segments)
            self._decode_cost_s = time.perf_counter() - began
            self._dropped_segments += len(result.dropped)
            self._language = result.language
            for per_utterance in unpack(pack, segments):
                kept: list[Segment] = []
                for segment in per_utterance:
                    cleaned = remove_prompt_echo(segment, self._vocabulary, self._limits, self._speech_between)
                    if cleaned is None:
                        self._dropped_segments += 1
                    else:
                        kept.append(cleaned)
                decoded.append(tuple(kept))
        return decoded

    def _confirm_pending(self, cancel: CancelToken | None) -> None:
        """Decode the utterances waiting (together, when several) and add them to the text in order."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        preview = self._preview
        only = pending[0]
        pad = min(only.end - only.voiced_end, int(REUSE_PAD_S * SAMPLE_RATE))
        if len(pending) == 1 and preview is not None and preview.start == only.start and (
            preview.covered_to >= only.voiced_end + pad
        ):
            decoded = [preview.segments]  # the preview already heard all of it: no second decode
        else:
            decoded = self._decode(pending, cancel)
        self._preview = None
        self._tentative = RenderedText("")
        self._provisional = ""
        for segments in decoded:
            words = [w for s in segments for w in (s.words or words_from_text(s.text, s.confidence))]
            if words:
                self._document.add(words)
            self._segments.extend(segments)
        self._confirmed = self._document.render()

    def _maybe_preview(self, chunk: AudioChunk, cancel: CancelToken | None) -> None:
        open_utterance = self._segmenter.open_utterance()
        if open_utterance is None:
            self._tentative = RenderedText("")
            self._provisional = ""
            return
        if self._preview_interval_s <= 0 or chunk.captured_at is None or self._pending:
            return
        if self._segmenter.open_speech_s < PREVIEW_MIN_SPEECH_S:
            return
        endpoint = self._at_endpoint(open_utterance)
        interval = max(self._preview_interval_s, PREVIEW_COST_FACTOR * self._decode_cost_s)
        if not endpoint and (open_utterance.end - self._last_preview_end) / SAMPLE_RATE < interval:
            return
        if self._lag(chunk) > self._max_lag_s:
            return  # behind real time: confirmed text first
        segments = self._decode([open_utterance], cancel)[0]
        self._last_preview_end = open_utterance.end
        self._preview = _Preview(open_utterance.start, open_utterance.end, segments)
        words = [w for s in segments for w in (s.words or words_from_text(s.text, s.confidence))]
        self._tentative = self._document.preview(words) if words else RenderedText("")
        # While the speech goes on, its last word may be cut off: read ahead without it.
        likely = words if endpoint else words[:-1]
        if likely:
            document = self._document.copy()
            document.add(likely)
            self._provisional = document.render().text
        else:
            self._provisional = ""

    def _at_endpoint(self, utterance: Utterance) -> bool:
        """The speech has paused long enough to decode the utterance as if it had ended, and no preview has yet
        heard it to its end (one that has would be reused as its text)."""
        if utterance.end - utterance.voiced_end < ENDPOINT_QUIET_S * SAMPLE_RATE:
            return False
        preview = self._preview
        heard = int(REUSE_PAD_S * SAMPLE_RATE) + utterance.voiced_end
        return preview is None or preview.start != utterance.start or preview.covered_to < heard

    def _lag(self, chunk: AudioChunk) -> float:
        """How far behind real time this chunk is being handled (0 for a source that is not real time)."""
        return 0.0 if chunk.captured_at is None else self._clock() - chunk.captured_at

    # --- the public API -----------------------------------------------------------------------------------------
    def feed(self, chunk: AudioChunk, cancel: CancelToken | None = None) -> LiveUpdate:
        """Take one chunk; decode what it completed; return what the screen should show now."""
        if self._result is not None:
            raise RuntimeError("feed() after finish(): start a new LiveTranscriber for a new recording")
        self._level = chunk.level
        self._dropped_audio_s += chunk.dropped_s
        self._audio.append(np.asarray(chunk.samples, dtype=np.float32))
        probs = self._vad.push(chunk.samples)
        self._probs.extend(probs)
        self._pending.extend(self._segmenter.push(probs))
        waiting_s = sum(u.end - u.start for u in self._pending) / SAMPLE_RATE
        # Behind real time, closed utterances wait and are decoded together once we catch up (or at Stop).
        if self._lag(chunk) <= self._max_lag_s or waiting_s >= PACK_MAX_S / 2:
            self._confirm_pending(cancel)
        self._maybe_preview(chunk, cancel)
        keep = [self._segmenter.keep_from(), *(u.start for u in self._pending)]
        if self._preview is not None:
            keep.append(self._preview.start)
        self._audio.discard_before(min(keep))
        return self._update(final=False)

    def finish(self, cancel: CancelToken | None = None) -> LiveResult:
        """Decode what is left (the utterance in progress) and return the final text. Idempotent."""
        if self._result is not None:
            return self._result
        probs = self._vad.flush()
        self._probs.extend(probs)
        self._pending.extend(self._segmenter.push(probs))
        last = self._segmenter.finish()
        if last is not None:
            self._pending.append(last)
        self._confirm_pending(cancel)  # everything left, packed: about one decode after Stop
        self._tentative = RenderedText("")
        self._provisional = ""
        rendered = self._confirmed
        self._result = LiveResult(
            text=rendered.text,
            low_confidence=rendered.low_confidence,
            segments=tuple(self._segments),
            language=self._language,
            duration_s=self._audio.total / SAMPLE_RATE,
            dropped_audio_s=self._dropped_audio_s,
            dropped_segments=self._dropped_segments,
        )
        log.info(
            "dictation finished: %.1f s audio, %d segments, %d dropped by guards, %.2f s audio lost",
            self._result.duration_s, len(self._segments), self._dropped_segments, self._dropped_audio_s,
        )
        return self._result

    def run(self, source: AudioSource, cancel: CancelToken | None = None) -> Iterator[LiveUpdate]:
        """Transcribe a source until it ends (Stop). The last update has `final=True`; `result` then holds the text.

        If the source fails (the microphone vanished), the text of the audio captured so far is finished and yielded
        as the final update, and then the `AudioError` is raised for the UI to show.
        """
        try:
            for chunk in source.chunks(cancel):
                yield self.feed(chunk, cancel)
        except AudioError:
            self.finish(cancel)
            yield self._update(final=True)
            raise
        self.finish(cancel)
        yield self._update(final=True)

    @property
    def result(self) -> LiveResult | None:
        return self._result

    def _update(self, final: bool) -> LiveUpdate:
        rendered = self._confirmed
        tentative = RenderedText("") if final else self._tentative
        return LiveUpdate(
            confirmed=rendered.text,
            tentative=tentative.text,
            confirmed_low_confidence=rendered.low_confidence,
            tentative_low_confidence=tentative.low_confidence,
            audio_s=self._audio.total / SAMPLE_RATE,
            level=self._level,
            dropped_audio_s=self._dropped_audio_s,
            dropped_segments=self._dropped_segments,
            final=final,
            provisional="" if final else self._provisional,
        )

