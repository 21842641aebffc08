"""Speech recognition: the `Transcriber` protocol, the faster-whisper engine, live (incremental) transcription and
the guards against invented text. The engine module imports faster-whisper; nothing else here does."""
