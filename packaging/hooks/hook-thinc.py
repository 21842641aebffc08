"""thinc without its own tests. Replaces pyinstaller-hooks-contrib's hook (every submodule and data file).

thinc's Cython modules are named explicitly because PyInstaller cannot see their imports. `thinc.backends` reads its
CUDA kernel sources (backends/*.cu) as text at import time even on the CPU, so those must be collected; the
PyTorch/TensorFlow/MXNet shims stay importable but find no framework, as in the venv.
"""

from PyInstaller.utils.hooks import collect_data_files, collect_submodules

hiddenimports = collect_submodules("thinc", filter=lambda name: not name.startswith("thinc.tests"))
datas = collect_data_files("thinc", includes=["backends/*.cu"])
