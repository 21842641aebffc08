"""How each setting is shown to a doctor: a plain label, a one-line explanation, its unit, whether it sits behind
"Advanced", and on which machines it applies. Keyed by "section.field" of app.core.config's settings model; the
model keeps the names, types, bounds and technical descriptions (shown as tooltips), this table only the words.

A field missing here still gets an editor (labelled from its name); tests/ui/test_settings_plain.py fails then, so
every new setting arrives with its plain label.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal

from pydantic.fields import FieldInfo

# Where a field applies: "gpu" needs a llama.cpp build that can offload to a GPU, "multi_gpu" two GPUs or more;
# "local" and "server" follow the language model's backend.
Needs = Literal["gpu", "multi_gpu", "local", "server"]
# A control other than the one the field's type gives: a list of installed models, a hidden password, a folder.
Control = Literal["chat_model", "speech_model", "voice", "password", "folder"]


@dataclass(frozen=True)
class Shown:
    label: str
    help: str = ""  # empty: the field's own description is plain enough
    advanced: bool = False
    unit: str = ""  # after the number in a spin box: "s", "MiB", "tokens"
    special: str = ""  # what the lowest value means, shown instead of it ("Never" for 0 minutes)
    needs: Needs | None = None
    choices: dict[str, str] = field(default_factory=dict)  # value -> words, for a list of choices
    control: Control | None = None


SECTION_TITLES: dict[str, str] = {
    "asr": "Dictation",
    "redaction": "Hiding identifiers",
    "llm": "Language model",
    "gpu": "Speed and memory",
    "tts": "Read-aloud voice",
    "storage": "Storage and locking",
    "ui": "Appearance",
}

FIELDS: dict[str, Shown] = {
    # asr
    "asr.model": Shown(
        "Speech model",
        help="The model that turns your voice into text, from the models folder: tiny is faster, base more exact.",
        control="speech_model",
    ),
    "asr.language": Shown(
        "Spoken language",
        help="The language spoken, as a two-letter code ('en', 'de'), or 'auto' to detect it.",
    ),
    "asr.beam_size": Shown(
        "Search width",
        help="How many wordings the recogniser weighs at once: 1 is fastest; more is slower, sometimes more exact.",
        advanced=True,
    ),
    "asr.compute_type": Shown(
        "Number precision",
        help="int8 is the fastest and smallest; float32 is slower and rarely more exact.",
        advanced=True,
    ),
    "asr.threads": Shown(
        "Processor threads",
        help="How many processor cores recognise speech.",
        advanced=True,
        special="All cores",
    ),
    "asr.vad": Shown(
        "Skip silence",
        help="Only recognise stretches with a voice in them, so silence never turns into invented words.",
        advanced=True,
    ),
    "asr.no_speech_threshold": Shown(
        "Silence cut-off",
        help="Drop a stretch the recogniser thinks is more likely silence than speech, above this probability.",
        advanced=True,
    ),
    "asr.log_prob_threshold": Shown(
        "Certainty cut-off",
        help="Drop a stretch recognised with less average certainty than this (a log-probability: 0 is certain).",
        advanced=True,
    ),
    "asr.compression_ratio_threshold": Shown(
        "Repetition cut-off",
        help="Drop a stretch whose text repeats itself more than this (the recogniser stuck in a loop).",
        advanced=True,
    ),
    "asr.low_confidence": Shown(
        "Underline words below",
        help="Words recognised with less certainty than this are underlined in orange for you to check.",
    ),
    "asr.vocabulary": Shown(
        "Extra words",
        help="Drug names, local names and other terms that help recognition, one per line.",
    ),
    "asr.use_vocabulary_file": Shown(
        "Use the built-in medical word list",
        help="Drug and clinical terms that ship with the app help recognition, besides your own extra words.",
    ),
    "asr.dictation_commands": Shown("Spoken commands"),
    "asr.format_numbers": Shown("Write numbers as figures"),
    "asr.input_device": Shown("Microphone", help="The microphone's name; empty uses the system's default microphone."),
    "asr.queue_seconds": Shown(
        "Audio held back",
        help="How much sound may wait between the microphone and the recogniser when it falls behind.",
        advanced=True,
        unit="s",
    ),
    "asr.vad_threshold": Shown(
        "Voice detection threshold",
        help="How sure the voice detector must be that a moment is speech.",
        advanced=True,
    ),
    "asr.pause_ms": Shown(
        "Pause that ends a phrase",
        help="A pause this long while dictating ends a phrase and writes it down.",
        advanced=True,
        unit="ms",
    ),
    "asr.max_utterance_s": Shown(
        "Longest phrase",
        help="The longest stretch of dictation recognised in one piece.",
        advanced=True,
        unit="s",
    ),
    "asr.preview_interval_s": Shown(
        "Live preview every",
        help="How often the grey, still-changing words are refreshed while you speak.",
        advanced=True,
        unit="s",
        special="Never",
    ),
    "asr.prompt_max_terms": Shown(
        "Words given as hints",
        help="The most extra words given to the recogniser as hints; more slows it down.",
        advanced=True,
    ),
    # redaction
    "redaction.review_before_sending": Shown("Review identifiers before sending"),
    "redaction.allow": Shown(
        "Never hide",
        help="Terms never treated as identifiers (a drug that looks like a name), one per line.",
    ),
    "redaction.deny": Shown("Always hide", help="Terms always hidden from the language model, one per line."),
    "redaction.use_default_lists": Shown(
        "Use the built-in lists",
        help="Also use the lists of terms to hide and to keep that ship with the app.",
        advanced=True,
    ),
    "redaction.date_offsets": Shown(
        "Dates as days from the visit",
        help="The model sees dates as 'visit day − 3' instead of the real date, so intervals keep their meaning.",
        advanced=True,
    ),
    "redaction.min_confidence": Shown(
        "Detection threshold",
        help="Possible identifiers found with less certainty than this are left in the text.",
        advanced=True,
    ),
    # llm
    "llm.backend": Shown(
        "Where the model runs",
        help="On this computer nothing leaves it; the clinic's server is one your IT team has set up.",
        choices={"local": "On this computer", "server": "On the clinic's server"},
    ),
    "llm.model": Shown(
        "Chat model",
        help="The language model that writes drafts and answers questions, from the models folder.",
        needs="local",
        control="chat_model",
    ),
    "llm.server_url": Shown("Server address", help="The clinic server's address, ending in /v1.", needs="server"),
    "llm.server_model": Shown(
        "Model on the server",
        help="The model's name on the server; empty uses the server's first model.",
        needs="server",
    ),
    "llm.server_api_key": Shown(
        "Server password (API key)",
        help="The key the server asks for, if it asks for one. Kept in the encrypted store, never in the settings "
        "file.",
        needs="server",
        control="password",
    ),
    "llm.server_timeout_s": Shown(
        "Wait for the server",
        help="How long to wait for the server to answer.",
        advanced=True,
        unit="s",
        needs="server",
    ),
    "llm.server_retries": Shown(
        "Retries",
        help="How often to try again when the server cannot be reached.",
        advanced=True,
        needs="server",
    ),
    "llm.server_context_tokens": Shown(
        "Server model's context window",
        help="How much text the server's model takes in at once, if the server does not say.",
        advanced=True,
        unit="tokens",
        needs="server",
    ),
    "llm.server_connect_timeout_s": Shown(
        "Wait to connect",
        help="How long to wait for the clinic server to accept the connection.",
        advanced=True,
        unit="s",
        needs="server",
    ),
    "llm.server_chunk_timeout_s": Shown(
        "Wait in mid-answer",
        help="How long an answer may pause before it is stopped and what arrived is kept.",
        advanced=True,
        unit="s",
        needs="server",
    ),
    "llm.server_busy_notice_s": Shown(
        "Say the server is busy after",
        help="When the server has not started on a request after this long, the window says it is queued.",
        advanced=True,
        unit="s",
        needs="server",
    ),
    "llm.server_max_connections": Shown(
        "Connections to the server",
        help="The most requests this computer sends to the clinic server at once.",
        advanced=True,
        needs="server",
    ),
    "llm.server_ca_file": Shown(
        "Clinic certificate file",
        help="For an https server signed by the clinic's own authority: its certificate (PEM); empty: the system's.",
        advanced=True,
        needs="server",
    ),
    "llm.server_fallback_local": Shown(
        "Use this computer when the server is down",
        help="Off by default: a note drafted here may differ from one the server's model would write.",
        advanced=True,
        needs="server",
    ),
    "llm.prior_context": Shown(
        "Remind the model of earlier notes",
        help="When drafting, the model also reads the summary of this patient's earlier accepted notes (with "
             "identifiers hidden), so it can say what changed.",
    ),
    "llm.summary_model_reading": Shown(
        "Let the model read notes for the summary",
        help="Off by default: with the shipped model the rule-based reading alone was more accurate. On, the model "
             "also reads each accepted note (identifiers hidden) in the background, when it is not drafting.",
        advanced=True,
    ),
    "llm.temperature": Shown(
        "Creativity (temperature)",
        help="Low keeps drafts factual and the same each time; higher varies the wording.",
        advanced=True,
    ),
    "llm.top_p": Shown(
        "Word choice breadth (top-p)",
        help="How many likely next words the model chooses among: lower is more predictable.",
        advanced=True,
    ),
    "llm.max_tokens": Shown(
        "Longest answer",
        help="The longest answer the model may write (a token is about ¾ of a word).",
        unit="tokens",
    ),
    "llm.repeat_penalty": Shown(
        "Repetition penalty",
        help="Discourages repeating recent words (1.0 = off); small models loop without it.",
        advanced=True,
    ),
    "llm.seed": Shown(
        "Random seed",
        help="The same number gives the same answer to the same question.",
        advanced=True,
        special="Random each time",
    ),
    "llm.idle_unload_s": Shown(
        "Free its memory after",
        help="Unload the model after this long unused; it loads again when needed.",
        advanced=True,
        unit="s",
        special="Never",
        needs="local",
    ),
    # gpu
    "gpu.n_gpu_layers": Shown(
        "Layers on the GPU",
        help="How much of the model runs on the graphics card: automatic fits it to the free GPU memory.",
        unit="layers",
        special="None (CPU only)",
        needs="gpu",
        choices={"auto": "Automatic", "all": "All layers"},
    ),
    "gpu.split_mode": Shown(
        "How GPUs share the model",
        help="layer: each GPU holds whole layers (safe); row: GPUs split each layer (needs PCIe peer-to-peer); none: "
             "one GPU.",
        advanced=True,
        needs="multi_gpu",
    ),
    "gpu.main_gpu": Shown(
        "GPU that holds the model",
        help="The GPU that holds the whole model (split none) or its scratch memory (split row).",
        advanced=True,
        needs="multi_gpu",
    ),
    "gpu.tensor_split": Shown(
        "Share per GPU",
        help="How much of the model each GPU holds, e.g. 1, 1; empty shares by free GPU memory.",
        advanced=True,
        needs="multi_gpu",
    ),
    "gpu.flash_attn": Shown(
        "Faster attention (flash attention)",
        help="A faster way to read long consultations; helps most on recent AMD GPUs (RDNA3).",
        advanced=True,
    ),
    "gpu.offload_kqv": Shown(
        "Keep the working memory on the GPU",
        help="Keep the model's working memory (its KV cache) on the GPU: faster, uses more GPU memory.",
        advanced=True,
        needs="gpu",
    ),
    "gpu.n_ctx": Shown(
        "Context window",
        help="How much text the model takes in at once (consultation, question and answer; a token is about ¾ of a "
             "word).",
        unit="tokens",
    ),
    "gpu.n_batch": Shown(
        "Reading batch",
        help="How many tokens of the consultation are read in one step.",
        advanced=True,
        unit="tokens",
    ),
    "gpu.n_threads": Shown(
        "Processor threads",
        help="How many processor cores write the answer.",
        advanced=True,
        special="All cores",
    ),
    "gpu.use_mmap": Shown(
        "Read the model file in place",
        help="Start faster by mapping the model file into memory instead of copying it.",
        advanced=True,
    ),
    "gpu.use_mlock": Shown(
        "Keep the model in RAM",
        help="Lock the model in memory so it is never swapped to disk.",
        advanced=True,
    ),
    "gpu.hip_visible_devices": Shown(
        "GPUs ROCm may use",
        help="Which GPUs the model may use, e.g. 0,1 (HIP_VISIBLE_DEVICES); empty = all.",
        advanced=True,
        needs="gpu",
    ),
    "gpu.hsa_override_gfx_version": Shown(
        "GPU type override (ROCm)",
        help="For GPUs ROCm does not list: 10.3.0 for an RX 6600, 11.0.0 for a 780M (HSA_OVERRIDE_GFX_VERSION).",
        advanced=True,
        needs="gpu",
    ),
    "gpu.vram_margin_mib": Shown(
        "GPU memory left free",
        help="Memory the automatic plan leaves free on each GPU for the display and other programs.",
        advanced=True,
        unit="MiB",
        needs="gpu",
    ),
    "gpu.row_split_check": Shown(
        "Check row split first",
        help="Before using row split, compare its output with layer split and fall back if they differ.",
        advanced=True,
        needs="multi_gpu",
    ),
    # tts
    "tts.voice": Shown("Speaking voice", help="The voice that reads aloud, from the models folder.", control="voice"),
    "tts.speed": Shown("Speaking rate", help="1.0 is the voice's own pace.", unit="×"),
    "tts.volume": Shown("Playback volume", help="From 0 (silent) to 1 (full)."),
    "tts.output_device": Shown("Speaker", help="The speaker's name; empty uses the system's default."),
    "tts.read_answers_aloud": Shown(
        "Read each answer aloud as it is written",
        help="Each answer is read out while it is still being written, from its first sentence.",
    ),
    "tts.sentence_pause_s": Shown("Pause between sentences", advanced=True, unit="s"),
    "tts.date_order": Shown(
        "Read dates like 03/04/2025 as",
        help="Which number of a written date is the month.",
        choices={"month_first": "March 4th (month first)", "day_first": "3rd April (day first)"},
    ),
    # storage
    "storage.data_dir": Shown(
        "Records folder",
        help="Where the encrypted records and the logs are kept; empty uses the default folder.",
        advanced=True,
        control="folder",
    ),
    "storage.models_dir": Shown(
        "Models folder",
        help="Where the models are kept; empty uses the default folder.",
        advanced=True,
        control="folder",
    ),
    "storage.auto_lock_minutes": Shown(
        "Lock after",
        help="Lock the app after this long without a key press or mouse movement.",
        unit="min",
        special="Never",
    ),
    "storage.kdf_iterations": Shown(
        "Passphrase hardening",
        help="How hard a new store's key is to guess (PBKDF2 rounds): more is safer and slower to unlock.",
        advanced=True,
    ),
    # ui
    "ui.clinic_name": Shown("Name of the clinic", help="Printed at the top of every printed or PDF note and letter."),
    "ui.doctor_name": Shown("Doctor's name", help="Printed at the top of every printed or PDF note and letter."),
    "ui.theme": Shown(
        "Colours",
        help="Light or dark colours.",
        choices={"system": "Follow the system", "light": "Light", "dark": "Dark"},
    ),
    "ui.font_scale": Shown("Text size", help="Text size relative to the system's (1.0 = the same).", unit="×"),
    "ui.confirm_on_close_with_draft": Shown(
        "Ask before closing with an unaccepted draft",
        help="The draft stays saved as a draft either way; this only asks before the window closes.",
    ),
    "ui.prepare_engines_early": Shown(
        "Prepare engines while unlocking",
        help="Load speech recognition, redaction and the voice while the passphrase is typed, so the first "
             "consultation has no pauses (uses their memory from the start).",
        advanced=True,
    ),
}


def shown(section: str, name: str, info: FieldInfo) -> Shown:
    """How `section.name` is shown, its explanation filled in from the field's description when not rewritten."""
    entry = FIELDS.get(f"{section}.{name}") or Shown(name.replace("_", " ").capitalize())
    return entry if entry.help else replace(entry, help=info.description or "")
