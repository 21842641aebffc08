"""The environment a ROCm user needs before llama.cpp initialises HIP (it reads these once, at first use)."""

from __future__ import annotations

import logging
import os
import sys

from app.core.config import GpuSettings

log = logging.getLogger(__name__)


def apply_rocm_environment(gpu: GpuSettings) -> dict[str, str]:
    """Export HIP_VISIBLE_DEVICES and HSA_OVERRIDE_GFX_VERSION from the settings. Returns what was set."""
    wanted = {
        "HIP_VISIBLE_DEVICES": gpu.hip_visible_devices.replace(" ", ""),
        "HSA_OVERRIDE_GFX_VERSION": gpu.hsa_override_gfx_version,
    }
    applied: dict[str, str] = {}
    for name, value in wanted.items():
        if not value:
            continue
        if "llama_cpp" in sys.modules and os.environ.get(name) != value:
            log.warning("%s changed after llama.cpp was loaded: restart the app for it to take effect", name)
        os.environ[name] = value
        applied[name] = value
    return applied
