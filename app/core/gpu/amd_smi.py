"""Parse amd-smi text output: the default view (devices, HIP ids, memory) and `amd-smi topology` (peer access).

Default view rows come in pairs:
    | 0000:03:00.0 AMD Radeon RX 7900 XTX | 29 %     93 °C   0           280/327 W |
    |   0       0     N/A             N/A | 100 %   51.76            7608/24560 MB |
The second row starts with the GPU number and the HIP id, and ends with "used/total MB". amd-smi's "MB" is MiB: a
7900 XTX shows 24560, the kernel's VRAM size in MiB. Long names are cut with "..." to fit the column.

The topology ACCESS TABLE says whether each GPU may access each other GPU's memory. DISABLED between two GPUs is
the recorded case on a 2×7900 XTX consumer board, where llama.cpp's row split cannot work.
"""

from __future__ import annotations

import re

from app.core.gpu.devices import MIB, DeviceReading, parse_pci_address

_ROW_ONE = re.compile(r"^\|\s*([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.\d)\s+(.*?)\s*\|")
_ROW_TWO = re.compile(r"^\|\s*(\d+)\s+(\d+|N/A)\s+.*\|.*?(\d+|N/A)/(\d+)\s*MB\s*\|")


def parse_default_view(text: str) -> list[DeviceReading]:
    readings: list[DeviceReading] = []
    pending: tuple[str, str] | None = None
    for line in text.splitlines():
        first = _ROW_ONE.match(line.strip())
        if first:
            pending = (first.group(1), first.group(2))
            continue
        second = _ROW_TWO.match(line.strip())
        if second and pending:
            gpu, hip_id, used, total = second.groups()
            name = pending[1].lstrip(".").strip() or None
            readings.append(
                DeviceReading(
                    source="amd-smi",
                    index=int(hip_id) if hip_id.isdigit() else int(gpu),
                    name=name,
                    pci=parse_pci_address(pending[0]),
                    total_bytes=int(total) * MIB,
                    used_bytes=int(used) * MIB if used.isdigit() else None,
                )
            )
            pending = None
    return readings


def parse_topology_access(text: str) -> dict[tuple[str, str], bool] | None:
    """{(bdf_a, bdf_b): enabled} for every pair of different GPUs, or None when there is no ACCESS TABLE."""
    lines = text.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip().upper().startswith("ACCESS TABLE"))
    except StopIteration:
        return None
    header: list[str] = []
    access: dict[tuple[str, str], bool] = {}
    for line in lines[start + 1 :]:
        cells = line.split()
        if not cells or line.strip().upper().endswith("TABLE:"):
            break
        if not header:
            header = cells
            continue
        row_bdf, values = cells[0], cells[1:]
        if row_bdf not in header:
            break
        for column_bdf, value in zip(header, values, strict=False):
            if column_bdf != row_bdf:
                access[(row_bdf, column_bdf)] = value.upper() == "ENABLED"
    return access
