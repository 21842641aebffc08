"""`clinic-assistant store server-key set|clear`: the clinic server's API key from stdin (never argv) into the
encrypted store, with the store's passphrase handling; a key left in the settings file is removed from it."""

from __future__ import annotations

import io
import os
import tomllib
from pathlib import Path

import pytest

import app.cli.main as cli_main
from app.core.storage import Store
from app.core.storage.secrets import SERVER_API_KEY

PASSPHRASE = "correct horse battery staple"
KEY = "clinic-room-key-77aa"
KDF = 64_000


def _run(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], data: Path, *argv: str,
         stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr(cli_main, "COMMAND_MODULES", ("app.cli.cmd_store",))
    monkeypatch.setenv("CLINIC_STORAGE__KDF_ITERATIONS", str(KDF))
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = cli_main.main(["--data-dir", str(data), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _stored(data: Path) -> str | None:
    with Store.open(data, PASSPHRASE, kdf_iterations=KDF) as store:
        return store.repositories().secrets.get(SERVER_API_KEY)


def test_set_and_clear_the_key_from_stdin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    settings_file = Path(os.environ["CLINIC_CONFIG_FILE"])
    settings_file.write_text(f'[llm]\nserver_api_key = "old-{KEY}"\nserver_model = "m"\n', encoding="utf-8")
    assert _run(monkeypatch, capsys, data, "store", "init", "--passphrase-stdin", stdin=PASSPHRASE + "\n")[0] == 0

    code, out, err = _run(monkeypatch, capsys, data, "store", "server-key", "set", "--passphrase-stdin",
                          stdin=f"{PASSPHRASE}\n{KEY}\n")
    assert code == 0 and "Saved the clinic server's API key" in out
    assert KEY not in out + err
    assert _stored(data) == KEY
    assert "it was removed from the file" in err
    assert tomllib.loads(settings_file.read_text(encoding="utf-8")) == {"llm": {"server_model": "m"}}

    code, out, _ = _run(monkeypatch, capsys, data, "store", "server-key", "set", "--passphrase-stdin",
                        stdin=f"{PASSPHRASE}\n{KEY}\n")
    assert code == 0 and "nothing changed" in out

    code, out, _ = _run(monkeypatch, capsys, data, "store", "audit", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert f"create,{SERVER_API_KEY}" in out and KEY not in out  # the change is audited, the key is not

    code, out, _ = _run(monkeypatch, capsys, data, "store", "server-key", "clear", "--passphrase-stdin",
                        stdin=PASSPHRASE + "\n")
    assert code == 0 and "Removed the clinic server's API key" in out
    assert _stored(data) is None


def test_refusals_say_what_to_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    data = tmp_path / "data"
    code, _, err = _run(monkeypatch, capsys, data, "store", "server-key", "set", "--passphrase-stdin",
                        stdin=f"{PASSPHRASE}\n{KEY}\n")
    assert code == 2 and "no store" in err.lower()
    _run(monkeypatch, capsys, data, "store", "init", "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    code, _, err = _run(monkeypatch, capsys, data, "store", "server-key", "set", "--passphrase-stdin",
                        stdin="wrong passphrase entirely\n" + KEY + "\n")
    assert code == 2 and "passphrase is wrong" in err
    code, _, err = _run(monkeypatch, capsys, data, "store", "server-key", "set", "--passphrase-stdin",
                        stdin=f"{PASSPHRASE}\n\n")
    assert code == 2 and "API key" in err
    with pytest.raises(SystemExit):  # the key is never an argument, where the process list would show it
        _run(monkeypatch, capsys, data, "store", "server-key", "set", KEY)
    monkeypatch.setenv("CLINIC_LLM__SERVER_API_KEY", "headless-key")
    code, _, err = _run(monkeypatch, capsys, data, "store", "server-key", "set", "--passphrase-stdin",
                        stdin=f"{PASSPHRASE}\n{KEY}\n")
    assert code == 0 and "CLINIC_LLM__SERVER_API_KEY is set" in err
