"""The probe merges the tools' outputs into devices, P2P status and advice. Inputs are the recorded outputs in
tests/data/gpu; anything constructed says so."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest

from app.core.config import GpuSettings
from app.core.gpu import runner as runner_module
from app.core.gpu.devices import MIB, DeviceReading
from app.core.gpu.llama_build import LlamaBuild, query_llama_build
from app.core.gpu.llamacpp_log import parse_device_lines
from app.core.gpu.probe import build_probe, probe_gpus
from app.core.gpu.runner import collect_sources, run_tool
from tests.core.test_gpu_fixtures import W7900_ROCMINFO, cpu_build, read, sources, two_w7900_rocminfo
from tests.core.test_gpu_parsers import DEBIAN_LIKE_NO_P2P, P2P_KERNEL


def sysfs_reading(bus: int, device_id: int, total_gib: int, used_mib: int) -> DeviceReading:
    """CONSTRUCTED: no W7900 sysfs dump was recorded; the fields are the ones amdgpu's files give."""
    return DeviceReading(
        "sysfs", 0, device_id=device_id, pci=(bus, 0, 0), total_bytes=total_gib * 2**30, used_bytes=used_mib * MIB
    )


def test_one_w7900_usable_vram_comes_from_rocminfo_and_used_from_sysfs() -> None:
    probe = build_probe(
        sources(
            rocminfo=read(W7900_ROCMINFO),
            sysfs=[sysfs_reading(0x0E, 0x7448, 48, 2048)],
            kernel_config=P2P_KERNEL,
            kernel_config_source="/boot/config-test",
        )
    )
    assert probe.build == "HIP" and probe.gpu_offload
    (gpu,) = probe.devices
    assert (gpu.name, gpu.gfx, gpu.device_id, gpu.integrated) == ("AMD Radeon Pro W7900", "gfx1100", 0x7448, False)
    assert gpu.total_mib == 46064  # the rocminfo pool, not sysfs's 48 GiB
    assert gpu.free_mib == 46064 - 2048
    assert gpu.sources == ["rocminfo", "sysfs"]
    assert probe.advice == []  # a W7900 needs no override and there is nothing to hide


def test_w7900_seen_only_by_rocm_smi_is_capped_at_its_usable_vram() -> None:
    # CONSTRUCTED: no W7900 `rocm-smi --showmeminfo vram --json` exists in the data; this is the recorded 7900 XT
    # JSON shape with a W7900's device id and the 48 GiB a driver reports for it.
    json_text = (
        '{"card0": {"VRAM Total Memory (B)": "51522830336", "VRAM Total Used Memory (B)": "1073741824", '
        '"Card Series": "0x7448", "Card Model": "0x7448", "GFX Version": "gfx11000"}}'
    )
    (gpu,) = build_probe(sources(rocm_smi=json_text)).devices
    assert gpu.total_mib == 46064 and gpu.free_mib == 46064 - 1024
    assert any("46064 MiB" in note for note in gpu.notes)


def test_two_w7900_constructed_with_a_p2p_kernel() -> None:
    # CONSTRUCTED: two W7900s (see two_w7900_rocminfo) and a kernel config with both P2P options.
    probe = build_probe(
        sources(rocminfo=two_w7900_rocminfo(), kernel_config=P2P_KERNEL, kernel_config_source="/boot/config-test")
    )
    assert [(d.index, d.name, d.total_mib) for d in probe.devices] == [
        (0, "AMD Radeon Pro W7900", 46064),
        (1, "AMD Radeon Pro W7900", 46064),
    ]
    assert probe.p2p.state == "yes"
    assert probe.advice == []


def test_kernel_without_p2p_turns_row_split_off() -> None:
    # CONSTRUCTED kernel config (Debian-like: neither option set) with the constructed two-W7900 machine.
    probe = build_probe(
        sources(
            rocminfo=two_w7900_rocminfo(),
            kernel_config=DEBIAN_LIKE_NO_P2P,
            kernel_config_source="/boot/config-6.1.0-debian",
        )
    )
    assert probe.p2p.state == "no"
    assert any(a.startswith("Row split is off: PCIe peer-to-peer is no") for a in probe.advice)
    unknown = build_probe(sources(rocminfo=two_w7900_rocminfo()))
    assert unknown.p2p.state == "unknown"


def test_780m_igpu_alone_is_used_and_gets_the_11_0_0_override() -> None:
    # Recorded: the 780M's rocm-smi JSON (Phoenix3, 0x1900) and llama.cpp's device line with 59175 MiB free.
    hip = parse_device_lines(read("780m_llamacpp_windows_found1_rocm_device_partial.txt"))
    probe = build_probe(
        sources(
            rocm_smi=read("780m_rocm-smi_showallinfo_json_partial.txt"),
            llama=LlamaBuild(True, True, ["ROCm", "CPU"], hip),
        )
    )
    (igpu,) = probe.devices
    assert igpu.integrated and igpu.gfx == "gfx1103" and igpu.device_id == 0x1900
    assert igpu.free_mib == 59175
    assert probe.plan_devices() == [igpu]  # the only GPU: used, not hidden
    assert any('hsa_override_gfx_version = "11.0.0"' in a for a in probe.advice)


def test_two_7900xtx_plus_igpu_hides_the_igpu_and_never_advises_an_override() -> None:
    probe = build_probe(sources(rocminfo=read("7900xtx_x2_plus_igpu_rocminfo_grep_names_rocm7.2.txt")))
    assert [d.integrated for d in probe.devices] == [False, False, True]
    assert [d.index for d in probe.plan_devices()] == [0, 1]
    assert any('hip_visible_devices = "0,1"' in a for a in probe.advice)
    assert not any("HSA_OVERRIDE" in a or "hsa_override" in a for a in probe.advice)
    hidden = build_probe(
        sources(rocminfo=read("7900xtx_x2_plus_igpu_rocminfo_grep_names_rocm7.2.txt"), hip_visible_devices="0,1")
    )
    assert [d.name for d in hidden.devices] == ["Radeon RX 7900 XTX"] * 2
    assert [d.name for d in hidden.hidden_devices] == ["AMD Radeon Graphics"]


def test_override_advice_for_rdna2_and_against_it_on_rdna3() -> None:
    w6600 = build_probe(sources(rocminfo=read("w6600_gfx1032_rocminfo_agent_partial.txt")))
    assert any('"10.3.0"' in a for a in w6600.advice)
    w7900 = build_probe(sources(rocminfo=read(W7900_ROCMINFO), hsa_override_gfx_version="11.0.0"))
    assert any("remove the override" in a for a in w7900.advice)


def test_cpu_only_machine_with_rocm_installed() -> None:
    probe = build_probe(sources(rocminfo=read("no_gpu_agent_rocminfo_cpu_only_rocm6.2.txt"), llama=cpu_build()))
    assert probe.devices == [] and probe.build == "CPU" and not probe.gpu_offload
    assert probe.advice == ["CPU build and no GPU found: the model runs on the CPU"]


def test_cpu_build_on_a_machine_with_a_w7900_says_rebuild() -> None:
    probe = build_probe(sources(rocminfo=read(W7900_ROCMINFO), llama=cpu_build()))
    assert probe.devices and not probe.gpu_offload
    assert any("CPU-only although AMD GPUs are present" in a for a in probe.advice)


def test_no_tools_at_all_on_this_machine() -> None:
    # Real: this build machine has no GPU, no ROCm tools and a CPU build of llama.cpp.
    collected = collect_sources()
    assert {t.name: t.state for t in collected.tools} == dict.fromkeys(
        ("rocminfo", "rocm-smi", "rocm-smi concise", "amd-smi", "amd-smi static", "amd-smi topology"), "missing"
    )
    probe = build_probe(collected)
    assert probe.build == "CPU" and probe.devices == []
    assert probe.ram_total_mib and probe.ram_available_mib
    assert probe.p2p.state in ("yes", "no", "unknown")


def test_mi300x_partitions_share_the_card_instead_of_counting_it_four_times() -> None:
    text = read("mi300x_qpx_rocm-smi_concise_showmeminfo_vram_rocm6.3.txt")
    probe = build_probe(sources(rocm_smi=text, rocm_smi_concise=text))
    assert len(probe.devices) == 4
    assert {d.total_mib for d in probe.devices} == {206141652992 // 4 // MIB}
    assert any("partitions (QPX)" in w for w in probe.warnings)
    spx = read("mi300x_x8_spx_rocm-smi_concise_and_showmeminfo_vram.txt")
    assert {d.total_mib for d in build_probe(sources(rocm_smi=spx, rocm_smi_concise=spx)).devices} == {
        206141652992 // MIB
    }


def test_hip_free_above_total_is_clamped() -> None:
    # Recorded (ollama on Windows, RX 6700 XT, gfx1031): Total Mem 12733906944, Free Mem 12868124672.
    hip = [
        DeviceReading(
            "llama.cpp", 0, name="AMD Radeon RX 6700 XT", gfx="gfx1031", total_bytes=12733906944, free_bytes=12868124672
        )
    ]
    probe = build_probe(sources(llama=LlamaBuild(True, True, ["ROCm", "CPU"], hip)))
    (gpu,) = probe.devices
    assert gpu.free_mib == gpu.total_mib == 12733906944 // MIB
    assert any('"10.3.0"' in a for a in probe.advice)


def test_amd_smi_alone_gives_used_and_free() -> None:
    probe = build_probe(
        sources(
            amd_smi=read("7900xtx_x2_amd-smi_default_view.txt"),
            amd_smi_topology=read("7900xtx_x2_amd-smi_topology_no_p2p.txt"),
        )
    )
    assert [(d.total_mib, d.free_mib) for d in probe.devices] == [(24560, 24560 - 7608), (24560, 24560 - 30)]
    assert probe.p2p.state == "no"


def test_llama_cpp_and_tools_disagree_on_the_device_count() -> None:
    hip = [DeviceReading("llama.cpp", 0, name="AMD Radeon Pro W7900", total_bytes=46064 * MIB, free_bytes=40000 * MIB)]
    probe = build_probe(sources(rocminfo=two_w7900_rocminfo(), llama=LlamaBuild(True, True, ["ROCm"], hip)))
    assert len(probe.devices) == 1 and probe.devices[0].free_mib == 40000
    assert any("llama.cpp sees 1 GPU(s) but the tools list 2" in w for w in probe.warnings)


def test_rocminfo_failure_is_a_warning_with_the_fix() -> None:
    text = read("w7900_plus_gfx1101_gfx1102_rocminfo_hsa_status_error_out_of_resources.txt")
    probe = build_probe(sources(rocminfo=text))
    assert probe.devices == []
    assert any("HSA_STATUS_ERROR_OUT_OF_RESOURCES" in w and "render" in w for w in probe.warnings)


def test_tool_runner_timeout_failure_and_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "find_tool", lambda name: f"/opt/rocm/bin/{name}")

    def hangs(argv: Sequence[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
        raise subprocess.TimeoutExpired(list(argv), timeout_s)

    status, text = run_tool("rocminfo", ("rocminfo",), 2.0, hangs)
    assert (status.state, text) == ("timeout", None) and "2 s" in status.detail

    def fails(argv: Sequence[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
        out = read("w7900_plus_gfx1101_gfx1102_rocminfo_hsa_status_error_out_of_resources.txt")
        return subprocess.CompletedProcess(list(argv), 1, out, "")

    status, text = run_tool("rocminfo", ("rocminfo",), 2.0, fails)
    assert status.state == "failed" and text and "HSA_STATUS_ERROR_OUT_OF_RESOURCES" in text

    def replays(argv: Sequence[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
        name = Path(argv[0]).name
        outputs = {"rocminfo": read(W7900_ROCMINFO), "rocm-smi": "", "amd-smi": ""}
        return subprocess.CompletedProcess(list(argv), 0, outputs[name], "")

    collected = collect_sources(runner=replays, query_llama=lambda: LlamaBuild(True, True, ["ROCm"]))
    assert all(t.state == "ok" for t in collected.tools)
    assert [d.name for d in build_probe(collected).devices] == ["AMD Radeon Pro W7900"]


def test_older_amd_smi_is_asked_for_its_static_json(monkeypatch: pytest.MonkeyPatch) -> None:
    # amd-smi 24.x run bare prints its usage; the cards are only in `amd-smi static --json`.
    import json

    monkeypatch.setattr(runner_module, "find_tool", lambda name: None if name.startswith("rocm") else f"/x/{name}")
    card = {
        "gpu": 0,
        "asic": {"market_name": "AMD Radeon PRO W7900", "device_id": "0x7448", "target_graphics_version": "gfx1100"},
        "bus": {"bdf": "0000:03:00.0"},
        "vram": {"type": "GDDR6", "size": "49136 MB"},
    }

    def replays(argv: Sequence[str], timeout_s: float) -> subprocess.CompletedProcess[str]:
        outputs = {
            (): "usage: amd-smi [-h] {version,list,static,firmware,metric,topology} ...\n",
            ("static", "--json"): json.dumps([card]),
            ("topology",): "",
        }
        return subprocess.CompletedProcess(list(argv), 0, outputs[tuple(argv[1:])], "")

    collected = collect_sources(runner=replays, query_llama=lambda: LlamaBuild(True, True, ["ROCm"]))
    (device,) = build_probe(collected).devices
    assert (device.name, device.total_mib, device.sources) == (
        "AMD Radeon PRO W7900",
        46064,
        ["amd-smi"],
    )  # capped at what HIP can use


def test_probe_gpus_is_cached_per_process_and_refreshes_on_demand() -> None:
    first = probe_gpus(GpuSettings())
    assert probe_gpus(GpuSettings()) is first
    again = probe_gpus(GpuSettings(), refresh=True)
    assert again is not first and again.build == first.build == query_llama_build().kind
