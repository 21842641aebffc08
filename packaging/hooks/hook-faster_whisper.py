"""faster-whisper reads its Silero VAD model from faster_whisper/assets/silero_vad_v6.onnx when vad_filter=True."""

from PyInstaller.utils.hooks import collect_data_files

datas = collect_data_files("faster_whisper", includes=["assets/*.onnx"])
