"""Each tool parser on the recorded outputs in tests/data/gpu (real machines; partial ones say so)."""

from __future__ import annotations

from app.core.gpu import amd_smi, rocm_smi
from app.core.gpu.devices import MIB, is_w7900, known_usable_mib, looks_integrated, normalise_gfx
from app.core.gpu.llamacpp_log import explain_failure, found_device_count, parse_device_lines, parse_system_info
from app.core.gpu.p2p import combine_with_topology, p2p_from_kernel_config, parse_kernel_config
from app.core.gpu.rocminfo import parse_rocminfo
from app.core.gpu.sysfs import parse_card, parse_cat_transcript
from tests.core.test_gpu_fixtures import read

W7900_POOL_BYTES = 47169536 * 1024  # "Size: 47169536(0x2cfc000) KB" on every recorded W7900


def test_rocminfo_w7900_usable_vram_is_the_pool_not_48_gib() -> None:
    result = parse_rocminfo(read("w7900_rocminfo_rocm6.0_manjaro.txt"))
    assert result.cpu_agents == 1 and result.error is None
    (gpu,) = result.devices
    assert gpu.name == "AMD Radeon Pro W7900"
    assert gpu.gfx == "gfx1100"
    assert gpu.device_id == 0x7448
    assert gpu.total_bytes == W7900_POOL_BYTES
    assert gpu.total_bytes // MIB == 46064
    assert gpu.pci == (0x0E, 0, 0)  # BDFID 3584


def test_rocminfo_four_w7900_dual_slot_rocm71() -> None:
    result = parse_rocminfo(read("w7900dualslot_x4_rocminfo_rocm7.1.txt"))
    assert result.cpu_agents == 2  # two EPYC sockets
    assert len(result.devices) == 4
    assert {d.device_id for d in result.devices} == {0x744A}
    assert {d.total_bytes for d in result.devices} == {W7900_POOL_BYTES}
    # 0x83 is the bus of the card that hung in the same machine's dmesg (amdgpu 0000:83:00.0).
    assert (0x83, 0, 0) in [d.pci for d in result.devices]


def test_rocminfo_vm_dual_slot_matches_clinfo_global_memory() -> None:
    (gpu,) = parse_rocminfo(read("w7900dualslot_vm_rocminfo_rocm6.3_partial.txt")).devices
    clinfo = read("w7900dualslot_vm_clinfo_rocm6.3.txt")
    assert f"Global memory size:\t\t\t\t {gpu.total_bytes}" in clinfo
    assert gpu.pci == (0, 8, 0)  # clinfo: PCI[ B#0, D#8, F#0 ]
    assert gpu.name == "AMD Radeon PRO W7900 Dual Slot"


def test_rocminfo_cpu_only_machine_has_no_gpu_agent() -> None:
    result = parse_rocminfo(read("no_gpu_agent_rocminfo_cpu_only_rocm6.2.txt"))
    assert result.devices == []
    assert result.cpu_agents == 1


def test_rocminfo_grep_form_lists_the_igpu_that_claims_gfx1100() -> None:
    result = parse_rocminfo(read("7900xtx_x2_plus_igpu_rocminfo_grep_names_rocm7.2.txt"))
    assert [d.name for d in result.devices] == ["Radeon RX 7900 XTX", "Radeon RX 7900 XTX", "AMD Radeon Graphics"]
    assert [d.gfx for d in result.devices] == ["gfx1100"] * 3
    assert [looks_integrated(d.name, d.gfx, d.device_id) for d in result.devices] == [False, False, True]


def test_rocminfo_partial_agents_and_hsa_failure() -> None:
    (w6600,) = parse_rocminfo(read("w6600_gfx1032_rocminfo_agent_partial.txt")).devices
    assert (w6600.gfx, w6600.device_id, w6600.total_bytes) == ("gfx1032", 0x73E3, None)
    failed = parse_rocminfo(read("w7900_plus_gfx1101_gfx1102_rocminfo_hsa_status_error_out_of_resources.txt"))
    assert failed.devices == [] and failed.error == "HSA_STATUS_ERROR_OUT_OF_RESOURCES"


def test_rocm_smi_json_csv_and_text_forms() -> None:
    (json_card,) = rocm_smi.parse_any(read("7900xt_rocm-smi_showproductname_showuse_showmeminfo_vram_json.txt"))
    (csv_card,) = rocm_smi.parse_any(read("7900xt_rocm-smi_showproductname_showuse_showmeminfo_vram_csv.txt"))
    for card in (json_card, csv_card):
        assert (card.name, card.device_id, card.gfx) == ("Radeon RX 7900 XT", 0x744C, "gfx1100")
        assert (card.total_bytes, card.used_bytes) == (21458059264, 27856896)
    (four_gb,) = rocm_smi.parse_any(read("unknown4gb_rocm-smi_showmeminfo_vram.txt"))
    assert (four_gb.total_bytes, four_gb.used_bytes) == (4278190080, 108814336)


def test_rocm_smi_product_name_key_spellings_and_malformed_gfx() -> None:
    ubuntu = rocm_smi.parse_any(read("w7900_plus_raphael_rocm-smi_showproductname_ubuntu_rocm6.1.txt"))
    assert ubuntu[0].device_id == 0x7448 and ubuntu[0].name is None  # "Card Series: 0x7448" is no name
    assert ubuntu[0].gfx is None  # "gfx11000" is malformed: not trusted
    assert is_w7900(ubuntu[0].name, ubuntu[0].device_id)
    assert looks_integrated(ubuntu[1].name, ubuntu[1].gfx, ubuntu[1].device_id)  # Raphael 0x164e, gfx1036
    manjaro = rocm_smi.parse_any(read("w7900_plus_raphael_rocm-smi_showproductname_manjaro_rocm6.0.txt"))
    assert manjaro[0].name == "Navi 31 [Radeon Pro W7900]" and manjaro[0].device_id is None  # "Card model" = subsys
    assert is_w7900(manjaro[0].name, None) and known_usable_mib(manjaro[0].name, None) == 46064
    assert looks_integrated(manjaro[1].name, None, None)
    (mi250,) = rocm_smi.parse_any(read("mi250x_rocm-smi_showproductname_json.txt"))
    assert mi250.gfx is None and mi250.device_id == 0x7408  # "gfx9010" is malformed


def test_rocm_smi_cut_off_json_is_still_read() -> None:
    (phoenix,) = rocm_smi.parse_any(read("780m_rocm-smi_showallinfo_json_partial.txt"))
    assert (phoenix.name, phoenix.device_id, phoenix.pci) == ("Phoenix3", 0x1900, (0xC4, 0, 0))
    assert looks_integrated(phoenix.name, None, phoenix.device_id)
    (navi,) = rocm_smi.parse_any(read("7900xt-xtx_rocm-smi_showallinfo_json_partial.txt"))
    assert navi.device_id == 0x744C and not looks_integrated(navi.name, None, navi.device_id)


def test_rocm_smi_mi300x_partitions_are_read_from_the_concise_table() -> None:
    qpx = rocm_smi.parse_any(read("mi300x_qpx_rocm-smi_concise_showmeminfo_vram_rocm6.3.txt"))
    assert [(r.partition_mode, r.partition_id) for r in qpx] == [("QPX", 0), ("QPX", 1), ("QPX", 2), ("QPX", 3)]
    assert {r.total_bytes for r in qpx} == {206141652992}  # each partition claims the whole 192 GiB
    spx = rocm_smi.parse_any(read("mi300x_x8_spx_rocm-smi_concise_and_showmeminfo_vram.txt"))
    assert len(spx) == 8 and {r.partition_mode for r in spx} == {"SPX"} and {r.device_id for r in spx} == {0x74A1}


def test_sysfs_files_and_transcripts() -> None:
    (eight,) = parse_cat_transcript(read("unknown8gb_sysfs_mem_info_vram.txt"))
    assert (eight.total_bytes, eight.used_bytes) == (8573157376, 6812925952)
    (strix,) = parse_cat_transcript(read("strix_halo_gfx1151_sysfs_mem_info_gtt_vram_total.txt"))
    assert strix.total_bytes == 4 * 2**30 and strix.gtt_total_bytes == 96 * 2**30
    card = parse_card(
        0,
        {
            "vendor": "0x1002\n",
            "device": "0x7448\n",
            "mem_info_vram_total": "51522830336\n",
            "mem_info_vram_used": "123\n",
        },
        "0000:0e:00.0",
    )
    assert card is not None and (card.device_id, card.pci, card.used_bytes) == (0x7448, (0x0E, 0, 0), 123)
    assert parse_card(1, {"vendor": "0x8086\n"}) is None  # an Intel iGPU is not ours


def test_amd_smi_default_view_and_topology() -> None:
    cards = amd_smi.parse_default_view(read("7900xtx_x2_amd-smi_default_view.txt"))
    assert [(c.index, c.name, c.pci) for c in cards] == [
        (0, "AMD Radeon RX 7900 XTX", (3, 0, 0)),
        (1, "AMD Radeon RX 7900 XTX", (0x0C, 0, 0)),
    ]
    assert [(c.used_bytes, c.total_bytes) for c in cards] == [(7608 * MIB, 24560 * MIB), (30 * MIB, 24560 * MIB)]
    r9700, igpu = amd_smi.parse_default_view(read("r9700_plus_igpu_amd-smi_default_view_partial.txt"))
    assert r9700.name == "Radeon AI PRO R9700" and igpu.total_bytes == 2048 * MIB
    assert looks_integrated(igpu.name, None, None) and not looks_integrated(r9700.name, None, None)
    access = amd_smi.parse_topology_access(read("7900xtx_x2_amd-smi_topology_no_p2p.txt"))
    assert access == {("0000:03:00.0", "0000:0c:00.0"): False, ("0000:0c:00.0", "0000:03:00.0"): False}


def test_llamacpp_device_lines_in_all_four_formats() -> None:
    old = parse_device_lines(read("7900xtx_x2_llamacpp_ggml_init_cublas_old_format.txt"))
    assert [d.name for d in old] == ["Radeon RX 7900 XTX"] * 2 and old[0].gfx is None
    mid = parse_device_lines(read("w7900_llama-bench_llama31-70b-q4km_fa1.txt"))
    assert [d.name for d in mid] == ["AMD Radeon Pro W7900"]
    gfx = parse_device_lines(read("7900xtx_x2_llamacpp_version_found2_rocm.txt"))
    assert [d.gfx for d in gfx] == ["gfx1100", "gfx1100"]
    newest = parse_device_lines(read("rx9070_plus_740m_llamacpp_version_found2_total_vram.txt"))
    assert [(d.gfx, d.total_bytes) for d in newest] == [("gfx1201", 16304 * MIB), ("gfx1103", 15594 * MIB)]
    assert looks_integrated(newest[1].name, newest[1].gfx, None)
    (apu,) = parse_device_lines(read("780m_llamacpp_windows_found1_rocm_device_partial.txt"))
    assert apu.free_bytes == 59175 * MIB
    mi50 = parse_device_lines(read("mi50x2_llamacpp_version_gfx906_feature_suffix_and_aperture_violation.txt"))
    assert [d.gfx for d in mi50] == ["gfx906", "gfx906"]
    assert [d.name for d in parse_device_lines(read("mi100x8_llamacpp_sm_row_empty_device_names.txt"))][:2] == [
        None
    ] * 2


def test_llamacpp_failures_get_advice() -> None:
    assert found_device_count(read("gfx1151_llamacpp_no_rocm_capable_device.txt")) == 0
    assert found_device_count(read("mi100x4_llamacpp_sm_row_segfault.txt")) == 4
    assert "render" in (explain_failure(read("gfx1151_llamacpp_no_rocm_capable_device.txt")) or "")
    assert "10.3.0" in (explain_failure(read("rx6600xt_gfx1032_no_override_rocblas_tensile_error.txt")) or "")
    assert "hip_visible_devices" in (
        explain_failure(read("rx9070_plus_740m_llamacpp_invalid_device_function.txt")) or ""
    )
    assert "out of memory" in (explain_failure(read("7900xtx_x2_llamacpp_oom_compute_buffer.txt")) or "")
    system = read("7900xtx_windows_llama-server_startup_rocm7.1.txt").split("system_info: ", 1)[1].splitlines()[0]
    assert parse_system_info(system) == ["ROCm", "CPU"]


def test_gfx_names() -> None:
    assert normalise_gfx("amdgcn-amd-amdhsa--gfx1100") == "gfx1100"
    assert normalise_gfx("gfx906:sramecc+:xnack-") == "gfx906"
    assert normalise_gfx("gfx90a") == "gfx90a"
    assert normalise_gfx("gfx11000") is None


# Kernel configs: no captured config exists in the data; these lines are CONSTRUCTED in Kconfig's own format.
DEBIAN_LIKE_NO_P2P = "CONFIG_HSA_AMD=y\n# CONFIG_PCI_P2PDMA is not set\n# CONFIG_HSA_AMD_P2P is not set\n"
P2P_KERNEL = "CONFIG_PCI_P2PDMA=y\nCONFIG_HSA_AMD=y\nCONFIG_HSA_AMD_P2P=y\n"


def test_kernel_config_p2p() -> None:
    assert parse_kernel_config(P2P_KERNEL) == {"CONFIG_PCI_P2PDMA": "y", "CONFIG_HSA_AMD_P2P": "y"}
    assert p2p_from_kernel_config(P2P_KERNEL, "/boot/config-test").state == "yes"
    no = p2p_from_kernel_config(DEBIAN_LIKE_NO_P2P, "/boot/config-test")
    assert no.state == "no" and "CONFIG_PCI_P2PDMA and CONFIG_HSA_AMD_P2P" in no.reason
    half = p2p_from_kernel_config("CONFIG_PCI_P2PDMA=y\n", "/proc/config.gz")
    assert half.state == "no" and "CONFIG_HSA_AMD_P2P" in half.reason
    assert p2p_from_kernel_config(None, "").state == "unknown"


def test_topology_overrides_a_capable_kernel() -> None:
    access = amd_smi.parse_topology_access(read("7900xtx_x2_amd-smi_topology_no_p2p.txt"))
    combined = combine_with_topology(p2p_from_kernel_config(P2P_KERNEL, "/boot/config-test"), access)
    assert combined.state == "no" and "DISABLED" in combined.reason
    enabled = {(a, b): True for (a, b) in (access or {})}
    assert combine_with_topology(p2p_from_kernel_config(None, ""), enabled).state == "yes"
