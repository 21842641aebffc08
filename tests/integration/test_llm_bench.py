"""`bench llm --quick`: the app's streaming path and llama-cpp-python direct, same model and settings, one run."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.bench.common import BenchRequest
from app.core.config import Settings

pytestmark = pytest.mark.integration
pytest.importorskip("llama_cpp")


def test_quick_llm_bench_reports_both_paths_and_their_ratio(models_dir: Path, tmp_path: Path) -> None:
    from app.core.bench import llm

    if not (models_dir / f"{llm.QUICK_MODEL}.gguf").exists():
        pytest.skip("SmolLM2 is not installed")
    figures = llm.run(BenchRequest(Settings(), models_dir, tmp_path, quick=True))
    assert figures["model"] == llm.QUICK_MODEL
    assert figures["same_text"] is True  # identical settings and prompts: identical greedy answers
    for key in ("load_s", "load_direct_s", "first_token_s", "first_token_direct_s", "tokens_per_s",
                "tokens_per_s_direct", "peak_rss_mib"):
        assert figures[key] > 0, key
    # The ratio itself is only meaningful on a quiet machine (the lead records it); here: it is computed.
    assert figures["ratio_vs_llama_cpp_direct"] == pytest.approx(
        figures["tokens_per_s"] / figures["tokens_per_s_direct"], rel=0.01
    )
    assert figures["target_ratio"] == 0.97
