"""The in-process llama.cpp backend on the generated tiny GGUF (real llama.cpp; ~0.5 MB model, milliseconds a load)."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.core.config import Settings
from app.core.errors import AppError, Cancelled, CancelToken, GpuError, ModelError
from app.core.llm.base import ChatMessage, GenerationRequest, LanguageModel, Sampling
from tests.support.tiny_gguf import (
    CHATML_TEMPLATE,
    write_garbage_gguf,
    write_oversized_gguf,
    write_tiny_gguf,
    write_truncated_copy,
)

llama_cpp = pytest.importorskip("llama_cpp")

from app.core.llm.llama_local import LocalLlm  # noqa: E402  (after the skip: needs llama_cpp)

GREEDY = Sampling(temperature=0.0, top_p=1.0, max_tokens=24, seed=7)
REQUEST = GenerationRequest(
    (ChatMessage("system", "You write notes."), ChatMessage("user", "Chest pain, 3 days.")), GREEDY
)


@pytest.fixture(scope="module")
def tiny_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_gguf(tmp_path_factory.mktemp("tiny") / "tiny.gguf")


@pytest.fixture(scope="module")
def llm(tiny_path: Path) -> Iterator[LocalLlm]:
    model = LocalLlm(Settings(), tiny_path.parent, model=str(tiny_path))
    yield model
    model.close()


def test_is_a_language_model(llm: LocalLlm) -> None:
    assert isinstance(llm, LanguageModel)
    assert llm.backend == "local" and llm.model_name == "tiny"


def test_load_reports_progress_until_ready(tiny_path: Path) -> None:
    model = LocalLlm(Settings(), tiny_path.parent, model=str(tiny_path))
    try:
        steps = list(model.load())
        assert steps[0].stage == "locate"
        assert {"plan", "load"} <= {s.stage for s in steps}
        assert steps[-1].stage == "ready" and steps[-1].done
        fractions = [s.fraction for s in steps]
        assert fractions == sorted(fractions) and fractions[-1] == 1.0
        assert model.loaded
        assert [s.stage for s in model.load()] == ["ready"]  # already loaded: nothing to do
    finally:
        model.close()
    assert not model.loaded


def test_stream_is_deterministic_at_temperature_zero(llm: LocalLlm) -> None:
    first = llm.stream(REQUEST)
    pieces = list(first)
    second = llm.stream(REQUEST).collect()
    assert len(pieces) > 5
    assert first.completion is not None
    assert first.completion.text == "".join(pieces) == second.text
    assert first.completion.finish_reason == "length"  # the tiny model never ends on its own
    timings = first.completion.timings
    assert timings.first_token_s is not None and timings.prompt_tokens > 0 and timings.completion_tokens > 0
    assert first.completion.draft


def test_complete_gives_the_same_text_as_the_stream(llm: LocalLlm) -> None:
    assert llm.complete(REQUEST).text == llm.stream(REQUEST).collect().text


def test_cancel_mid_stream_stops_between_tokens_and_frees_the_model(llm: LocalLlm) -> None:
    cancel = CancelToken()
    seen: list[str] = []
    with pytest.raises(Cancelled):
        for piece in llm.stream(GenerationRequest(REQUEST.messages, Sampling(0.0, 1.0, 400, 7)), cancel):
            seen.append(piece)
            if len(seen) == 3:
                cancel.cancel()
    assert len(seen) == 3
    assert llm.complete(REQUEST).text  # the worker is free again at once


def test_leaving_a_stream_early_stops_generation(llm: LocalLlm) -> None:
    stream = llm.stream(GenerationRequest(REQUEST.messages, Sampling(0.0, 1.0, 400, 7)))
    for i, _ in enumerate(stream):
        if i == 1:
            break
    stream.close()
    assert llm.complete(REQUEST).finish_reason == "length"


def test_prompt_token_count_matches_llama_cpps_usage(llm: LocalLlm) -> None:
    counted = llm.count_prompt_tokens(REQUEST.messages)

    def usage() -> int:
        raw = llm._slot.llama.create_chat_completion([m.as_dict() for m in REQUEST.messages], max_tokens=1)
        return int(raw["usage"]["prompt_tokens"])

    assert counted == llm._worker.call(usage)
    assert llm.count_tokens("chest pain") > 0


def test_chat_template_comes_from_the_gguf(llm: LocalLlm) -> None:
    llm.complete(REQUEST)
    assert llm._slot.llama.metadata["tokenizer.chat_template"] == CHATML_TEMPLATE


def test_gguf_without_template_falls_back_to_chatml(tmp_path: Path) -> None:
    path = write_tiny_gguf(tmp_path / "bare.gguf", chat_template=None)
    model = LocalLlm(Settings(), tmp_path, model=str(path))
    try:
        assert model.complete(REQUEST).text
        assert model._slot.llama.chat_format == "chatml"
    finally:
        model.close()


def test_json_schema_output_parses(llm: LocalLlm) -> None:
    schema = {
        "type": "object",
        "properties": {"finding": {"type": "string", "maxLength": 12}, "urgent": {"type": "boolean"}},
        "required": ["finding", "urgent"],
        "additionalProperties": False,
    }
    request = GenerationRequest(REQUEST.messages, Sampling(0.0, 1.0, 64, 7), json_schema=schema)
    completion = llm.complete(request)
    data = json.loads(completion.text)  # a random-weight model still answers valid JSON: the grammar forces it
    assert set(data) == {"finding", "urgent"} and isinstance(data["urgent"], bool)


def test_settings_reach_llama_unchanged(tiny_path: Path) -> None:
    settings = Settings()
    settings.gpu.n_gpu_layers = 3
    settings.gpu.split_mode = "row"
    settings.gpu.tensor_split = [1.0, 2.0]
    settings.gpu.main_gpu = 1
    settings.gpu.n_ctx = 1024
    settings.gpu.n_batch = 128
    settings.gpu.n_threads = 1
    settings.gpu.flash_attn = True
    captured: list[dict[str, Any]] = []

    def capture(**kwargs: Any) -> Any:
        captured.append(kwargs)
        return llama_cpp.Llama(**kwargs)  # the real model still loads: a CPU build ignores the GPU arguments

    model = LocalLlm(settings, tiny_path.parent, model=str(tiny_path), llama_factory=capture)
    try:
        assert model.complete(REQUEST).text
    finally:
        model.close()
    assert captured == [{
        "model_path": str(tiny_path), "n_gpu_layers": 3, "split_mode": llama_cpp.LLAMA_SPLIT_MODE_ROW, "main_gpu": 1,
        "tensor_split": [1.0, 2.0], "flash_attn": True, "offload_kqv": True, "n_ctx": 1024, "n_batch": 128,
        "n_threads": 1, "n_threads_batch": 1, "use_mmap": True, "use_mlock": False, "verbose": True,
    }]


def test_placement_is_what_llama_cpp_reports_not_what_was_asked(tiny_path: Path) -> None:
    # Every layer asked for, on this CPU build: llama.cpp loads on the CPU without failing, as a HIP build does
    # when it finds no usable GPU. The plan (and so the status bar) must say CPU.
    settings = Settings()
    settings.gpu.n_gpu_layers = "all"
    model = LocalLlm(settings, tiny_path.parent, model=str(tiny_path))
    try:
        list(model.load())
        plan = model.offload_plan
    finally:
        model.close()
    assert plan is not None and plan.n_gpu_layers == 0 and "every layer on the CPU" in plan.reason


def test_where_the_weights_went_is_read_from_the_load_log() -> None:
    from app.core.gpu.llamacpp_log import weights_on_gpu

    two_cards = "llm_load_tensors:      ROCm0 buffer size = 16228.09 MiB\nllm_load_tensors:  CPU buffer size = 85.9 MiB"
    assert weights_on_gpu(two_cards) is True
    assert weights_on_gpu("load_tensors:   ROCm1 model buffer size =  1024.00 MiB") is True
    assert weights_on_gpu("load_tensors:   CPU_Mapped model buffer size =    92.10 MiB") is False
    assert weights_on_gpu("llama_kv_cache:      ROCm0 KV buffer size =     5.62 MiB") is None  # not weights


@pytest.mark.parametrize("kind", ["truncated", "garbage", "not_gguf"])
def test_damaged_model_is_a_clear_model_error_and_prints_nothing(
    kind: str, tiny_path: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    if kind == "truncated":
        path = write_truncated_copy(tiny_path, tmp_path / "cut.gguf")
    elif kind == "garbage":
        path = write_garbage_gguf(tmp_path / "garbage.gguf")
    else:
        path = tmp_path / "notes.gguf"
        path.write_text("this is not a model")
    model = LocalLlm(Settings(), tmp_path, model=str(path))
    try:
        with pytest.raises(ModelError) as info:
            list(model.load())
    finally:
        model.close()
    assert path.name in info.value.message
    assert info.value.hint
    if kind == "truncated":
        assert "not within the file bounds" in info.value.message  # llama.cpp's own reason, passed on
    out, err = capfd.readouterr()
    assert out == "" and err == ""  # llama.cpp's complaints went to the log, not the terminal


def test_model_too_big_for_memory_is_refused_by_the_planner(tmp_path: Path) -> None:
    path = write_oversized_gguf(tmp_path / "huge.gguf")
    model = LocalLlm(Settings(), tmp_path, model=str(path))
    try:
        with pytest.raises(GpuError, match="RAM") as info:
            list(model.load())
    finally:
        model.close()
    assert isinstance(info.value, AppError) and info.value.hint
    assert not model.loaded


def test_missing_model_names_the_fix(tmp_path: Path) -> None:
    model = LocalLlm(Settings(), tmp_path, model="no-such-model")
    try:
        with pytest.raises(ModelError, match="no-such-model"):
            model.complete(REQUEST)
    finally:
        model.close()


def test_idle_model_unloads_and_reloads_on_demand(tiny_path: Path) -> None:
    model = LocalLlm(Settings(), tiny_path.parent, model=str(tiny_path), idle_unload_s=0.2)
    try:
        first = model.complete(REQUEST)
        assert model.unloaded_event.wait(10), "the idle model was not unloaded"
        assert not model.loaded
        again = model.complete(REQUEST)
        assert again.text == first.text
        assert again.timings.load_s > 0  # it had to load again
    finally:
        model.close()


def test_other_threads_output_is_not_swallowed_while_loading(
    tiny_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Loading silences only the loading thread (verbose=False would have silenced the whole process)."""

    def load_while_another_thread_prints(**kwargs: Any) -> Any:
        printer = threading.Thread(target=lambda: print("progress from the CLI thread", file=sys.stderr))
        printer.start()
        printer.join()
        print("llama.cpp metadata dump", file=sys.stderr)  # what llama-cpp-python prints on the loading thread
        return llama_cpp.Llama(**kwargs)

    model = LocalLlm(Settings(), tiny_path.parent, model=str(tiny_path), llama_factory=load_while_another_thread_prints)
    try:
        list(model.load())
        model.complete(REQUEST)
    finally:
        model.close()
    err = capsys.readouterr().err
    assert "progress from the CLI thread" in err
    assert "metadata dump" not in err


def test_long_text_is_condensed_within_the_real_context_window(tmp_path: Path, fixture_data: Path) -> None:
    """Map-reduce with llama.cpp's real tokenizer: every call must fit the context (llama.cpp refuses a longer
    prompt), and the user is told. The model answers empty, so only the plumbing is checked."""
    from app.core.llm.drafting import draft

    path = write_tiny_gguf(tmp_path / "quiet.gguf", ends_at_once=True)
    settings = Settings()
    settings.gpu.n_ctx = 2048
    settings.llm.max_tokens = 128
    records = (json.loads(line) for line in (fixture_data / "clinical" / "mtsamples_sample50.jsonl").open())
    text = "\n\n".join(r["text"] for _, r in zip(range(2), records, strict=False))
    notices: list[str] = []
    model = LocalLlm(settings, tmp_path, model=str(path))
    try:
        assert model.count_tokens(text) > model.context_window
        result = draft(model, "referral", text, settings.llm, notice=notices.append)
    finally:
        model.close()
    assert result.condensed_parts >= 3
    assert notices and "condensing it in" in notices[0]
    assert result.completion.finish_reason == "stop"
