"""Language-model benchmark: the app's streaming path against llama-cpp-python called directly, in one run.

Both sides use the same GGUF and the very same `Llama(...)` arguments (the ones the app resolved from the settings),
temperature 0 and the same prompts, and llama.cpp runs on the same thread for both (the app's model thread): llama.cpp
keeps its OpenMP compute threads per calling thread, and two sets of them slow each other down. Runs alternate
(app, direct, app, direct…) so machine noise hits both alike,
and each pair gets a prompt neither model has seen, so time to first token includes prompt processing.

Figures:
- model, n_ctx, n_threads, n_gpu_layers: what was measured.
- load_s: `LocalLlm.load()` (reads the file with progress, plans the GPU layers, creates the model);
  load_direct_s: `Llama(**same kwargs)` alone (file already in the page cache by then).
- first_token_cold_s: the first request after loading, nothing cached (first-call allocations included).
- first_token_s / first_token_direct_s: median time from the call to the first text for a new question (its prompt
  processed; the system prompt shared with the previous question is reused from llama.cpp's cache).
- first_token_warm_s: the same request again, its whole prompt cached: the first decode alone.
- tokens_per_s / tokens_per_s_direct: median generation speed after the first token (tokens counted the same way
  on both sides: the answer re-tokenised).
- ratio_vs_llama_cpp_direct: tokens_per_s / tokens_per_s_direct; target >= 0.97 (the worker thread, queue and
  cancel checks must cost almost nothing). same_text: both sides generated identical answers.
- peak_rss_mib: the highest resident memory while the app's model was loaded and generating (before the direct
  instance existed).
The default model is used normally, SmolLM2 with `quick` (which checks the plumbing, not the numbers).
"""

from __future__ import annotations

import statistics
from functools import partial
from typing import Any

from app.core.bench.common import BenchRequest, PeakMemory, Stopwatch
from app.core.llm.base import GenerationRequest, Sampling
from app.core.llm.prompts import task_messages

TARGET_RATIO = 0.97
QUICK_MODEL = "smollm2-135m-instruct"
QUESTIONS = (
    "Explain the first-line treatment of newly diagnosed hypertension in an adult without diabetes.",
    "List the red-flag symptoms in a patient presenting with lower back pain.",
    "Describe how to assess a patient with suspected community-acquired pneumonia.",
    "Summarise the monitoring needed when starting metformin in type 2 diabetes.",
    "Explain how to distinguish stable angina from acute coronary syndrome in clinic.",
    "Outline the initial management of an acute asthma attack in an adult.",
)


def _request(index: int, max_tokens: int) -> GenerationRequest:
    return GenerationRequest(
        task_messages("question", QUESTIONS[index % len(QUESTIONS)]),
        Sampling(temperature=0.0, top_p=1.0, max_tokens=max_tokens, seed=1, repeat_penalty=1.1),
    )


def _speed(tokens: int, first_s: float | None, total_s: float) -> float | None:
    if first_s is None or tokens < 2 or total_s <= first_s:
        return None
    return (tokens - 1) / (total_s - first_s)


def _direct_run(llama: Any, request: GenerationRequest) -> tuple[str, float | None, float]:
    """The same chat completion on llama-cpp-python itself: (text, first token s, total s)."""
    sampling = request.sampling
    clock = Stopwatch()
    first: float | None = None
    pieces: list[str] = []
    for chunk in llama.create_chat_completion(
        messages=[m.as_dict() for m in request.messages],
        temperature=sampling.temperature,
        top_p=sampling.top_p,
        max_tokens=sampling.max_tokens,
        repeat_penalty=sampling.repeat_penalty,
        seed=sampling.seed,
        stream=True,
    ):
        piece = chunk["choices"][0].get("delta", {}).get("content") or ""
        if piece:
            if first is None:
                first = clock.elapsed()
            pieces.append(piece)
    return "".join(pieces), first, clock.elapsed()


def _app_run(llm: Any, request: GenerationRequest) -> tuple[str, float | None, float]:
    """Through the app: LocalLlm.stream, read on this thread as the UI and CLI do."""
    clock = Stopwatch()
    first: float | None = None
    pieces: list[str] = []
    for piece in llm.stream(request):
        if first is None:
            first = clock.elapsed()
        pieces.append(piece)
    return "".join(pieces), first, clock.elapsed()


def run(request: BenchRequest) -> dict[str, Any]:
    from app.core.llm.llama_local import LocalLlm
    from app.core.llm.native import import_llama_cpp

    model_name = QUICK_MODEL if request.quick else request.settings.llm.model
    max_tokens = 24 if request.quick else 200
    pairs = 2 if request.quick else 5
    settings = request.settings.model_copy(deep=True)
    settings.llm.idle_unload_s = 0  # the benchmark decides when the model goes

    app = LocalLlm(settings, request.models_dir, model=model_name)
    direct: Any = None
    try:
        with PeakMemory() as peak:
            clock = Stopwatch()
            for step in app.load():
                request.progress(step.message)
            load_s = clock.elapsed()
            # Cold: the first request after loading (nothing cached, first-call allocations included).
            _, cold_first, _ = _app_run(app, _request(len(QUESTIONS) - 1, 8))
        kwargs = app.llama_kwargs
        llama_cpp = import_llama_cpp(settings.gpu)
        clock = Stopwatch()
        direct = llama_cpp.Llama(**{**kwargs, "verbose": False})
        load_direct_s = clock.elapsed()
        # On the app's model thread, as every call of the app's own is: one OpenMP pool of compute threads (see
        # LocalLlm.on_model_thread); on this thread, the two pools took a quarter off both sides' speed.
        app.on_model_thread(lambda: _direct_run(direct, _request(len(QUESTIONS) - 1, 8)))

        app_speeds: list[float] = []
        direct_speeds: list[float] = []
        app_first: list[float] = []
        direct_first: list[float] = []
        same_text = True
        for index in range(pairs):
            req = _request(index, max_tokens)
            request.progress(f"llm bench: pair {index + 1}/{pairs}")
            text_a, first_a, total_a = _app_run(app, req)
            text_d, first_d, total_d = app.on_model_thread(partial(_direct_run, direct, req))
            same_text = same_text and text_a == text_d
            for text, first, total, speeds, firsts in (
                (text_a, first_a, total_a, app_speeds, app_first),
                (text_d, first_d, total_d, direct_speeds, direct_first),
            ):
                tokens = len(direct.tokenize(text.encode("utf-8"), add_bos=False)) if text else 0
                speed = _speed(tokens, first, total)
                if speed is not None:
                    speeds.append(speed)
                if first is not None:
                    firsts.append(first)
        # Warm: the same request again, its whole prompt already in llama.cpp's cache (as for a follow-up that
        # starts the same way): what is left is the first decode.
        warm_first = [f for f in (_app_run(app, _request(pairs - 1, 8))[1] for _ in range(3)) if f is not None]
    finally:
        app.close()
        if direct is not None:
            direct.close()

    ours = statistics.median(app_speeds) if app_speeds else None
    theirs = statistics.median(direct_speeds) if direct_speeds else None
    ratio = round(ours / theirs, 4) if ours and theirs else None
    return {
        "model": model_name,
        "n_ctx": kwargs["n_ctx"],
        "n_threads": kwargs["n_threads"],
        "n_gpu_layers": kwargs["n_gpu_layers"],
        "max_tokens": max_tokens,
        "pairs": pairs,
        "load_s": round(load_s, 3),
        "load_direct_s": round(load_direct_s, 3),
        "first_token_cold_s": round(cold_first, 3) if cold_first is not None else None,
        "first_token_s": round(statistics.median(app_first), 3) if app_first else None,
        "first_token_warm_s": round(statistics.median(warm_first), 3) if warm_first else None,
        "first_token_direct_s": round(statistics.median(direct_first), 3) if direct_first else None,
        "tokens_per_s": round(ours, 2) if ours else None,
        "tokens_per_s_direct": round(theirs, 2) if theirs else None,
        "ratio_vs_llama_cpp_direct": ratio,
        "target_ratio": TARGET_RATIO,
        "meets_target": ratio is not None and ratio >= TARGET_RATIO,
        "same_text": same_text,
        "peak_rss_mib": peak.peak_mib,
    }
