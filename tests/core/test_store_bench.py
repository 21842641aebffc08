"""The store benchmark's plumbing, in quick mode (the figures themselves come from a quiet machine)."""

from __future__ import annotations

from pathlib import Path

from app.core.bench.common import BenchRequest
from app.core.bench.store import run
from app.core.config import Settings


def test_quick_store_bench_reports_every_figure_and_ratio(tmp_path: Path) -> None:
    settings = Settings()
    settings.storage.kdf_iterations = 64_000
    messages: list[str] = []
    figures = run(BenchRequest(settings, tmp_path / "models", tmp_path / "data", quick=True, progress=messages.append))
    for key in ("unlock_s", "kdf_only_s", "sqlcipher_direct_open_s", "insert_messages_s",
                "insert_messages_plain_sqlite_s", "insert_messages_bare_sqlite_s", "list_encounters_s",
                "search_s", "patient_view_s", "patient_view_big_s", "peak_rss_mib"):
        assert isinstance(figures[key], float) and figures[key] > 0, key
    for key in ("unlock_ratio_vs_sqlcipher_direct", "insert_ratio_vs_plain_sqlite", "search_ratio_vs_plain_sqlite",
                "list_encounters_ratio_vs_plain_sqlite", "patient_view_ratio_vs_plain_sqlite"):
        assert figures[key] > 0, key
    assert figures["kdf_iterations"] == 64_000 and figures["patients"] == 300
    assert isinstance(figures["patient_view_within_target"], bool)
    assert messages and not (tmp_path / "data").exists()  # synthetic data only, in a temp folder
