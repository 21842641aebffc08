"""Read-aloud: clinical text normalisation, sentence streaming, Piper synthesis, playback and WAV export."""
