"""Parse rocm-smi output: `--json` (what the probe runs), the `GPU[n] : key: value` text form, `--csv`, and the
concise table (for the MI300 compute-partition column).

Key spellings changed across releases (`Card series` / `Card Series` / `Device Name`; `Card model` holding the
subsystem id in one release and `Card Model` the device id in another), `Card Series` can be just `0x7448`, and
`GFX Version` can be malformed (`gfx11000`): names are taken as printed and matched case-insensitively elsewhere.
Memory values are strings of bytes. rocm-smi's VRAM total is larger than what HIP can allocate on a W7900, so it is
only a fallback when rocminfo is missing.
"""

from __future__ import annotations

import csv
import io
import json
import re

from app.core.gpu.devices import DeviceReading, clean_text, normalise_gfx, parse_int, parse_pci_address

_TEXT_LINE = re.compile(r"^GPU\[(\d+)\]\s*:\s*([^:]+?):\s*(.*?)\s*$")
_CARD_KEY = re.compile(r"^card(\d+)$")
_NAME_KEYS = ("Card Series", "Card series", "Device Name")
_DEVICE_ID_KEYS = ("Device ID", "Card Model", "Card model")


def _name_of(fields: dict[str, str]) -> str | None:
    for key in _NAME_KEYS:
        value = fields.get(key, "").strip()
        # ROCm 6.1 printed the bare device id as the series ("0x7448"): that is not a name.
        if value and value.upper() != "N/A" and not re.fullmatch(r"0x[0-9a-fA-F]+", value):
            return value
    return None


def _device_id_of(fields: dict[str, str]) -> int | None:
    # "Card model" held the subsystem id (0x0e0d) in ROCm 6.0's text output: only trust the newer keys, or a
    # "Card Series" that is itself a bare device id ("0x7448", ROCm 6.1).
    for key in ("Device ID", "Card Model"):
        value = parse_int(fields.get(key))
        if value:
            return value
    series = fields.get("Card Series", "").strip()
    if re.fullmatch(r"0x[0-9a-fA-F]{4}", series):
        return int(series, 16)
    return None


def _reading(index: int, fields: dict[str, str]) -> DeviceReading:
    total = parse_int(fields.get("VRAM Total Memory (B)"))
    used = parse_int(fields.get("VRAM Total Used Memory (B)"))
    bus = fields.get("PCI Bus")
    return DeviceReading(
        source="rocm-smi",
        index=index,
        name=_name_of(fields),
        gfx=normalise_gfx(fields.get("GFX Version")),
        device_id=_device_id_of(fields),
        pci=parse_pci_address(bus) if bus else None,
        total_bytes=total,
        used_bytes=used,
    )


def _json_cards_tolerant(text: str) -> dict[int, dict[str, str]]:
    """Line by line, for output cut off mid-object (a crashed or timed-out rocm-smi, a pasted excerpt)."""
    cards: dict[int, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for line in text.splitlines():
        card = re.match(r'^\s*"card(\d+)"\s*:\s*\{', line)
        if card:
            current = cards.setdefault(int(card.group(1)), {})
            continue
        # Values are strings of bytes, but a bare number has been seen from patched and newer builds.
        pair = re.match(r'^\s*"([^"]+)"\s*:\s*(?:"([^"]*)"|(-?\d+))', line)
        if pair and current is not None:
            current.setdefault(pair.group(1), pair.group(2) if pair.group(2) is not None else pair.group(3))
    return cards


def _json_cards(data: object) -> dict[int, dict[str, str]]:
    cards: dict[int, dict[str, str]] = {}
    if isinstance(data, dict):
        for key, fields in data.items():
            match = _CARD_KEY.match(str(key))
            if match and isinstance(fields, dict):
                cards[int(match.group(1))] = {str(k): "" if v is None else str(v) for k, v in fields.items()}
    return cards


def parse_json(text: str) -> list[DeviceReading]:
    """`rocm-smi ... --json`: {"card0": {...}, "card1": {...}, "system": {...}}. Warnings printed before or after
    the JSON ("WARNING: AMD GPU device(s) is/are in a low-power state") are skipped."""
    text = clean_text(text)
    decoder = json.JSONDecoder()
    starts = [m.start(1) for m in re.finditer(r"(?m)^\s*(\{)", text)] or ([text.find("{")] if "{" in text else [])
    for start in starts:
        try:
            data, _ = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; nesting can be absurd
            continue
        cards = _json_cards(data)
        if cards:
            return [_reading(index, fields) for index, fields in sorted(cards.items())]
    if not starts:
        return []
    cards = _json_cards_tolerant(text[starts[0] :])
    return [_reading(index, fields) for index, fields in sorted(cards.items())]


def parse_text(text: str) -> list[DeviceReading]:
    """`rocm-smi --showmeminfo vram`, `--showproductname`, `-i`: lines `GPU[0]  : VRAM Total Memory (B): 4278190080`."""
    cards: dict[int, dict[str, str]] = {}
    for line in clean_text(text).splitlines():
        match = _TEXT_LINE.match(line.strip())
        if match:
            cards.setdefault(int(match.group(1)), {}).setdefault(match.group(2).strip(), match.group(3))
    return [_reading(index, fields) for index, fields in sorted(cards.items())]


def parse_csv(text: str) -> list[DeviceReading]:
    """`rocm-smi ... --csv`: a header starting with `device`, rows `card0,...`."""
    lines = [line for line in clean_text(text).splitlines() if line.strip()]
    readings: list[DeviceReading] = []
    header: list[str] | None = None
    for row in csv.reader(io.StringIO("\n".join(lines))):
        if row and row[0] == "device":
            header = row
            continue
        if header and row and (match := _CARD_KEY.match(row[0])):
            readings.append(_reading(int(match.group(1)), dict(zip(header, row, strict=False))))
    return readings


_CONCISE_ROW = re.compile(r"^\s*(\d+)\s")
_CONCISE_PARTITION = re.compile(r"\b(?:NPS\d+|N/A)\s*,\s*([SDTQC]PX)\b(?:\s*,\s*(\d+)\b)?")
_CONCISE_DID = re.compile(r"\b0x([0-9a-fA-F]{4})\b")


def parse_concise_partitions(text: str) -> dict[int, tuple[int | None, str, int | None]]:
    """The concise table's device id and compute-partition columns (MI300): {device: (did, "QPX", partition id)}.

    ROCm 6.3+ rows: `0  2  0x74a1,  1971  47.0°C  133.0W  NPS1, QPX, 0  ...` ("IDs (DID, GUID)", "Partitions (Mem,
    Compute, ID)"); ROCm 6.1/6.2 rows: `0  [0x74a1 : 0x00]  35.0°C  133.0W  NPS1, CPX  ...` (no partition id).
    Consumer cards print `N/A, N/A, 0` there: no entry.
    """
    partitions: dict[int, tuple[int | None, str, int | None]] = {}
    for line in clean_text(text).splitlines():
        row = _CONCISE_ROW.match(line)
        partition = _CONCISE_PARTITION.search(line) if row else None
        if row and partition:
            did = _CONCISE_DID.search(line)
            partitions[int(row.group(1))] = (
                int(did.group(1), 16) if did else None,
                partition.group(1),
                int(partition.group(2)) if partition.group(2) else None,
            )
    return partitions


def parse_any(text: str) -> list[DeviceReading]:
    """Whichever form `text` is in (the probe runs --json; recorded outputs come in all three)."""
    text = clean_text(text)
    stripped = text.lstrip()
    if "{" in text and re.search(r'"card\d+"\s*:', text):
        readings = parse_json(text)
        if readings or stripped.startswith("{"):
            return readings
    if re.search(r"^device,", text, re.MULTILINE):
        return parse_csv(text)
    readings = parse_text(text)
    partitions = parse_concise_partitions(text)
    for reading in readings:
        if reading.index in partitions:
            did, reading.partition_mode, reading.partition_id = partitions[reading.index]
            reading.device_id = reading.device_id or did
    return readings
