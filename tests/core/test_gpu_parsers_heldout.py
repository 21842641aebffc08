"""The GPU parsers on outputs they were NOT developed against: other ROCm releases (5.x/6.x/7.x), other GPUs
(W7900, W7800, MI300X, RX 7900 GRE, RX 6800 XT, iGPUs), other llama.cpp versions, Windows, amd-smi JSON.

Every input here is CONSTRUCTED in the tools' own printed formats (checked against outputs posted in ROCm,
llama.cpp and ollama issues and against the tools' source), not recorded: no file in tests/data/gpu was
copied. Values that identify a card (chip ids, rocminfo's W7900 pool of 47,169,536 KB) are the recorded ones.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.gpu import amd_smi, rocm_smi
from app.core.gpu.devices import MIB, looks_integrated
from app.core.gpu.llamacpp_log import (
    explain_failure,
    found_device_count,
    parse_device_lines,
    parse_offload,
    parse_system_info,
    weights_on_gpu,
)
from app.core.gpu.p2p import combine_with_topology, p2p_from_kernel_config, parse_kernel_config
from app.core.gpu.rocminfo import parse_rocminfo
from app.core.gpu.sysfs import parse_card, parse_cat_transcript, read_sysfs

W7900_POOL_KB = 47169536
LOW_POWER = "WARNING: AMD GPU device(s) is/are in a low-power state. Check power control/runtime_status\n\n"


def crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


# ---------------------------------------------------------------- rocm-smi

ROCM6_JSON = (
    LOW_POWER
    + """{
    "card0": {
        "Device Name": "AMD Radeon PRO W7900",
        "Device ID": "0x7448",
        "Device Rev": "0x00",
        "Subsystem ID": "0x0e0d",
        "GUID": "19246",
        "PCI Bus": "0000:03:00.0",
        "VRAM Total Memory (B)": "51522830336",
        "VRAM Total Used Memory (B)": "1104150528",
        "Card Series": "AMD Radeon PRO W7900",
        "Card Model": "0x7448",
        "Card Vendor": "Advanced Micro Devices, Inc. [AMD/ATI]",
        "Card SKU": "D7070100",
        "Node ID": "1",
        "GFX Version": "gfx1100"
    },
    "card1": {
        "Device Name": "AMD Radeon RX 7900 GRE",
        "Device ID": "0x744c",
        "PCI Bus": "0000:0B:00.0",
        "VRAM Total Memory (B)": 17163091968,
        "VRAM Total Used Memory (B)": 15572992,
        "Card SKU": "D7071300",
        "GFX Version": "gfx1100"
    },
    "card2": {
        "Device Name": "Raphael",
        "Device ID": "0x164e",
        "PCI Bus": "0000:11:00.0",
        "VRAM Total Memory (B)": "536870912",
        "VRAM Total Used Memory (B)": "90112000",
        "GFX Version": "gfx1036"
    },
    "system": {"Driver version": "6.10.5"}
}
"""
)


def test_rocm_smi_json_rocm6_keys_after_a_low_power_warning() -> None:
    w7900, gre, igpu = rocm_smi.parse_any(ROCM6_JSON)
    assert (w7900.name, w7900.device_id, w7900.gfx, w7900.pci) == ("AMD Radeon PRO W7900", 0x7448, "gfx1100", (3, 0, 0))
    assert (w7900.total_bytes, w7900.used_bytes) == (51522830336, 1104150528)
    assert (gre.name, gre.device_id, gre.pci, gre.total_bytes) == (
        "AMD Radeon RX 7900 GRE",
        0x744C,
        (0x0B, 0, 0),
        17163091968,
    )
    assert looks_integrated(igpu.name, igpu.gfx, igpu.device_id)
    assert [r.index for r in rocm_smi.parse_any(crlf(ROCM6_JSON))] == [0, 1, 2]


def test_rocm_smi_json_with_text_after_it_and_cut_off_json() -> None:
    trailer = ROCM6_JSON + "WARNING: One or more commands failed.\n"
    assert [r.device_id for r in rocm_smi.parse_any(trailer)] == [0x7448, 0x744C, 0x164E]
    cut = ROCM6_JSON[: ROCM6_JSON.index('"card2"') + 40]
    readings = rocm_smi.parse_any(cut)
    assert [r.device_id for r in readings][:2] == [0x7448, 0x744C]
    assert readings[1].total_bytes == 17163091968  # a bare number, not a string, is still read


def test_rocm_smi_text_rocm5_tabs_and_lower_case_keys() -> None:
    text = (
        "\n\n======================= ROCm System Management Interface =======================\n"
        "========================= Product Info ==========================\n"
        "GPU[0]\t\t: Card series: \t\tNavi 21 [Radeon RX 6800/6800 XT / 6900 XT]\n"
        "GPU[0]\t\t: Card model: \t\t0x0e3a\n"
        "GPU[0]\t\t: Card vendor: \t\tAdvanced Micro Devices, Inc. [AMD/ATI]\n"
        "GPU[0]\t\t: Card SKU: \t\t001\n"
        "=========================== Memory Usage (Bytes) ===========================\n"
        "GPU[0]\t\t: VRAM Total Memory (B): 17163091968\n"
        "GPU[0]\t\t: VRAM Total Used Memory (B): 692142080\n"
        "============================== PCI Bus ID ==============================\n"
        "GPU[0]\t\t: PCI Bus: 0000:2D:00.0\n"
        "============================= End of ROCm SMI Log ==============================\n"
    )
    for variant in (text, crlf(text)):
        (card,) = rocm_smi.parse_any(variant)
        assert card.name == "Navi 21 [Radeon RX 6800/6800 XT / 6900 XT]"
        assert (card.total_bytes, card.used_bytes, card.pci) == (17163091968, 692142080, (0x2D, 0, 0))
        assert card.device_id is None  # lower-case "Card model" is the subsystem id in this release


def test_rocm_smi_csv_other_column_order_quoted_vendor_and_warning() -> None:
    text = LOW_POWER + (
        "device,Unique ID,PCI Bus,GFX Version,Card SKU,Card Vendor,Card Model,Card Series,"
        "VRAM Total Used Memory (B),VRAM Total Memory (B),Node ID\n"
        'card0,0x3d45,0000:03:00.0,gfx1100,D7070300,"Advanced Micro Devices, Inc. [AMD/ATI]",0x745e,'
        "AMD Radeon PRO W7800,524288000,34342961152,1\n"
        'card1,N/A,0000:0b:00.0,gfx1030,001,"Advanced Micro Devices, Inc. [AMD/ATI]",0x73bf,'
        "AMD Radeon RX 6800 XT,26079232,17163091968,2\n"
    )
    for variant in (text, crlf(text)):
        w7800, rx6800 = rocm_smi.parse_any(variant)
        assert (w7800.name, w7800.device_id, w7800.gfx, w7800.pci) == (
            "AMD Radeon PRO W7800",
            0x745E,
            "gfx1100",
            (3, 0, 0),
        )
        assert (w7800.total_bytes, w7800.used_bytes) == (34342961152, 524288000)
        assert (rx6800.name, rx6800.gfx, rx6800.total_bytes) == ("AMD Radeon RX 6800 XT", "gfx1030", 17163091968)


MI300X_CONCISE_ROCM61 = """
========================================= ROCm System Management Interface =========================================
=================================================== Concise Info ===================================================
Device  [Model : Revision]    Temp        Power     Partitions      SCLK    MCLK    Fan  Perf  PwrCap  VRAM%  GPU%
        Name (20 chars)       (Junction)  (Socket)  (Mem, Compute)
====================================================================================================================
0       [0x74a1 : 0x00]       35.0°C      133.0W    NPS1, CPX       131Mhz  900Mhz  0%   auto  750.0W    0%   0%
        AMD Instinct MI300X
1       [0x74a1 : 0x00]       N/A         N/A       NPS1, CPX       N/A     900Mhz  0%   auto  N/A       0%   0%
        AMD Instinct MI300X
====================================================================================================================
=============================================== End of ROCm SMI Log ================================================
"""


def test_rocm_smi_concise_rocm61_partition_column_without_an_id() -> None:
    partitions = rocm_smi.parse_concise_partitions(MI300X_CONCISE_ROCM61)
    assert {k: (v[0], v[1]) for k, v in partitions.items()} == {0: (0x74A1, "CPX"), 1: (0x74A1, "CPX")}


def test_rocm_smi_concise_rocm63_consumer_cards_have_no_partitions() -> None:
    text = (
        "Device  Node  IDs              Temp    Power  Partitions          SCLK  MCLK    Fan    Perf  PwrCap"
        "       VRAM%  GPU%\n"
        "              (DID,     GUID)  (Edge)  (Avg)  (Mem, Compute, ID)\n"
        "==========================================================================================================\n"
        "0       1     0x7448,   19246  35.0°C  20.0W  N/A, N/A, 0         0Mhz  96Mhz   20.0%  auto  241.0W"
        "       2%     0%\n"
        "1       2     0x164e,   9773   40.0°C  0.054W N/A, N/A, 0         N/A   2400Mhz 0%     auto  Unsupported"
        "  8%     0%\n"
    )
    assert rocm_smi.parse_concise_partitions(text) == {}
    assert rocm_smi.parse_any(text) == []


# ---------------------------------------------------------------- amd-smi

AMD_SMI_DEFAULT_ROCM64 = """+------------------------------------------------------------------------------+
| AMD-SMI 25.3.0+ede62f2       amdgpu version: 6.10.5   ROCm version: 6.4.0    |
| Platform: Linux Baremetal                                                    |
|-------------------------------------+----------------------------------------|
| BDF                        GPU-Name | Mem-Uti   Temp   UEC       Power-Usage |
| GPU  HIP-ID  OAM-ID  Partition-Mode | GFX-Uti    Fan               Mem-Usage |
|=====================================+========================================|
| 0000:05:00.0    AMD Instinct MI300X | 0 %      40 °C   0           140/750 W |
|   0       0       7        SPX/NPS1 | 0 %        N/A             283/196592 MB |
|-------------------------------------+----------------------------------------|
| 0000:83:00.0   AMD Radeon PRO W7900 | 2 %      38 °C   0            24/241 W |
|   1       1     N/A             N/A | 0 %     20.0 %           1180/49136 MB |
+-------------------------------------+----------------------------------------+
"""


def test_amd_smi_default_view_rocm64_mi300x_and_w7900_crlf() -> None:
    for variant in (AMD_SMI_DEFAULT_ROCM64, crlf(AMD_SMI_DEFAULT_ROCM64)):
        mi300x, w7900 = amd_smi.parse_default_view(variant)
        assert (mi300x.name, mi300x.pci, mi300x.total_bytes) == ("AMD Instinct MI300X", (5, 0, 0), 196592 * MIB)
        assert (w7900.index, w7900.name, w7900.used_bytes, w7900.total_bytes) == (
            1,
            "AMD Radeon PRO W7900",
            1180 * MIB,
            49136 * MIB,
        )


def test_amd_smi_without_a_default_view_prints_usage() -> None:
    usage = (
        "usage: amd-smi [-h]  ...\n\nAMD System Management Interface | Version: 24.6.3+9578815 | ROCm version: 6.2.4\n"
    )
    assert amd_smi.parse_default_view(usage) == [] and amd_smi.parse_any(usage) == []


STATIC_W7900 = {
    "gpu": 0,
    "asic": {
        "market_name": "AMD Radeon PRO W7900",
        "vendor_id": "0x1002",
        "device_id": "0x7448",
        "target_graphics_version": "gfx1100",
    },
    "bus": {"bdf": "0000:03:00.0", "max_pcie_width": 16},
    "vram": {"type": "GDDR6", "vendor": "SAMSUNG", "size": {"value": 49136, "unit": "MB"}, "bit_width": 384},
}


def test_amd_smi_static_json_list_and_gpu_data_shapes() -> None:
    import json

    old = dict(STATIC_W7900, vram={"type": "GDDR6", "size": "49136 MB"})  # amd-smi 24.x: "N MB" strings
    for text in (json.dumps([old]), json.dumps({"gpu_data": [STATIC_W7900]}, indent=4), LOW_POWER + json.dumps([old])):
        (card,) = amd_smi.parse_any(text)
        assert (card.name, card.device_id, card.gfx, card.pci) == ("AMD Radeon PRO W7900", 0x7448, "gfx1100", (3, 0, 0))
        assert card.total_bytes == 49136 * MIB


def test_amd_smi_metric_json_memory_usage() -> None:
    import json

    metric = {
        "gpu_data": [
            {
                "gpu": 0,
                "mem_usage": {
                    "total_vram": {"value": 49136, "unit": "MB"},
                    "used_vram": {"value": 1180, "unit": "MB"},
                    "free_vram": {"value": 47956, "unit": "MB"},
                    "total_gtt": {"value": 64207, "unit": "MB"},
                },
            },
            {"gpu": 1, "mem_usage": "N/A"},
        ]
    }
    first, second = amd_smi.parse_any(json.dumps(metric))
    assert (first.total_bytes, first.used_bytes, first.free_bytes) == (49136 * MIB, 1180 * MIB, 47956 * MIB)
    assert second.index == 1 and second.total_bytes is None


def test_amd_smi_static_text_form() -> None:
    text = (
        "GPU: 0\n    ASIC:\n        MARKET_NAME: AMD Radeon PRO W7900\n        VENDOR_ID: 0x1002\n"
        "        DEVICE_ID: 0x7448\n        TARGET_GRAPHICS_VERSION: gfx1100\n    BUS:\n        BDF: 0000:03:00.0\n"
        "    VRAM:\n        TYPE: GDDR6\n        VENDOR: SAMSUNG\n        SIZE: 49136 MB\n        BIT_WIDTH: 384\n\n"
        "GPU: 1\n    ASIC:\n        MARKET_NAME: AMD Radeon Graphics\n        DEVICE_ID: 0x164e\n"
        "        TARGET_GRAPHICS_VERSION: gfx1036\n    BUS:\n        BDF: 0000:11:00.0\n"
        "    VRAM:\n        SIZE: 512 MB\n"
    )
    w7900, igpu = amd_smi.parse_any(crlf(text))
    assert (w7900.name, w7900.device_id, w7900.gfx, w7900.total_bytes) == (
        "AMD Radeon PRO W7900",
        0x7448,
        "gfx1100",
        49136 * MIB,
    )
    assert igpu.pci == (0x11, 0, 0) and looks_integrated(igpu.name, igpu.gfx, igpu.device_id)


def test_amd_smi_topology_xgmi_all_enabled_with_crlf() -> None:
    bdfs = ["0000:05:00.0", "0000:26:00.0", "0000:46:00.0", "0000:65:00.0"]
    rows = ["ACCESS TABLE:", "             " + " ".join(bdfs)]
    rows += [f"{b} " + " ".join("ENABLED     " for _ in bdfs) for b in bdfs]
    rows += ["", "WEIGHT TABLE:", "             " + " ".join(bdfs)]
    access = amd_smi.parse_topology_access(crlf("\n".join(rows) + "\n"))
    assert access is not None and len(access) == 12 and all(access.values())
    assert combine_with_topology(p2p_from_kernel_config(None, ""), access).state == "yes"


# ---------------------------------------------------------------- rocminfo


def _cpu_agent(n: int, name: str) -> str:
    return f"""*******
Agent {n}
*******
  Name:                    {name}
  Uuid:                    CPU-XX
  Marketing Name:          {name}
  Vendor Name:             CPU
  Feature:                 None specified
  Node:                    {n - 1}
  Device Type:             CPU
  Cache Info:
    L1:                      32768(0x8000) KB
  Chip ID:                 0(0x0)
  BDFID:                   0
  Memory Properties:
  Features:                None
  Pool Info:
    Pool 1
      Segment:                 GLOBAL; FLAGS: FINE GRAINED
      Size:                    131072000(0x7d00000) KB
      Allocatable:             TRUE
    Pool 2
      Segment:                 GLOBAL; FLAGS: KERNARG, FINE GRAINED
      Size:                    131072000(0x7d00000) KB
    Pool 3
      Segment:                 GLOBAL; FLAGS: COARSE GRAINED
      Size:                    131072000(0x7d00000) KB
  ISA Info:
"""


def _gpu_agent(n: int, gfx: str, marketing: str, chip: int, bdfid: int, pool_kb: int, isa: str = "") -> str:
    return f"""*******
Agent {n}
*******
  Name:                    {gfx}
  Uuid:                    GPU-{n:016x}
  Marketing Name:          {marketing}
  Vendor Name:             AMD
  Feature:                 KERNEL_DISPATCH
  Profile:                 BASE_PROFILE
  Node:                    {n - 1}
  Device Type:             GPU
  Cache Info:
    L1:                      32(0x20) KB
    L2:                      6144(0x1800) KB
  Chip ID:                 {chip}({chip:#x})
  ASIC Revision:           0(0x0)
  BDFID:                   {bdfid}
  Internal Node ID:        {n - 1}
  Compute Unit:            96
  WatchPts on Addr. Ranges:4
  Coherent Host Access:    FALSE
  Memory Properties:
  Features:                KERNEL_DISPATCH
  Workgroup Max Size per Dimension:
    x                        1024(0x400)
  Packet Processor uCode:: 550
  IOMMU Support::          None
  Pool Info:
    Pool 1
      Segment:                 GLOBAL; FLAGS: COARSE GRAINED
      Size:                    {pool_kb}({pool_kb:#x}) KB
      Allocatable:             TRUE
      Alloc Granule:           4KB
      Alloc Recommended Granule:2048KB
      Alloc Alignment:         4KB
    Pool 2
      Segment:                 GLOBAL; FLAGS: EXTENDED FINE GRAINED
      Size:                    {pool_kb}({pool_kb:#x}) KB
    Pool 3
      Segment:                 GROUP
      Size:                    64(0x40) KB
  ISA Info:
    ISA 1
      Name:                    amdgcn-amd-amdhsa--{isa or gfx}
      Machine Models:          HSA_MACHINE_MODEL_LARGE
    ISA 2
      Name:                    amdgcn-amd-amdhsa--gfx11-generic
"""


ROCMINFO_ROCM63 = (
    "ROCk module version 6.10.5 is loaded\n=====================\nHSA System Attributes\n=====================\n"
    "Runtime Version:         1.14\nRuntime Ext Version:     1.6\nXNACK enabled:           NO\n\n"
    "==========\nHSA Agents\n==========\n"
    + _cpu_agent(1, "AMD Ryzen 9 7950X 16-Core Processor")
    + _gpu_agent(2, "gfx1100", "AMD Radeon PRO W7900", 0x7448, 768, W7900_POOL_KB)
    + _gpu_agent(3, "gfx1100", "AMD Radeon RX 7900 GRE", 0x744C, 2816, 16760832)
    + _gpu_agent(4, "gfx1036", "AMD Radeon Graphics", 0x164E, 4352, 524288)
    + "*** Done ***\n"
)


@pytest.mark.parametrize("transform", [lambda t: t, crlf], ids=["lf", "crlf"])
def test_rocminfo_rocm63_w7900_gre_and_igpu(transform: object) -> None:
    result = parse_rocminfo(transform(ROCMINFO_ROCM63))  # type: ignore[operator]
    assert result.error is None and result.cpu_agents == 1
    w7900, gre, igpu = result.devices
    assert (w7900.name, w7900.gfx, w7900.device_id, w7900.pci) == ("AMD Radeon PRO W7900", "gfx1100", 0x7448, (3, 0, 0))
    assert w7900.total_bytes is not None and w7900.total_bytes // MIB == 46064
    assert (gre.name, gre.device_id, gre.pci, gre.total_bytes) == (
        "AMD Radeon RX 7900 GRE",
        0x744C,
        (0x0B, 0, 0),
        16368 * MIB,
    )
    assert looks_integrated(igpu.name, igpu.gfx, igpu.device_id) and igpu.pci == (0x11, 0, 0)


def test_rocminfo_two_socket_mi300x_with_feature_suffix_isa() -> None:
    text = (
        _cpu_agent(1, "AMD EPYC 9654 96-Core Processor")
        + _cpu_agent(2, "AMD EPYC 9654 96-Core Processor")
        + _gpu_agent(3, "gfx942", "AMD Instinct MI300X", 0x74A1, 1280, 200998912, "gfx942:sramecc+:xnack-")
        + _gpu_agent(4, "gfx942", "AMD Instinct MI300X", 0x74A1, 9472, 200998912, "gfx942:sramecc+:xnack-")
    )
    result = parse_rocminfo(text)
    assert result.cpu_agents == 2
    assert [(d.gfx, d.device_id, d.pci) for d in result.devices] == [
        ("gfx942", 0x74A1, (5, 0, 0)),
        ("gfx942", 0x74A1, (0x25, 0, 0)),
    ]
    assert {d.total_bytes for d in result.devices} == {200998912 * 1024}


def test_rocminfo_cut_off_before_the_pools() -> None:
    text = ROCMINFO_ROCM63[: ROCMINFO_ROCM63.index("Agent 3")]
    (w7900,) = parse_rocminfo(text[: text.rindex("Pool Info")]).devices
    assert (w7900.name, w7900.total_bytes) == ("AMD Radeon PRO W7900", None)


@pytest.mark.parametrize(
    "text",
    [
        "ROCk module is loaded\nUnable to open /dev/kfd read-write: Permission denied\n"
        "Failed to get user name to check for render group membership\n",
        "ROCk module is NOT loaded, possibly no GPU devices\n",
        "ROCk module is loaded\nhsa api call failure at: /long_pathname/rocminfo/rocminfo.cc:1306\n"
        "Call returned HSA_STATUS_ERROR_OUT_OF_RESOURCES: The runtime failed to allocate the necessary resources.\n",
    ],
    ids=["kfd-permission", "module-not-loaded", "out-of-resources"],
)
def test_rocminfo_failures_are_reported(text: str) -> None:
    result = parse_rocminfo(text)
    assert result.devices == [] and result.error


# ---------------------------------------------------------------- sysfs


def test_sysfs_grep_and_head_transcripts() -> None:
    grep = (
        "$ grep . /sys/class/drm/card*/device/mem_info_vram_*\n"
        "/sys/class/drm/card1/device/mem_info_vram_total:51522830336\n"
        "/sys/class/drm/card1/device/mem_info_vram_used:1104150528\n"
    )
    (card,) = parse_cat_transcript(crlf(grep))
    assert (card.index, card.total_bytes, card.used_bytes) == (1, 51522830336, 1104150528)
    head = (
        "==> /sys/class/drm/card0/device/mem_info_vram_total <==\n17163091968\n\n"
        "==> /sys/class/drm/card0/device/mem_info_vram_used <==\n692142080\n"
    )
    (six,) = parse_cat_transcript(head)
    assert (six.total_bytes, six.used_bytes) == (17163091968, 692142080)


def test_sysfs_files_with_crlf_and_a_real_tree(tmp_path: Path) -> None:
    card = parse_card(0, {"vendor": "0x1002\r\n", "device": "0x744c\r\n", "mem_info_vram_total": " 17163091968 \r\n"})
    assert card is not None and (card.device_id, card.total_bytes) == (0x744C, 17163091968)
    pci = tmp_path / "devices" / "0000:03:00.0"
    pci.mkdir(parents=True)
    for name, value in {"vendor": "0x1002\n", "device": "0x7448\n", "mem_info_vram_total": "51522830336\n"}.items():
        (pci / name).write_text(value)
    drm = tmp_path / "drm"
    for entry in ("card1", "card1-DP-1"):
        (drm / entry).mkdir(parents=True)
    (drm / "card1" / "device").symlink_to(pci)
    intel = drm / "card0" / "device"
    intel.mkdir(parents=True)
    (intel / "vendor").write_text("0x8086\n")
    (w7900,) = read_sysfs(drm)
    assert (w7900.index, w7900.device_id, w7900.pci, w7900.total_bytes) == (1, 0x7448, (3, 0, 0), 51522830336)


# ---------------------------------------------------------------- llama.cpp

TWO_W7900_LOG = """ggml_cuda_init: GGML_CUDA_FORCE_MMQ:    no
ggml_cuda_init: GGML_CUDA_FORCE_CUBLAS: no
ggml_cuda_init: found 2 ROCm devices:
  Device 0: AMD Radeon PRO W7900, gfx1100 (0x1100), VMM: no, Wave Size: 32
  Device 1: AMD Radeon PRO W7900, gfx1100 (0x1100), VMM: no, Wave Size: 32
build: 6540 (1a2b3c4d) with cc (Ubuntu 13.3.0-6ubuntu2~24.04) 13.3.0 for x86_64-linux-gnu
main: llama backend init
llama_model_load_from_file_impl: using device ROCm0 (AMD Radeon PRO W7900) (0000:03:00.0) - 45998 MiB free
llama_model_load_from_file_impl: using device ROCm1 (AMD Radeon PRO W7900) (0000:43:00.0) - 46012 MiB free
load_tensors: offloading 80 repeating layers to GPU
load_tensors: offloading output layer to GPU
load_tensors: offloaded 81/81 layers to GPU
load_tensors:        ROCm0 model buffer size = 20431.77 MiB
load_tensors:        ROCm1 model buffer size = 19785.22 MiB
load_tensors:   CPU_Mapped model buffer size =   563.62 MiB
"""


def test_llamacpp_new_log_two_w7900_free_and_offload() -> None:
    devices = parse_device_lines(TWO_W7900_LOG)
    assert [(d.name, d.gfx, d.free_bytes) for d in devices] == [
        ("AMD Radeon PRO W7900", "gfx1100", 45998 * MIB),
        ("AMD Radeon PRO W7900", "gfx1100", 46012 * MIB),
    ]
    assert found_device_count(TWO_W7900_LOG) == 2
    offload = parse_offload(TWO_W7900_LOG)
    assert offload is not None and (offload.offloaded, offload.total) == (81, 81)
    assert offload.device_mib == {"ROCm0": pytest.approx(20431.77), "ROCm1": pytest.approx(19785.22)}
    partial = parse_offload(
        "llm_load_tensors: offloaded 20/33 layers to GPU\nllm_load_tensors:      ROCm0 buffer size = 3890.5 MiB\n"
    )
    assert partial is not None and (partial.offloaded, partial.total, partial.device_mib) == (20, 33, {"ROCm0": 3890.5})
    assert parse_offload("garbage") is None


def test_llamacpp_log_with_journald_prefixes() -> None:
    text = (
        "ggml_cuda_init: found 1 ROCm devices:\n"
        "  Device 0: AMD Radeon RX 6800 XT, gfx1030 (0x1030), VMM: no, Wave Size: 32\n"
        "llama_model_load_from_file_impl: using device ROCm0 (AMD Radeon RX 6800 XT) - 16112 MiB free\n"
        "load_tensors: offloaded 29/29 layers to GPU\n"
    )
    text = "".join(f"Mar 02 10:11:12 clinic ollama[2211]: {line}\n" for line in text.splitlines())
    (card,) = parse_device_lines(text)
    assert (card.name, card.gfx, card.free_bytes) == ("AMD Radeon RX 6800 XT", "gfx1030", 16112 * MIB)
    offload = parse_offload(text)
    assert offload is not None and offload.offloaded == 29


def test_llamacpp_windows_log_with_crlf_and_colour_codes() -> None:
    text = (
        "\x1b[0mggml_cuda_init: found 1 ROCm devices (Total VRAM: 16368 MiB):\r\n"
        "\x1b[0m  Device 0: AMD Radeon RX 7900 GRE, gfx1100 (0x1100), VMM: no, Wave Size: 32, VRAM: 16368 MiB\r\n"
        "\x1b[32mllama_model_load_from_file_impl: using device ROCm0 (AMD Radeon RX 7900 GRE) - 16212 MiB free"
        "\x1b[0m\r\n"
    )
    (card,) = parse_device_lines(text)
    assert (card.name, card.gfx, card.total_bytes, card.free_bytes) == (
        "AMD Radeon RX 7900 GRE",
        "gfx1100",
        16368 * MIB,
        16212 * MIB,
    )
    assert found_device_count(text) == 1


def test_llamacpp_list_devices_output() -> None:
    text = (
        "ggml_cuda_init: found 2 ROCm devices:\n"
        "  Device 0: AMD Radeon PRO W7800, gfx1100 (0x1100), VMM: no, Wave Size: 32\n"
        "  Device 1: AMD Radeon Graphics, gfx1036 (0x1036), VMM: no, Wave Size: 32\n"
        "Available devices:\n"
        "  ROCm0: AMD Radeon PRO W7800 (32752 MiB, 32586 MiB free)\n"
        "  ROCm1: AMD Radeon Graphics (15920 MiB, 15602 MiB free)\n"
    )
    w7800, igpu = parse_device_lines(text)
    assert (w7800.name, w7800.gfx, w7800.total_bytes, w7800.free_bytes) == (
        "AMD Radeon PRO W7800",
        "gfx1100",
        32752 * MIB,
        32586 * MIB,
    )
    assert looks_integrated(igpu.name, igpu.gfx, None) and igpu.free_bytes == 15602 * MIB
    listed_only = parse_device_lines(text[text.index("Available") :])
    assert [(d.index, d.name, d.total_bytes) for d in listed_only] == [
        (0, "AMD Radeon PRO W7800", 32752 * MIB),
        (1, "AMD Radeon Graphics", 15920 * MIB),
    ]


@pytest.mark.parametrize(
    ("log", "advice_has"),
    [
        ("ggml_cuda_init: failed to initialize ROCm: no ROCm-capable device is detected", "render"),
        ("rocBLAS error: Could not initialize Tensile host: No devices found", "render"),
        (
            "ROCm error: invalid device function\n  current device: 0, in function ggml_cuda_op_mul_mat",
            "hip_visible_devices",
        ),
        ("HIP error: hipErrorNoBinaryForGpu: Unable to find code object for all current devices!", "GPU_TARGETS"),
        ("llama_model_load: error loading model: unable to allocate ROCm0 buffer", "out of memory"),
        ("llama_kv_cache_init: failed to allocate buffer for kv cache", "out of memory"),
        ("allocating 30720.00 MiB on device 1: cudaMalloc failed: out of memory", "out of memory"),
        ("Memory access fault by GPU node-2 (Agent handle: 0x55d0c7a3b2a0) on address 0x7f3c2a200000.", "split mode"),
        (
            "rocBLAS error: Cannot read /opt/rocm/lib/rocblas/library/TensileLibrary.dat: No such file or directory "
            "for GPU arch : gfx1031",
            "10.3.0",
        ),
        (
            "rocBLAS error: Cannot read C:\\Program Files\\AMD\\ROCm\\6.1\\bin\\rocblas\\library\\TensileLibrary.dat: "
            "No such file or directory for GPU arch : gfx1103",
            "11.0.0",
        ),
    ],
)
def test_llamacpp_failure_diagnosis(log: str, advice_has: str) -> None:
    assert advice_has in (explain_failure(log) or "")
    assert advice_has in (explain_failure(crlf("\x1b[31m" + log + "\x1b[0m\n")) or "")


def test_tensile_error_for_a_gpu_without_any_override_does_not_suggest_rdna2s() -> None:
    advice = explain_failure("rocBLAS error: Cannot read TensileLibrary.dat: Illegal seek for GPU arch : gfx1010") or ""
    assert "gfx1010" in advice and "10.3.0" not in advice


def test_found_device_count_variants() -> None:
    assert found_device_count("ggml_cuda_init: failed to initialize ROCm: no ROCm-capable device is detected\r\n") == 0
    assert found_device_count("ggml_cuda_init: found 1 ROCm devices (Total VRAM: 46064 MiB):") == 1
    assert found_device_count("ggml_init_cublas: found 3 ROCm devices:") == 3
    assert found_device_count("ggml_vulkan: Found 1 Vulkan devices:") is None


def test_system_info_new_and_old() -> None:
    new = (
        "system_info: n_threads = 8 (n_threads_batch = 8) / 16 | ROCm : NO_VMM = 1 | PEER_MAX_BATCH_SIZE = 128 "
        "| CPU : SSE3 = 1 | AVX2 = 1 |"
    )
    assert parse_system_info(new) == ["ROCm", "CPU"]


# ---------------------------------------------------------------- kernel config


def test_kernel_config_from_grep_and_crlf() -> None:
    grep = "/boot/config-6.8.0-45-generic:CONFIG_PCI_P2PDMA=y\n/boot/config-6.8.0-45-generic:CONFIG_HSA_AMD_P2P=y\n"
    assert parse_kernel_config(grep) == {"CONFIG_PCI_P2PDMA": "y", "CONFIG_HSA_AMD_P2P": "y"}
    assert p2p_from_kernel_config(crlf("CONFIG_PCI_P2PDMA=y\nCONFIG_HSA_AMD_P2P=m\n"), "/proc/config.gz").state == "yes"


# ---------------------------------------------------------------- garbage in, nothing raised

GARBAGE = [
    "",
    "\x00\xff\xfe garbage \x1b[31m",
    "{",
    "[",
    "[1, 2, 3]",
    '{"card0": 5, "card1": {"VRAM Total Memory (B)": null, "Device ID": []}}',
    '{"gpu_data": [{"gpu": "x", "asic": "N/A", "vram": {"size": {"value": "N/A"}}}]}',
    '[{"gpu": 0, "mem_usage": {"total_vram": {"value": null, "unit": "MB"}}}]',
    '[{"gpu": 0, "vram": {"size": Infinity}, "mem_usage": {"used_vram": NaN}}]',
    "GPU[0] : : :\nGPU[x] : VRAM Total Memory (B): lots\n",
    "device,\ncard0\ncard1,1,2,3,4,5,6,7\n",
    "Agent 1\n*******\n  Name:\n  Device Type: GPU\n  Size: (0x) KB\n",
    "  Device 0: , gfx\n  Device 99999999999999999999: x, compute capability 1.0\n"
    "found 99999999999999999999 ROCm devices",
    "| 0000:03:00.0 | \n|   0   0 | 1/ MB |\n",
    "ACCESS TABLE:\n\n",
    "ACCESS TABLE:\n  a b\na ENABLED\n",
    "GPU: 0\n    VRAM:\n        SIZE: lots MB\n",
    "offloaded 99/ layers to GPU\n ROCm0 model buffer size = x MiB",
    "x" * 100_000,
    # int() refuses strings of over 4,300 digits, and json recurses per nesting level.
    '[{"gpu": 0, "vram": {"size": {"value": ' + "9" * 5000 + "}}}]",
    '{"card0": {"VRAM Total Memory (B)": ' + "9" * 5000 + "}}",
    "GPU[0] : VRAM Total Memory (B): " + "9" * 5000,
    "offloaded " + "9" * 5000 + "/3 layers to GPU",
    "[" * 5000 + "]" * 5000,
    '{"gpu_data": ' * 3000,
]


@pytest.mark.parametrize("text", GARBAGE, ids=range(len(GARBAGE)))
def test_no_parser_raises_on_garbage(text: str) -> None:
    assert isinstance(rocm_smi.parse_any(text), list)
    assert isinstance(rocm_smi.parse_concise_partitions(text), dict)
    assert isinstance(amd_smi.parse_default_view(text), list)
    assert isinstance(amd_smi.parse_any(text), list)
    amd_smi.parse_topology_access(text)
    assert parse_rocminfo(text).devices is not None
    assert isinstance(parse_cat_transcript(text), list)
    assert isinstance(parse_device_lines(text), list)
    found_device_count(text)
    explain_failure(text)
    parse_offload(text)
    weights_on_gpu(text)
    parse_system_info(text)
    parse_kernel_config(text)
    parse_card(0, {"vendor": text, "mem_info_vram_total": text})


# ---------------------------------------------------------------- through the probe


def test_probe_on_rocm63_rocminfo_rocm6_json_and_amd_smi_json() -> None:
    import json

    from app.core.gpu.probe import build_probe
    from tests.core.test_gpu_fixtures import sources

    probe = build_probe(
        sources(
            rocminfo=crlf(ROCMINFO_ROCM63),
            rocm_smi=ROCM6_JSON,
            amd_smi=json.dumps({"gpu_data": [STATIC_W7900]}),
        )
    )
    w7900, gre, igpu = probe.devices
    assert (w7900.name, w7900.total_mib, w7900.free_mib) == ("AMD Radeon PRO W7900", 46064, 46064 - 1053)
    assert "amd-smi" in w7900.sources and w7900.device_id == 0x7448
    assert (gre.name, gre.total_mib, gre.integrated) == ("AMD Radeon RX 7900 GRE", 16368, False)
    assert igpu.integrated and [d.index for d in probe.plan_devices()] == [0, 1]
    assert any('hip_visible_devices = "0,1"' in advice for advice in probe.advice)


def test_amd_smi_truncated_dual_slot_name_is_still_a_w7900() -> None:
    from app.core.gpu.devices import is_w7900

    text = AMD_SMI_DEFAULT_ROCM64.replace("  AMD Radeon PRO W7900 |", "...on PRO W7900 Dual Slot |")
    (_, dual) = amd_smi.parse_default_view(text)
    assert is_w7900(dual.name, None) and dual.total_bytes == 49136 * MIB
