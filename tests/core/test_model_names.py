"""One name per model, in words a doctor understands, from one function: what it is, what it is for, how big, where
it runs. The CLI's `models list` uses it too."""

from __future__ import annotations

import json

import pytest

from app.cli.main import main
from app.core.model_catalog import CATALOG, display_name


def test_display_names() -> None:
    assert display_name("qwen2.5-1.5b-instruct", runs_on="cpu") == (
        "Qwen2.5 Coder 1.5B — chat model, 1.1 GB, runs on this computer (CPU)"
    )
    assert display_name("smollm2-135m-instruct", runs_on="gpu") == (
        "SmolLM2 135M — chat model, 98 MB, runs on this computer (GPU)"
    )
    assert display_name("/models/qwen2.5-1.5b-instruct.gguf") == display_name("qwen2.5-1.5b-instruct")  # by its file
    assert display_name("my-model", role="llm", size=4_200_000_000) == (
        "my-model (your own file) — chat model, 4.2 GB, runs on this computer"
    )
    assert display_name("", runs_on="server") == "The server's default model — chat model, runs on the clinic server"
    for name, spec in CATALOG.items():
        shown = display_name(name)
        assert spec.label and shown.startswith(spec.label) and name not in shown


def test_models_list_uses_the_display_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "list"]) == 0
    assert display_name("smollm2-135m-instruct") in capsys.readouterr().out
    assert main(["models", "list", "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["qwen2.5-1.5b-instruct"]["display_name"] == display_name("qwen2.5-1.5b-instruct")
