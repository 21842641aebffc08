"""Audio made on the spot, for the self-check, the benchmarks and the tests: silence, white noise, a sentence spoken
by the Piper voice, and any of these written as wav/flac/mp3/ogg/m4a at any rate and channel count (PyAV encoders).

Nothing here is patient audio, so writing it to files is allowed.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np

from app.core.audio.base import SAMPLE_RATE, Samples
from app.core.audio.resample import import_av, resample
from app.core.errors import EngineUnavailable, ModelError

# Container and encoder per file suffix: what FFmpeg inside PyAV can write without external libraries.
ENCODERS: dict[str, tuple[str, str]] = {
    ".wav": ("wav", "pcm_s16le"),
    ".flac": ("flac", "flac"),
    ".mp3": ("mp3", "libmp3lame"),
    ".ogg": ("ogg", "libopus"),
    ".m4a": ("mp4", "aac"),
}
# Opus only runs at these rates.
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


def silence(seconds: float) -> Samples:
    return np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32)


def white_noise(seconds: float, rms: float = 0.05, seed: int = 0) -> Samples:
    """Gaussian white noise at the given RMS level (0.05 is about -26 dBFS: a noisy room, no speech)."""
    rng = np.random.default_rng(seed)
    return np.clip(rng.normal(0.0, rms, int(seconds * SAMPLE_RATE)), -1.0, 1.0).astype(np.float32)


@functools.lru_cache(maxsize=2)
def _voice(voice_model: Path) -> Any:
    try:
        from piper import PiperVoice
    except (ImportError, OSError) as exc:
        raise EngineUnavailable(f"Piper cannot be loaded ({type(exc).__name__})", "Install piper-tts") from None
    if not voice_model.is_file():
        raise ModelError(f"The Piper voice {voice_model} is not installed", "Run `clinic-assistant models install`")
    return PiperVoice.load(str(voice_model))


def speak(text: str, voice_model: Path) -> Samples:
    """`text` spoken by a Piper voice (read exactly as written), at 16 kHz mono.

    Piper adds random noise to pitch and timing by default, so each call would sound slightly different and a test
    could pass or fail by chance; with the noise off the same text always gives the same audio.
    """
    from piper.config import SynthesisConfig

    chunks = list(_voice(voice_model).synthesize(text, SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0)))
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    samples = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float32)
    return resample(samples, int(chunks[0].sample_rate))


def write_audio(path: Path, samples: Samples, rate: int = SAMPLE_RATE, channels: int = 1) -> Path:
    """Encode 16 kHz mono `samples` into `path` (format from its suffix) at `rate` Hz with `channels` channels."""
    av = import_av()
    container_format, codec = ENCODERS[path.suffix.lower()]
    if codec == "libopus" and rate not in OPUS_RATES:
        raise ValueError(f"Opus cannot encode at {rate} Hz; use one of {OPUS_RATES}")
    data = samples if rate == SAMPLE_RATE else _to_rate(samples, rate)
    planar = np.ascontiguousarray(np.tile(data[None, :], (channels, 1)), dtype=np.float32)
    layout = "mono" if channels == 1 else "stereo" if channels == 2 else f"{channels}.0"
    with av.open(str(path), "w", format=container_format) as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        block = 1024
        for start in range(0, planar.shape[1], block):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(planar[:, start : start + block]), format="fltp",
                                               layout=layout)
            frame.sample_rate = rate
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _to_rate(samples: Samples, rate: int) -> Samples:
    """16 kHz mono to another rate (FFmpeg's resampler, as for decoding)."""
    av = import_av()
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples, dtype=np.float32).reshape(1, -1), format="flt",
                                       layout="mono")
    frame.sample_rate = SAMPLE_RATE
    out = [f.to_ndarray().reshape(-1) for f in resampler.resample(frame)]
    out += [f.to_ndarray().reshape(-1) for f in resampler.resample(None)]
    return np.concatenate(out).astype(np.float32) if out else np.zeros(0, dtype=np.float32)
