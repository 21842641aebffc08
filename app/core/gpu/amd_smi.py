"""Parse amd-smi output: the default view (devices, HIP ids, memory), `amd-smi static`/`metric` (text or --json)
and `amd-smi topology` (peer access).

Default view rows come in pairs:
    | 0000:03:00.0 AMD Radeon RX 7900 XTX | 29 %     93 °C   0           280/327 W |
    |   0       0     N/A             N/A | 100 %   51.76            7608/24560 MB |
The second row starts with the GPU number and the HIP id, and ends with "used/total MB". amd-smi's "MB" is MiB: a
7900 XTX shows 24560, the kernel's VRAM size in MiB. Long names are cut with "..." to fit the column.

The topology ACCESS TABLE says whether each GPU may access each other GPU's memory. DISABLED between two GPUs is
the recorded case on a 2×7900 XTX consumer board, where llama.cpp's row split cannot work.

`--json` output changed shape: amd-smi 24.x prints a list of per-GPU objects (`[{"gpu": 0, ...}]`) with sizes as
"49136 MB" strings; 25.x+ wraps it (`{"gpu_data": [...]}`) and prints sizes as `{"value": 49136, "unit": "MB"}`.
Without a subcommand, amd-smi before 25.x prints its usage text, not the default view: that parses to no devices.
"""

from __future__ import annotations

import json
import re
from typing import Any

from app.core.gpu.devices import MIB, DeviceReading, clean_text, normalise_gfx, parse_int, parse_pci_address

_ROW_ONE = re.compile(r"^\|\s*([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.\d)\s+(.*?)\s*\|")
_ROW_TWO = re.compile(r"^\|\s*(\d+)\s+(\d+|N/A)\s+.*\|.*?(\d+|N/A)/(\d+)\s*MB\s*\|")


def parse_default_view(text: str) -> list[DeviceReading]:
    readings: list[DeviceReading] = []
    pending: tuple[str, str] | None = None
    for line in clean_text(text).splitlines():
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
    lines = clean_text(text).splitlines()
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


_UNIT_BYTES = {"B": 1, "KB": 1024, "MB": MIB, "GB": 1024 * MIB, "TB": 1024 * 1024 * MIB}  # amd-smi's "MB" is MiB


def _bytes(value: Any) -> int | None:
    """{"value": 49136, "unit": "MB"}, "49136 MB", 49136 (MB) → bytes; "N/A" and anything else → None."""
    unit = "MB"
    if isinstance(value, dict):
        unit = str(value.get("unit") or "MB")
        value = value.get("value")
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        number: float = value
    else:
        match = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B)?\s*$", str(value), re.IGNORECASE)
        if not match:
            return None
        number, unit = float(match.group(1)), match.group(2) or unit
    factor = _UNIT_BYTES.get(unit.upper().replace("IB", "B"))
    return int(number * factor) if factor and 0 <= number < 2**53 else None  # also rejects NaN and Infinity


def _text(value: Any) -> str | None:
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return text if text and text.upper() != "N/A" else None


def _first_int(*values: Any) -> int | None:
    return next((n for n in (parse_int(_text(v)) for v in values) if n is not None), None)


def _section(entry: dict[str, Any], name: str) -> dict[str, Any]:
    section = entry.get(name)
    return section if isinstance(section, dict) else {}


def _reading_from(position: int, entry: dict[str, Any]) -> DeviceReading:
    """One GPU from a static/metric/list JSON object or from the same keys of the text form (lower-cased)."""
    asic, bus, vram, usage = (_section(entry, name) for name in ("asic", "bus", "vram", "mem_usage"))
    # `list --json` gives the HIP id (llama.cpp's numbering); static/metric only amd-smi's own GPU number.
    index = _first_int(entry.get("hip_id"), entry.get("gpu"))
    bdf = _text(bus.get("bdf")) or _text(entry.get("bdf"))
    return DeviceReading(
        source="amd-smi",
        index=index if index is not None else position,
        name=_text(asic.get("market_name")) or _text(_section(entry, "board").get("product_name")),
        gfx=normalise_gfx(_text(asic.get("target_graphics_version"))),
        device_id=parse_int(_text(asic.get("device_id"))),
        pci=parse_pci_address(bdf) if bdf else None,
        total_bytes=_bytes(vram.get("size")) or _bytes(usage.get("total_vram")),
        used_bytes=_bytes(usage.get("used_vram")),
        free_bytes=_bytes(usage.get("free_vram")),
    )


def parse_json(text: str) -> list[DeviceReading]:
    """`amd-smi static --json`, `metric --json` or `list --json`, in either shape. Warnings before it are skipped."""
    text = clean_text(text)
    decoder = json.JSONDecoder()
    for match in re.finditer(r"(?m)^\s*([\[{])", text):
        try:
            data, _ = decoder.raw_decode(text, match.start(1))
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; nesting can be absurd
            continue
        if isinstance(data, dict):
            data = data.get("gpu_data", [])
        if isinstance(data, list):
            entries = [e for e in data if isinstance(e, dict)]
            return [_reading_from(position, entry) for position, entry in enumerate(entries)]
    return []


def parse_static_text(text: str) -> list[DeviceReading]:
    """`amd-smi static` / `metric` text: `GPU: 0`, then indented `SECTION:` and `KEY: VALUE` lines."""
    entries: list[dict[str, Any]] = []
    section: dict[str, Any] = {}
    for line in clean_text(text).splitlines():
        gpu = re.match(r"^GPU:\s*(\d+)\s*$", line)
        if gpu:
            entries.append({"gpu": gpu.group(1)})
            section = {}
            continue
        pair = re.match(r"^(\s+)([A-Z][A-Z0-9_]*):\s*(.*?)\s*$", line)
        if not pair or not entries:
            continue
        if not pair.group(3):
            section = entries[-1].setdefault(pair.group(2).lower(), {})
        elif isinstance(section, dict):
            section[pair.group(2).lower()] = pair.group(3)
    return [_reading_from(position, entry) for position, entry in enumerate(entries)]


def parse_any(text: str) -> list[DeviceReading]:
    """Whichever amd-smi output `text` is: the default view, JSON, or the static/metric text form."""
    text = clean_text(text)
    if re.search(r"^\s*\|\s*[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.\d", text, re.MULTILINE):
        return parse_default_view(text)
    if re.search(r"^\s*[\[{]", text, re.MULTILINE):
        readings = parse_json(text)
        if readings:
            return readings
    return parse_static_text(text)
