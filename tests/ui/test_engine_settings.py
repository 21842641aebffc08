"""Which settings changes rebuild an engine: only what the engine is built from. Sampling is read per answer and the
identifier review is the window's business, so changing them never reloads a model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.core.config import Settings
from app.ui.engines import EngineFactories, EngineHub


@pytest.fixture
def hub(qtbot: QtBot, tmp_path: Path, models_dir: Path) -> Iterator[EngineHub]:
    from app.core.storage.store import Store

    made = EngineFactories(store=lambda _s, data_dir, _m: Store(data_dir))
    engines = EngineHub(Settings(), tmp_path / "data", models_dir, made)
    yield engines
    engines.shutdown()


def _with(settings: Settings, section: str, **values: object) -> Settings:
    return settings.model_copy(update={section: getattr(settings, section).model_copy(update=values)})


def test_per_answer_settings_do_not_rebuild_engines(hub: EngineHub) -> None:
    changed = _with(hub.settings, "llm", temperature=0.7, max_tokens=300, top_p=0.5, seed=3, repeat_penalty=1.3)
    changed = _with(changed, "redaction", review_before_sending=False)
    assert hub.apply_settings(changed) == []


def test_what_an_engine_is_built_from_rebuilds_it(hub: EngineHub) -> None:
    assert hub.apply_settings(_with(hub.settings, "llm", model="smollm2-135m-instruct")) == ["llm"]
    assert hub.apply_settings(_with(hub.settings, "redaction", min_confidence=0.9)) == ["redact"]
    assert hub.apply_settings(_with(hub.settings, "gpu", n_ctx=2048)) == ["llm"]
    assert hub.apply_settings(_with(hub.settings, "asr", beam_size=2)) == ["asr"]
