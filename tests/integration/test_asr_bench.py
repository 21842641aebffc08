"""`bench asr` in quick mode: the plumbing and the shape of its figures (numbers are measured on a quiet machine)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.bench.asr import dictation, run, speech_dir
from app.core.bench.common import BenchRequest
from app.core.config import Settings

pytestmark = pytest.mark.integration


def test_quick_bench_reports_the_ratio_and_the_stop_latency(models_dir: Path, tmp_path: Path) -> None:
    if not (speech_dir() / "references.tsv").is_file():
        pytest.skip("the development speech clips are not beside this checkout")
    settings = Settings()
    settings.asr.model = "whisper-tiny.en"
    figures = run(BenchRequest(settings, models_dir, tmp_path, quick=True))
    assert figures["model"] == "whisper-tiny.en" and figures["files"] == 2
    assert figures["app_rtf"] > 0 and figures["direct_rtf"] > 0
    assert figures["app_vs_direct_ratio"] == pytest.approx(figures["app_rtf"] / figures["direct_rtf"], rel=0.01)
    assert figures["wer"] <= 0.2
    assert figures["live_audio_s"] == pytest.approx(4.0)
    assert 0 <= figures["stop_to_final_s"] < 30 and figures["stop_final_decode_s"] >= 0
    assert figures["live_decodes"] >= 1 and figures["live_words"] > 0
    assert figures["peak_rss_mib"] > 100
    assert set(figures["targets"]) == {"app_vs_direct_ratio", "stop_to_final_s"}


def test_the_dictation_is_clips_with_pauses_cut_to_length() -> None:
    clips = [np.ones(16000, dtype=np.float32), np.full(8000, 2.0, dtype=np.float32)]
    audio = dictation(clips, 5.0)
    assert audio.size == 5 * 16000
    assert audio[16000:16000 + 100].max() == 0.0  # a pause after the first clip
