"""llama-cpp-python loads libllama/libggml/libmtmd with ctypes from llama_cpp/lib, by full path.

PyInstaller cannot see ctypes loads, so the whole lib/ folder is collected to the same relative place (the libraries
find each other through RUNPATH=$ORIGIN). Identical copies are turned into symlinks by the spec. The OpenAI server
sub-package (FastAPI, uvicorn) is not part of the app.
"""

from PyInstaller.utils.hooks import collect_dynamic_libs

binaries = collect_dynamic_libs("llama_cpp")
excludedimports = ["llama_cpp.server"]
