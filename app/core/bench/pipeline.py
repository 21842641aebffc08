"""`bench pipeline`: the latency a doctor feels, on the shipped sample dictation fed at speaking pace.

The dictation is replayed in real time (as a microphone would deliver it), so the transcript has to keep up while
the doctor speaks; then we time, from the moment the audio ends (Stop): the final transcript, the first token of
the drafted note, and the first audio of it being read aloud. The whole timeline is returned for the README plot.

The ratio against the libraries called directly is each stage bench's job (`bench asr|redact|llm|tts`); here the
`direct_*` figures give the cost of the same work done one library after another with no streaming, which is what
a doctor would wait for without the pipeline.
"""

from __future__ import annotations

import time
from typing import Any

from app.core.bench.common import BenchRequest, PeakMemory
from app.core.paths import resource

QUICK_SECONDS = 12.0


def run(request: BenchRequest) -> dict[str, Any]:
    """The default model (SmolLM2 in a quick run), then SmolLM2 in a full run; each dictated twice from a cold
    cache: without reading the consultation during dictation, then with it (before / after, on one machine)."""
    models: list[str | None] = ["smollm2-135m-instruct"] if request.quick else [None, "smollm2-135m-instruct"]
    runs = {("default" if model is None else model): _model_runs(request, model) for model in models}
    first = next(iter(runs.values()))
    figures: dict[str, Any] = {key: value for key, value in first["preread"].items() if key != "timeline"}
    figures["timeline"] = first["preread"]["timeline"]
    figures["models"] = runs
    # Flat figures for the README table: before (cold) and after (read during dictation), per model.
    for name, by_mode in runs.items():
        for mode, result in by_mode.items():
            for measure in ("speech_end_to_first_token_s", "speech_end_to_first_audio_s"):
                figures[f"{name}_{mode}_{measure}"] = result[measure]
    return figures


def _model_runs(request: BenchRequest, model: str | None) -> dict[str, Any]:
    from app.core.services.engines import live_transcriber_factory, load_language_model, load_redactor, load_speaker

    settings = request.settings.model_copy(deep=True)
    if request.quick:
        settings.llm.max_tokens = 96
    request.progress(f"pipeline: loading engines ({model or 'default model'})")
    with PeakMemory() as memory:
        load_started = time.perf_counter()
        live = live_transcriber_factory(settings, request.models_dir)
        redactor = load_redactor(settings, request.models_dir)
        llm = load_language_model(settings, request.models_dir, model)
        for _ in llm.load():
            pass
        speaker = load_speaker(settings, request.models_dir)
        load_s = time.perf_counter() - load_started
        try:
            results = {}
            for name, preread in (("cold", False), ("preread", True)):
                results[name] = _dictate(request, settings, live, redactor, llm, speaker, preread)
                results[name]["engines_load_s"] = round(load_s, 2)
        finally:
            llm.close()
    for result in results.values():
        result["peak_rss_mib"] = memory.peak_mib
    return results


def _dictate(
    request: BenchRequest, settings: Any, live: Any, redactor: Any, llm: Any, speaker: Any, preread: bool
) -> dict[str, Any]:
    from app.core.audio.decode import decode_file
    from app.core.audio.replay import ReplaySource
    from app.core.services import consultation as c

    audio = decode_file(resource("sample", "dictation.wav")).samples
    if request.quick:
        audio = audio[: int(QUICK_SECONDS * 16000)]
    # A cold cache for each run: the previous run left this very consultation in it.
    llm.unload()
    for _ in llm.load():
        pass
    pipeline = c.ConsultationPipeline(settings, live=live, redactor=redactor, llm=llm, speaker=speaker)
    source = ReplaySource(audio, realtime=not request.quick, description="sample dictation")
    request.progress(f"pipeline: dictating {'with' if preread else 'without'} reading ahead")
    failed = None
    answer_chars = 0
    for event in pipeline.run(source, c.ConsultationRequest(task="soap", speak=True, preread=preread)):
        if isinstance(event, c.StageFailed):
            failed = f"{event.stage}: {event.error.message}"
        elif isinstance(event, c.AnswerDone):
            answer_chars = len(event.display_text)
    timeline = pipeline.timeline.as_dict()
    return {
        "audio_s": round(len(audio) / 16000, 2),
        "fed_in_real_time": not request.quick,
        "model": llm.model_name,
        "read_during_dictation": preread,
        "speech_end_to_transcript_s": timeline["speech_end_to_transcript_s"],
        "speech_end_to_first_token_s": timeline["speech_end_to_first_token_s"],
        "speech_end_to_first_audio_s": timeline["speech_end_to_first_audio_s"],
        "answer_chars": answer_chars,
        "failed": failed,
        "timeline": timeline,
    }
