"""Speaking an answer while it is still being written: each piece of text pushed in is synthesised as soon as it
completes a sentence, so the first audio comes when the first sentence ends, not the answer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from app.core.errors import CancelToken
from app.core.tts.base import AudioChunk, Speaker
from app.core.tts.sentences import SentenceStreamer


class SpeechFeed:
    def __init__(self, speaker: Speaker, cancel: CancelToken) -> None:
        self._speaker = speaker
        self._cancel = cancel
        self._sentences = SentenceStreamer()

    def push(self, text: str) -> Iterator[AudioChunk]:
        for sentence in self._sentences.feed(text):
            yield from self._speaker.synthesize(sentence, self._cancel)

    def finish(self) -> Iterator[AudioChunk]:
        for sentence in self._sentences.finish():
            yield from self._speaker.synthesize(sentence, self._cancel)


def write_speech(chunks: list[AudioChunk], path: Path, sample_rate: int) -> Path:
    from app.core.tts.wav import write_wav

    write_wav(chunks, path, sample_rate)
    return path
