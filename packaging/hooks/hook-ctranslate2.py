"""CTranslate2's extension links libctranslate2 and libgomp from ctranslate2.libs (auditwheel, RPATH
$ORIGIN/../ctranslate2.libs): collect them to that same relative place. The model converters (which import
transformers, torch, OpenNMT…) are only for converting models, never for running them.
"""

from PyInstaller.utils.hooks import collect_dynamic_libs

binaries = collect_dynamic_libs("ctranslate2")
excludedimports = ["ctranslate2.converters"]
