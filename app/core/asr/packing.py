"""Several utterances decoded as one: their audio laid end to end in one Whisper window, the words mapped back.

Whisper's encoder costs the same for 1 s as for 30 s of audio (every window is padded to 30 s), so three short
utterances waiting to be decoded ("Pulse 80." "Temperature normal." "Chest clear.") cost one encoder pass packed
together instead of three. The live transcriber packs whatever is waiting when it has fallen behind real time, and
at Stop — which bounds the wait after Stop to about one decode. faster-whisper packs its own VAD chunks the same way.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from app.core.asr.base import Samples, Segment, Word
from app.core.asr.vad import Utterance
from app.core.audio.base import SAMPLE_RATE

PACK_MAX_S = 28.0  # stay inside one 30 s window
GAP = int(0.1 * SAMPLE_RATE)  # silence between packed utterances (each already carries its own padding)


@dataclass(frozen=True)
class Pack:
    utterances: tuple[Utterance, ...]
    offsets: tuple[int, ...]  # where each utterance starts in `audio`, in samples
    audio: Samples


def build_packs(utterances: Sequence[Utterance], audio_of: Callable[[Utterance], Samples]) -> list[Pack]:
    """Group consecutive utterances into packs of at most PACK_MAX_S (a longer utterance gets a pack of its own)."""
    packs: list[Pack] = []
    group: list[Utterance] = []
    length = 0

    def close() -> None:
        if not group:
            return
        pieces: list[Samples] = []
        offsets: list[int] = []
        position = 0
        gap = np.zeros(GAP, dtype=np.float32)
        for utterance in group:
            offsets.append(position)
            samples = audio_of(utterance)
            pieces.extend([samples, gap])
            position += samples.size + GAP
        packs.append(Pack(tuple(group), tuple(offsets), np.concatenate(pieces[:-1])))

    for utterance in utterances:
        size = utterance.end - utterance.start
        if group and length + GAP + size > PACK_MAX_S * SAMPLE_RATE:
            close()
            group, length = [], 0
        group.append(utterance)
        length += size + (GAP if len(group) > 1 else 0)
    close()
    return packs


def _owner(pack: Pack, time_s: float) -> int:
    """Index of the utterance a moment of the packed audio belongs to."""
    return max(0, bisect.bisect_right(pack.offsets, int(time_s * SAMPLE_RATE)) - 1)


def _to_recording(pack: Pack, index: int, time_s: float) -> float:
    return pack.utterances[index].start_s + time_s - pack.offsets[index] / SAMPLE_RATE


def unpack(pack: Pack, segments: Sequence[Segment]) -> list[tuple[Segment, ...]]:
    """The segments of each utterance of the pack, in recording time (a segment spanning two is split)."""
    per_utterance: list[list[Segment]] = [[] for _ in pack.utterances]
    for segment in segments:
        if not segment.words:
            index = _owner(pack, (segment.start + segment.end) / 2)
            offset = _to_recording(pack, index, 0.0)
            per_utterance[index].append(segment.shifted(offset))
            continue
        runs: list[tuple[int, list[Word]]] = []
        for word in segment.words:
            index = _owner(pack, (word.start + word.end) / 2)
            moved = Word(word.text, _to_recording(pack, index, word.start), _to_recording(pack, index, word.end),
                         word.probability)
            if runs and runs[-1][0] == index:
                runs[-1][1].append(moved)
            else:
                runs.append((index, [moved]))
        for index, words in runs:
            text = "".join(w.text for w in words)
            per_utterance[index].append(
                replace(segment, start=words[0].start, end=words[-1].end, text=text, words=tuple(words))
            )
    return [tuple(s) for s in per_utterance]
