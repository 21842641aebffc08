"""`clinic-assistant gpu probe|plan MODEL|bench MODEL|split-check MODEL`.

probe        what llama.cpp and the AMD tools report: build (CPU or HIP), GPUs with VRAM, P2P, advice
plan MODEL   how the model would be loaded: layers on the GPU, context, split — or why it cannot load
bench MODEL  pp512/tg128 tokens/s for each split mode available here (--quick: pp64/tg16)
split-check  run the row-split guard (row vs layer, greedy 16 tokens) and print the verdict

`--from FILE...` (probe and plan) reads saved tool outputs instead of running the tools, e.g. files a clinic sent
for support: rocminfo, rocm-smi (--json or text), amd-smi and `amd-smi topology` text, a kernel .config. The type of
each file is recognised from its content. MODEL is a model name (`models list`) or a .gguf path.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from app.cli.context import CliContext
from app.core.errors import InputError, ModelError

if TYPE_CHECKING:
    from app.core.gpu.plan import FitPlan
    from app.core.gpu.probe import GpuProbe


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("gpu", help="GPU probe, fit planner and benchmark for llama.cpp")
    gsub = p.add_subparsers(dest="gpu_command", metavar="ACTION", required=True)
    probe = gsub.add_parser("probe", help="what GPUs and which llama.cpp build this machine has")
    plan = gsub.add_parser("plan", help="how a model would be loaded (layers, context, split), or why not")
    plan.add_argument("model", metavar="MODEL", help="model name or .gguf path")
    plan.add_argument("--ctx", type=int, metavar="N", help="context size (default: gpu.n_ctx)")
    plan.add_argument("--split", choices=("none", "layer", "row"), help="split mode (default: gpu.split_mode)")
    for command in (probe, plan):
        command.add_argument("--json", action="store_true", help="machine-readable output")
        command.add_argument(
            "--from",
            dest="from_files",
            nargs="+",
            type=Path,
            metavar="FILE",
            help="read saved rocminfo/rocm-smi/amd-smi/kernel-config outputs instead of probing",
        )
        command.add_argument(
            "--assume-build",
            choices=("HIP", "CPU"),
            default="HIP",
            help="llama.cpp build to assume with --from (default: HIP)",
        )
        command.add_argument("--ram-gib", type=float, help="free RAM to assume with --from (default: this machine's)")
    probe.add_argument("--refresh", action="store_true", help="probe again instead of using this process's result")
    bench = gsub.add_parser("bench", help="prompt and generation speed per split mode (like llama-bench)")
    bench.add_argument("model", metavar="MODEL")
    bench.add_argument("--quick", action="store_true", help="pp64/tg16 once instead of pp512/tg128 three times")
    bench.add_argument("--json", action="store_true")
    check = gsub.add_parser("split-check", help="compare row and layer split on a short greedy prompt")
    check.add_argument("model", metavar="MODEL")
    check.add_argument("--force", action="store_true", help="run even where row split does not apply (CPU)")
    check.add_argument("--json", action="store_true")
    worker = gsub.add_parser("split-worker")  # no help: unlisted; the child process of split-check
    worker.add_argument("model", type=Path)
    worker.add_argument("--split-mode", choices=("none", "layer", "row"), required=True)
    worker.add_argument("--n-gpu-layers", type=int, required=True)
    worker.add_argument("--main-gpu", type=int, default=0)
    worker.add_argument("--tensor-split", default="")
    worker.add_argument("--tokens", type=int, default=16)
    p.set_defaults(run=run)


def run(args: argparse.Namespace, ctx: CliContext) -> int:
    handlers = {
        "probe": _probe,
        "plan": _plan,
        "bench": _bench,
        "split-check": _split_check,
        "split-worker": _split_worker,
    }
    return handlers[args.gpu_command](args, ctx)


def _model_path(name: str, ctx: CliContext) -> Path:
    from app.core.installed_models import locate

    path = locate(name, ctx.models_dir)
    if path.is_dir() or path.suffix.lower() != ".gguf":
        raise ModelError(f"{path.name} is not a .gguf model", "The GPU planner works on llama.cpp GGUF models")
    return path


REPLAYED = "assumed for --from"


def _replay_probe(args: argparse.Namespace) -> GpuProbe:
    from app.core.gpu.llama_build import LlamaBuild
    from app.core.gpu.probe import build_probe
    from app.core.gpu.runner import ProbeSources

    sources = ProbeSources(
        llama=LlamaBuild(
            importable=True,
            gpu_offload=args.assume_build == "HIP",
            backends=["ROCm", "CPU"] if args.assume_build == "HIP" else ["CPU"],
            version=REPLAYED,
        ),
        hip_visible_devices=ctx_visible(),
        kernel_config_source="no kernel config among the --from files",
    )
    for path in args.from_files:
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise InputError(f"{path} cannot be read ({exc.strerror})", "Check the --from file names") from None
        if "ACCESS TABLE" in text:
            sources.amd_smi_topology = text
        elif "AMD-SMI" in text:
            sources.amd_smi = text
        elif "CONFIG_" in text and "HSA Agents" not in text:
            sources.kernel_config, sources.kernel_config_source = text, str(path)
        elif "Marketing Name" in text or "HSA Agents" in text or "hsa api call failure" in text:
            sources.rocminfo = text
        elif "card0" in text or "GPU[" in text or "ROCm System Management" in text:
            if "Concise Info" in text:
                sources.rocm_smi_concise = text
            sources.rocm_smi = text
        else:
            raise InputError(
                f"{path.name} is not a recognised GPU tool output",
                "Give rocminfo, rocm-smi, amd-smi or amd-smi topology output, or a kernel .config",
            )
    import psutil

    memory = psutil.virtual_memory()
    sources.ram_total_mib = int(args.ram_gib * 1024) if args.ram_gib else memory.total // 2**20
    sources.ram_available_mib = int(args.ram_gib * 1024) if args.ram_gib else memory.available // 2**20
    return build_probe(sources)


def ctx_visible() -> str:
    import os

    return os.environ.get("HIP_VISIBLE_DEVICES", "")


def _get_probe(args: argparse.Namespace, ctx: CliContext) -> GpuProbe:
    if getattr(args, "from_files", None):
        return _replay_probe(args)
    from app.core.gpu.probe import probe_gpus

    return probe_gpus(ctx.settings.gpu, refresh=getattr(args, "refresh", False))


def probe_text(probe: GpuProbe) -> str:
    from app.core.gpu.devices import pci_text

    build = {
        "CPU": "CPU (this llama.cpp build has no GPU offload)",
        "unavailable": "unavailable (llama-cpp-python cannot be imported)",
    }.get(probe.build, probe.build)
    if probe.llama_version == REPLAYED:
        lines = [f"build: {build} ({REPLAYED}: another machine's tool output; RAM is this computer's or --ram-gib)"]
    else:
        lines = [f"build: {build}" + (f", llama-cpp-python {probe.llama_version}" if probe.llama_version else "")]
    if not probe.devices:
        lines.append("GPUs: none found")
    used = {d.index for d in probe.plan_devices()}
    for d in probe.devices:
        details = ", ".join(x for x in (d.gfx, f"0x{d.device_id:04x}" if d.device_id else None, pci_text(d.pci)) if x)
        memory = (
            f"{d.free_mib / 1024:.1f} GiB free of {d.total_mib / 1024:.1f} GiB"
            if d.free_mib is not None and d.total_mib is not None
            else "VRAM unknown"
        )
        role = " [integrated" + ("" if d.index in used else ", not used") + "]" if d.integrated else ""
        lines.append(f"GPU {d.index}: {d.name} ({details}): {memory}{role}  ({', '.join(d.sources)})")
        lines.extend(f"    note: {n}" for n in d.notes)
    for d in probe.hidden_devices:
        lines.append(f"hidden by HIP_VISIBLE_DEVICES: {d.name}")
    lines.append(f"P2P: {probe.p2p.state} — {probe.p2p.reason}")
    if probe.ram_available_mib is not None and probe.ram_total_mib is not None:
        lines.append(f"RAM: {probe.ram_available_mib / 1024:.1f} GiB free of {probe.ram_total_mib / 1024:.1f} GiB")
    if probe.tools:
        lines.append("tools: " + ", ".join(f"{t.name} {t.state}" for t in probe.tools))
    lines.extend(f"warning: {w}" for w in probe.warnings)
    lines.extend(f"advice: {a}" for a in probe.advice)
    return "\n".join(lines)


def _probe(args: argparse.Namespace, ctx: CliContext) -> int:
    probe = _get_probe(args, ctx)
    if args.json:
        ctx.result_json(probe.to_dict())
    else:
        ctx.result(probe_text(probe))
    return 0


def plan_text(plan: FitPlan) -> str:
    lines = [plan.summary]
    kwargs = plan.llama_kwargs()
    lines.append(
        f"llama.cpp: n_gpu_layers={kwargs['n_gpu_layers']} split_mode={plan.split_mode} "
        f"main_gpu={plan.main_gpu} tensor_split={plan.tensor_split or 'none'} n_ctx={plan.n_ctx}"
    )
    for d in plan.devices:
        if plan.split_mode == "row":
            share = plan.tensor_split[d.index] if d.index < len(plan.tensor_split) else 0.0
            lines.append(
                f"GPU {d.index} {d.name}: {share:.0%} of every layer's matrices"
                f"{' + KV cache and buffers' if d.index == plan.main_gpu else ''}, "
                f"{d.planned_mib / 1024:.1f} GiB planned of {d.free_mib / 1024:.1f} GiB free"
            )
            continue
        lines.append(
            f"GPU {d.index} {d.name}: {d.layers - int(d.holds_output)} layers{' + output' if d.holds_output else ''}, "
            f"{d.planned_mib / 1024:.1f} GiB planned of {d.free_mib / 1024:.1f} GiB free"
        )
    lines.append(f"RAM for the CPU side: {plan.ram_mib / 1024:.1f} GiB; KV cache {plan.kv_mib / 1024:.2f} GiB")
    lines.extend(f"warning: {w}" for w in plan.warnings)
    return "\n".join(lines)


def _plan(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.gpu.plan import plan_for_model

    if args.ctx is not None and not 128 <= args.ctx <= 1_048_576:
        raise InputError(f"--ctx {args.ctx} is out of range", "Give a context size between 128 and 1048576 tokens")
    path = _model_path(args.model, ctx)
    plan = plan_for_model(path, ctx.settings.gpu, _get_probe(args, ctx), n_ctx=args.ctx, split_mode=args.split)
    if args.json:
        ctx.result_json({"model": str(path), **plan.to_dict(), "llama_kwargs": plan.llama_kwargs()})
    else:
        ctx.result(plan_text(plan))
    return 0


def _bench(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.gpu.bench import run_bench

    path = _model_path(args.model, ctx)
    report = run_bench(path, ctx.settings.gpu, quick=args.quick, progress=ctx.progress)
    ctx.end_progress()
    if args.json:
        ctx.result_json(report.to_dict())
    else:
        ctx.result(report.table())
    return 0 if report.fastest else 1


def _split_check(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.gpu.plan import plan_for_model
    from app.core.gpu.probe import probe_gpus
    from app.core.gpu.split_check import check_row_split

    path = _model_path(args.model, ctx)
    probe = probe_gpus(ctx.settings.gpu)
    split = "none" if not probe.gpu_offload else "row"
    plan = plan_for_model(path, ctx.settings.gpu, probe, n_ctx=1024, split_mode=split)  # type: ignore[arg-type]
    result = check_row_split(path, plan, probe, force=args.force)
    if args.json:
        ctx.result_json(result.to_dict())
    else:
        verdict = "" if result.status == "not_applicable" else f" (use {result.split_mode} split)"
        ctx.result(f"{result.status}: {result.message}{verdict}")
    return 0


def _split_worker(args: argparse.Namespace, ctx: CliContext) -> int:
    from app.core.gpu.split_check import greedy_tokens

    split = [float(s) for s in args.tensor_split.split(",") if s.strip()]
    tokens = greedy_tokens(args.model, args.split_mode, args.n_gpu_layers, args.main_gpu, split, args.tokens)
    print(json.dumps({"tokens": tokens}), file=sys.stdout, flush=True)
    return 0
