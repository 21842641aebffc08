"""Audio in: microphone capture (sounddevice), file decoding (PyAV), conversion to 16 kHz mono, file replay."""

from app.core.audio.base import SAMPLE_RATE, AudioChunk, AudioSource, Samples, level_dbfs, meter_value

__all__ = ["SAMPLE_RATE", "AudioChunk", "AudioSource", "Samples", "level_dbfs", "meter_value"]
