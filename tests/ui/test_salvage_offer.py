"""Unlocking a store with a damaged page: the window says so (not "wrong passphrase") and offers to salvage every
readable record into a new store beside it, on the store's thread, then says where it went."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.core.test_store_salvage import PASSPHRASE, damage_a_page_with_records, fill_store
from tests.ui.support import factories, make_app, shut, ui_settings


def test_a_damaged_store_is_offered_salvage(qtbot: QtBot, tmp_path: Path, models_dir: Path, tiny_model: Path) -> None:
    data = tmp_path / "data"
    fill_store(data, patients=40)
    damage_a_page_with_records(data, tmp_path / "scratch")
    before = (data / "clinic.db").read_bytes()
    clinic = make_app(qtbot, ui_settings(str(tiny_model)), data, models_dir, tmp_path / "settings.toml", factories())
    clinic.start()
    qtbot.waitUntil(lambda: clinic.session.unlock_dialog is not None and clinic.session.unlock_dialog.isVisible())
    dialog = clinic.session.unlock_dialog
    assert dialog is not None
    dialog.passphrase.setText(PASSPHRASE)
    dialog.unlock_button.click()
    qtbot.waitUntil(lambda: clinic.session.salvage_offer is not None and clinic.session.salvage_offer.isVisible(),
                    timeout=30000)
    offer = clinic.session.salvage_offer
    assert offer is not None
    assert "damaged" in offer.message.text() and "wrong" not in offer.message.text().lower()
    assert not clinic.session.is_unlocked
    offer.salvage_button.click()
    qtbot.waitUntil(lambda: offer.outcome.isVisible() and bool(offer.outcome.text()), timeout=60000)
    text = offer.outcome.text()
    assert "Salvaged" in text and "Could not be read" in text
    assert "Vandersloot" not in text and "Imke" not in text  # counts and a file name, never content
    copies = sorted(data.glob("clinic-salvaged-*.db"))
    assert len(copies) == 1 and str(copies[0]) in text
    assert (data / "clinic.db").read_bytes() == before  # the damaged store itself is not changed
    offer.close()
    dialog.close()
    shut(qtbot, clinic)
