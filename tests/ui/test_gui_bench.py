"""`clinic-assistant bench gui` runs a whole consultation in the real window and reports the GUI thread's stalls.

The figures themselves are the benchmark's business (bench/, README); this test runs its plumbing once with the
small real engines, a two-second clip as the dictation and the voice played 20x faster than a sound card."""

from __future__ import annotations

from pathlib import Path

from app.core.bench.common import BenchRequest
from app.ui import gui_bench
from tests.ui.support import ui_settings


def test_the_gui_bench_measures_a_consultation_in_the_window(
    tmp_path: Path, models_dir: Path, fixture_data: Path, tiny_model: Path
) -> None:
    settings = ui_settings(str(tiny_model), max_tokens=64, review=True)
    request = BenchRequest(settings, models_dir, tmp_path, quick=True)

    clip = fixture_data / "speech" / "coqui_LJ001-0002.wav"
    # A referral letter: free text, so the tiny test model's words make a letter (a SOAP note must be valid JSON).
    figures = gui_bench.run(request, dictation=clip, playback_speed=20, task="referral")

    assert figures["target_ms"] == 50.0
    assert figures["unlock"]["ticks"] > 0  # measured while the passphrase was typed, too
    (consultation,) = figures["runs"]
    assert consultation["ticks"] > 100  # the probe ran through dictation, the note and its reading
    assert consultation["max_stall_ms"] == figures["first_consultation_max_stall_ms"] >= 0
    assert "later_consultations_max_stall_ms" not in figures  # quick: one consultation
