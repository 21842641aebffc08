"""spaCy, trimmed to what `spacy.load(<model folder>)` of an English pipeline needs.

Replaces pyinstaller-hooks-contrib's hook, which collects every submodule and data file. spaCy's Cython modules
import each other invisibly to PyInstaller, so every submodule is named, except the tests and the languages other
than English (a pipeline's `lang` is imported on demand; `spacy.registrations` imports the few other languages it
registers tokenizers for, and PyInstaller follows those imports). Registries are filled from entry points, which
need the distributions' metadata (spacy-legacy and spacy-loggers register architectures and loggers that way).
"""

from pathlib import Path

from PyInstaller.utils.hooks import collect_data_files, collect_submodules, copy_metadata, get_package_paths

_LANG_DIR = Path(get_package_paths("spacy")[1]) / "lang"


def _wanted(name: str) -> bool:
    parts = name.split(".")
    if parts[:2] == ["spacy", "tests"]:
        return False
    # spacy.lang.<code> packages are languages; spacy.lang.<module> (lex_attrs, punctuation, ...) are shared by all.
    if parts[:2] == ["spacy", "lang"] and len(parts) > 2 and (_LANG_DIR / parts[2]).is_dir():
        return parts[2] == "en"
    return True


hiddenimports = collect_submodules("spacy", filter=_wanted)
datas = collect_data_files("spacy", includes=["*.cfg", "cli/templates/*"])  # spacy.cli reads its templates at import
for dist in ("spacy", "spacy-legacy", "spacy-loggers", "thinc", "srsly", "catalogue", "confection"):
    datas += copy_metadata(dist)
hiddenimports += ["spacy_legacy", "spacy_loggers"]
hiddenimports += collect_submodules("spacy_legacy") + collect_submodules("spacy_loggers")
