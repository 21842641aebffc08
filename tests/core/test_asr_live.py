"""Live transcription logic (asr/live.py) with two unit seams replaced: a scripted recogniser and an energy detector
instead of Silero, so utterance timing is exact. The real engines run in tests/integration/test_asr_live.py."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from app.core.asr.base import DecodeOptions, Samples, Segment, Transcription, Word
from app.core.asr.live import LiveTranscriber, _RollingAudio
from app.core.asr.vad import WINDOW
from app.core.asr.vocabulary import Vocabulary
from app.core.audio.base import SAMPLE_RATE, AudioChunk
from app.core.audio.replay import ReplaySource
from app.core.config import AsrSettings
from app.core.errors import AudioError, Cancelled, CancelToken

NOW = 100.0


class EnergyVad:
    """Speech wherever the signal is loud: 0.95 per 32 ms window above -26 dBFS RMS, else 0.02."""

    def __init__(self) -> None:
        self._pending = np.zeros(0, dtype=np.float32)

    def push(self, samples: Samples) -> Samples:
        data = np.concatenate([self._pending, samples])
        whole = data.size // WINDOW * WINDOW
        self._pending = data[whole:]
        windows = data[:whole].reshape(-1, WINDOW)
        return np.where(np.sqrt((windows**2).mean(axis=1)) > 0.05, 0.95, 0.02).astype(np.float32)

    def flush(self) -> Samples:
        if self._pending.size == 0:
            return np.zeros(0, dtype=np.float32)
        return self.push(np.zeros(WINDOW - self._pending.size, dtype=np.float32))


class ScriptedRecogniser:
    """Answers each call with the next scripted text, its words spread evenly over the audio it was given."""

    name = "scripted"
    multilingual = False

    def __init__(self, *texts: str, probability: float = 0.9) -> None:
        self.texts = list(texts)
        self.calls: list[float] = []  # seconds of audio per call
        self.probability = probability

    def transcribe(self, audio: Samples, options: DecodeOptions, cancel: CancelToken | None = None) -> Transcription:
        assert not options.vad  # utterances are already cut at speech
        duration = audio.size / SAMPLE_RATE
        self.calls.append(duration)
        text = self.texts[min(len(self.calls), len(self.texts)) - 1]
        parts = text.split()
        step = duration / max(1, len(parts))
        words = tuple(Word(" " + w, i * step, (i + 1) * step, self.probability) for i, w in enumerate(parts))
        segments: Iterator[Segment] = iter([Segment(0.0, duration, " " + text, 0.9, words)] if parts else [])
        return Transcription("en", 1.0, duration, segments)


def tone(seconds: float) -> Samples:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)


def quiet(seconds: float) -> Samples:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def live_for(recogniser: ScriptedRecogniser, **kwargs: object) -> LiveTranscriber:
    return LiveTranscriber(recogniser, DecodeOptions(), vad=EnergyVad(), clock=lambda: NOW, **kwargs)  # type: ignore[arg-type]


def chunks(samples: Samples, captured_at: float | None = NOW, dropped_at: int = -1) -> Iterator[AudioChunk]:
    step = SAMPLE_RATE // 10
    for i, start in enumerate(range(0, samples.size, step)):
        block = samples[start : start + step]
        yield AudioChunk(block, start / SAMPLE_RATE, 0.5, captured_at, 0.4 if i == dropped_at else 0.0)


def test_utterances_are_confirmed_at_pauses_and_finish_decodes_the_last() -> None:
    recogniser = ScriptedRecogniser("Chest clear.", "Plan review in a week.")
    live = live_for(recogniser)
    updates = [live.feed(c) for c in chunks(np.concatenate([tone(1.5), quiet(1.0), tone(1.2)]), captured_at=None)]
    assert updates[-1].confirmed == "Chest clear." and updates[-1].tentative == ""
    assert updates[-1].audio_s == pytest.approx(3.7)
    result = live.finish()
    assert result.text == "Chest clear. Plan review in a week."
    assert len(recogniser.calls) == 2  # one decode per utterance; no previews for a source that is not real time
    assert [round(s.start, 1) for s in result.segments] == [0.0, 2.3]  # recording times, padding included
    assert live.finish() is result


def test_a_preview_shows_the_tentative_tail_and_is_reused_when_it_heard_everything() -> None:
    recogniser = ScriptedRecogniser("fifty milligrams daily")
    live = live_for(recogniser, preview_interval_s=1.2)
    updates = [live.feed(c) for c in chunks(np.concatenate([tone(1.0), quiet(0.3)]))]
    tentative = [u for u in updates if u.tentative]
    assert tentative and tentative[-1].tentative == "50 mg daily"
    assert all(u.confirmed == "" for u in updates)
    result = live.finish()
    assert result.text == "50 mg daily"
    assert len(recogniser.calls) == 1  # the preview heard all the speech: Stop cost no second decode


def test_a_pause_after_speech_is_decoded_at_once_and_that_decode_is_the_confirmed_text() -> None:
    recogniser = ScriptedRecogniser("Plan review in a week.")
    live = live_for(recogniser, preview_interval_s=10.0)  # no spaced preview in 1.2 s: only the endpoint one
    updates = [live.feed(c) for c in chunks(np.concatenate([tone(1.2), quiet(0.3)]))]
    assert len(recogniser.calls) == 1  # decoded within 0.3 s of quiet, before the 0.5 s pause closed it
    assert updates[-1].confirmed == "" and updates[-1].provisional == "Plan review in a week."
    assert live.finish().text == "Plan review in a week."
    assert len(recogniser.calls) == 1  # Stop reused it


def test_the_provisional_text_leaves_out_the_last_word_while_the_speech_goes_on() -> None:
    recogniser = ScriptedRecogniser("Chest clear.", "Chest clear.", "Plan review in a")  # spaced, endpoint, spaced
    live = live_for(recogniser, preview_interval_s=1.2)
    updates = [live.feed(c) for c in chunks(np.concatenate([tone(1.2), quiet(0.8), tone(1.6)]))]
    assert updates[-1].confirmed == "Chest clear."
    assert updates[-1].tentative == "Plan review in a"
    assert updates[-1].provisional == "Chest clear. Plan review in"  # "a" may be the start of a longer word
    assert live.finish().text.startswith("Chest clear.")
    assert updates[0].provisional == "" and not [u for u in updates if u.final]


def test_no_previews_while_behind_real_time() -> None:
    recogniser = ScriptedRecogniser("Plan review.")
    live = live_for(recogniser)
    updates = [live.feed(c) for c in chunks(tone(2.5), captured_at=NOW - 1.0)]
    assert all(u.tentative == "" for u in updates) and recogniser.calls == []
    assert live.finish().text == "Plan review."


def test_run_ends_with_a_final_update() -> None:
    live = live_for(ScriptedRecogniser("Stable."))
    updates = list(live.run(ReplaySource(np.concatenate([quiet(0.3), tone(1.0)]))))
    assert [u.final for u in updates].count(True) == 1 and updates[-1].final
    assert updates[-1].confirmed == "Stable." and live.result is not None and live.result.text == "Stable."


class FailingSource:
    description = "failing microphone"

    def __init__(self, samples: Samples) -> None:
        self.samples = samples

    def chunks(self, cancel: CancelToken | None = None) -> Iterator[AudioChunk]:
        yield from chunks(self.samples, captured_at=None)
        raise AudioError("The microphone 'failing microphone' stopped delivering sound", "Reconnect it")

    def stop(self) -> None:
        pass


def test_an_audio_error_keeps_the_text_of_the_audio_captured_so_far() -> None:
    live = live_for(ScriptedRecogniser("Patient seen today."))
    seen = []
    with pytest.raises(AudioError):
        for update in live.run(FailingSource(tone(1.5))):
            seen.append(update)
    assert seen[-1].final and seen[-1].confirmed == "Patient seen today."


def test_lost_audio_is_carried_in_every_later_update() -> None:
    live = live_for(ScriptedRecogniser("x"))
    updates = [live.feed(c) for c in chunks(quiet(1.0), dropped_at=3)]
    assert [u.dropped_audio_s for u in updates[2:5]] == [0.0, 0.4, 0.4]
    assert live.finish().dropped_audio_s == pytest.approx(0.4)


def test_hint_terms_heard_where_the_vad_found_no_speech_are_removed() -> None:
    options = DecodeOptions(vocabulary=Vocabulary(("metformin",)))

    class EchoAtTheEnd(ScriptedRecogniser):
        def transcribe(
            self, audio: Samples, options: DecodeOptions, cancel: CancelToken | None = None
        ) -> Transcription:
            duration = audio.size / SAMPLE_RATE
            words = (Word(" Patient", 0.0, 0.5, 0.9), Word(" stable.", 0.5, 0.9, 0.9),
                     Word(" Metformin.", duration - 0.08, duration - 0.02, 0.9))
            return Transcription("en", 1.0, duration, iter([Segment(0.0, duration, " ...", 0.9, words)]))

    live = LiveTranscriber(EchoAtTheEnd(), options, vad=EnergyVad(), clock=lambda: NOW)
    for chunk in chunks(np.concatenate([tone(1.0), quiet(0.4)]), captured_at=None):
        live.feed(chunk)
    result = live.finish()
    assert result.text == "Patient stable."


def test_settings_switch_formatting_off() -> None:
    asr = AsrSettings(dictation_commands=False, format_numbers=False, preview_interval_s=0)
    live = LiveTranscriber.from_settings(ScriptedRecogniser("fifty milligrams new line"), asr, vad=EnergyVad())
    for chunk in chunks(tone(1.0)):
        assert live.feed(chunk).tentative == ""
    assert live.finish().text == "Fifty milligrams new line"


def test_cancel_stops_without_a_final_text() -> None:
    cancel = CancelToken()
    live = live_for(ScriptedRecogniser("x"))
    with pytest.raises(Cancelled):
        for _update in live.run(ReplaySource(tone(2.0)), cancel):
            cancel.cancel()
    assert live.result is None


def test_old_audio_is_let_go() -> None:
    audio = _RollingAudio()
    for i in range(10):
        audio.append(np.full(1000, i, dtype=np.float32))
    audio.discard_before(2500)
    assert audio.slice(2500, 2502).tolist() == [2.0, 2.0]
    assert audio.slice(0, 3000).size == 500  # nothing before sample 2500 is kept
    audio.discard_before(9999)
    assert audio.slice(9999, 10000).tolist() == [9.0] and audio.total == 10000


def test_when_behind_real_time_waiting_utterances_are_decoded_together_at_stop() -> None:
    recogniser = ScriptedRecogniser("Pulse eighty. Temperature normal. Chest clear.")
    live = live_for(recogniser)
    audio = np.concatenate([tone(1.0), quiet(0.8), tone(1.0), quiet(0.8), tone(1.0), quiet(0.8)])
    updates = [live.feed(c) for c in chunks(audio, captured_at=NOW - 2.0)]  # the recogniser is 2 s behind
    assert recogniser.calls == [] and updates[-1].confirmed == ""
    result = live.finish()
    assert len(recogniser.calls) == 1  # three utterances, one encoder pass
    assert result.text == "Pulse eighty. Temperature normal. Chest clear."
    # Each utterance's words were mapped back to its own stretch of the recording.
    assert len(result.segments) == 3
    for index, segment in enumerate(result.segments):
        spoken_from = 1.8 * index
        assert spoken_from - 0.25 <= segment.start < spoken_from + 1.2 and segment.end <= spoken_from + 1.6


def test_packs_stay_inside_one_window_and_words_map_back() -> None:
    from app.core.asr.packing import PACK_MAX_S, build_packs, unpack
    from app.core.asr.vad import Utterance

    second = SAMPLE_RATE
    utterances = [Utterance(i * 12 * second, i * 12 * second + 10 * second, i * 12 * second + 10 * second)
                  for i in range(3)]
    packs = build_packs(utterances, lambda u: quiet((u.end - u.start) / SAMPLE_RATE))
    assert [len(p.utterances) for p in packs] == [2, 1]
    assert all(p.audio.size <= PACK_MAX_S * SAMPLE_RATE for p in packs)
    first = packs[0]
    words = (Word(" one", 1.0, 1.5, 0.9), Word(" two", 10.5, 11.0, 0.9))  # the second word is in utterance 2
    per_utterance = unpack(first, [Segment(1.0, 11.0, " one two", 0.9, words)])
    assert [[w.text for s in segs for w in s.words] for segs in per_utterance] == [[" one"], [" two"]]
    moved = per_utterance[1][0].words[0]
    assert moved.start == pytest.approx(12.0 + 10.5 - 10.1) and per_utterance[1][0].text == " two"
