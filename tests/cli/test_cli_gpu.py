"""`clinic-assistant gpu probe|plan|bench|split-check`, on this machine (CPU build, no GPU, no ROCm tools) and on
recorded tool outputs given with --from (constructed inputs say so)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from gguf import GGMLQuantizationType

from app.cli.main import main
from tests.core.test_gpu_fixtures import GPU_DATA, W7900_ROCMINFO, two_w7900_rocminfo, write_header_only_gguf
from tests.core.test_gpu_parsers import P2P_KERNEL
from tests.support.tiny_gguf import write_tiny_gguf


@pytest.fixture(scope="module")
def llama70b_q8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """CONSTRUCTED: a header-only GGUF with Llama-3-70B's tensor table (no weights)."""
    return write_header_only_gguf(tmp_path_factory.mktemp("gguf") / "llama70b-q8_0.gguf", GGMLQuantizationType.Q8_0)


@pytest.fixture()
def two_w7900_files(tmp_path: Path) -> list[str]:
    """CONSTRUCTED: the two-W7900 rocminfo and a kernel config with both P2P options."""
    rocminfo = tmp_path / "rocminfo.txt"
    rocminfo.write_text(two_w7900_rocminfo())
    config = tmp_path / "config-6.8.0"
    config.write_text(P2P_KERNEL)
    return [str(rocminfo), str(config)]


def test_probe_on_this_machine(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gpu", "probe"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("build: CPU (this llama.cpp build has no GPU offload)")
    assert "GPUs: none found" in out and "rocminfo missing" in out and "\nP2P: " in out


def test_probe_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gpu", "probe", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["build"], data["gpu_offload"], data["devices"]) == ("CPU", False, [])
    assert data["p2p"]["state"] in ("yes", "no", "unknown")


def test_probe_from_recorded_outputs(capsys: pytest.CaptureFixture[str], two_w7900_files: list[str]) -> None:
    assert main(["gpu", "probe", "--from", *two_w7900_files]) == 0
    out = capsys.readouterr().out
    assert "GPU 0: AMD Radeon Pro W7900 (gfx1100, 0x7448, 0e:00.0): 45.0 GiB free of 45.0 GiB" in out
    assert "GPU 1: AMD Radeon Pro W7900 (gfx1100, 0x7448, 03:00.0)" in out
    assert "P2P: yes" in out
    assert main(["gpu", "probe", "--from", str(GPU_DATA / "7900xtx_x2_plus_igpu_rocminfo_grep_names_rocm7.2.txt")]) == 0
    out = capsys.readouterr().out
    assert "[integrated, not used]" in out and 'hip_visible_devices = "0,1"' in out


def test_plan_installed_model_on_the_cpu_build(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gpu", "plan", "smollm2-135m-instruct", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["n_gpu_layers"], data["split_mode"], data["n_ctx"]) == (0, "none", 4096)
    assert data["llama_kwargs"]["tensor_split"] is None
    assert "CPU only" in data["summary"]


def test_plan_70b_on_two_w7900(
    capsys: pytest.CaptureFixture[str], llama70b_q8: Path, two_w7900_files: list[str]
) -> None:
    assert main(["gpu", "plan", str(llama70b_q8), "--ctx", "8192", "--from", *two_w7900_files]) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "70B Q8_0, 69.8 GiB: 2× AMD Radeon Pro W7900 (45.0 GiB free each), layer split, all 81 layers on GPU, ctx 8192"
    )
    assert "tensor_split=[0.5, 0.5]" in out


def test_plan_refuses_what_cannot_load(capsys: pytest.CaptureFixture[str], llama70b_q8: Path) -> None:
    code = main(
        ["gpu", "plan", str(llama70b_q8), "--ctx", "8192", "--ram-gib", "16", "--from", str(GPU_DATA / W7900_ROCMINFO)]
    )
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: 70B Q8_0 cannot load: it needs")


def test_plan_bad_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["gpu", "plan", "no-such-model"]) == 2
    assert "No model named 'no-such-model'" in capsys.readouterr().err
    assert main(["gpu", "plan", "whisper-base"]) == 2
    assert "not a .gguf model" in capsys.readouterr().err
    junk = tmp_path / "junk.txt"
    junk.write_text("hello")
    assert main(["gpu", "plan", "smollm2-135m-instruct", "--from", str(junk)]) == 2
    assert "not a recognised GPU tool output" in capsys.readouterr().err


@pytest.mark.integration
def test_bench_quick_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = write_tiny_gguf(tmp_path / "tiny.gguf")
    assert main(["gpu", "bench", str(model), "--quick", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["fastest"] == "none" and data["backend"] == "CPU"
    (row,) = data["rows"]
    assert (row["pp_tokens"], row["tg_tokens"], row["status"]) == (64, 16, "ok") and row["tg_tps"] > 0


@pytest.mark.integration
def test_split_check_forced_on_the_cpu(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    model = write_tiny_gguf(tmp_path / "tiny.gguf")
    assert main(["gpu", "split-check", str(model)]) == 0
    assert capsys.readouterr().out.startswith("not_applicable: row-split check not applicable (CPU build)")
    assert main(["gpu", "split-check", str(model), "--force", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["status"] == "match" and len(data["row_tokens"]) == 16
