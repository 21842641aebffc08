"""Piper phonemises through its bundled espeak-ng (piper/espeakbridge.so), which reads piper/espeak-ng-data.

The extension is imported lazily (`from . import espeakbridge` inside a method), so it is named here. The espeak-ng
data is collected whole: users may add Piper voices for other languages. The training code, the voice downloader and
the HTTP server are not used by the app.
"""

from PyInstaller.utils.hooks import collect_data_files

hiddenimports = ["piper.espeakbridge"]
datas = collect_data_files("piper", includes=["espeak-ng-data/**/*", "tashkeel/*.json"])
excludedimports = ["piper.train", "piper.http_server", "piper.download_voices"]
