"""GPU tools for the settings dialog and the first-run wizard: probe the GPUs, show the fit plan for the chosen
model, and a short benchmark. Each runs on a lane with the settings as currently edited (not yet saved)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

from app.core.config import Settings
from app.ui.engines import EngineHub
from app.ui.errors import ErrorPresenter
from app.ui.job_progress import JobProgress
from app.ui.lifetime import while_alive
from app.ui.workers import Job, JobToken

if TYPE_CHECKING:
    from app.core.gpu.plan import FitPlan
    from app.core.gpu.probe import GpuProbe


def describe_probe(probe: GpuProbe) -> str:
    lines = [f"llama.cpp build: {probe.build} (GPU offload {'available' if probe.gpu_offload else 'not available'})"]
    if not probe.devices:
        lines.append("No GPU found: the model runs on the CPU.")
    for device in probe.devices:
        memory = f"{device.free_mib} of {device.total_mib} MiB free" if device.total_mib else "memory unknown"
        kind = "integrated" if device.integrated else "discrete"
        lines.append(f"GPU {device.index}: {device.name} ({device.gfx or '?'}, {kind}), {memory}")
    if probe.ram_total_mib:
        lines.append(f"RAM: {probe.ram_available_mib} of {probe.ram_total_mib} MiB available")
    lines += [f"Advice: {a}" for a in probe.advice]
    lines += [f"Warning: {w}" for w in probe.warnings]
    return "\n".join(lines)


def describe_plan(plan: FitPlan) -> str:
    # How GPUs share the model only means something with two or more of them ("split none" alone reads as an error).
    split = f"split {plan.split_mode} across {len(plan.devices)} GPUs; " if len(plan.devices) > 1 else ""
    lines = [
        f"Plan: {plan.summary}",
        f"Layers on the GPU: {plan.n_gpu_layers} of {plan.n_layers_total}; context {plan.n_ctx} tokens; "
        f"{split}backend {plan.backend}",
        f"Model {plan.model_mib} MiB, KV cache {plan.kv_mib} MiB, RAM needed {plan.ram_mib} MiB",
    ]
    for device in plan.devices:
        lines.append(f"  GPU {device.index} {device.name}: {device.layers} layers, {device.planned_mib} MiB planned "
                     f"of {device.free_mib} MiB free")
    lines += [f"Warning: {w}" for w in plan.warnings]
    return "\n".join(lines)


def _probe(settings: Settings, _token: JobToken) -> str:
    from app.core.gpu.probe import probe_gpus

    return describe_probe(probe_gpus(settings.gpu, refresh=True))


def _machine(settings: Settings, _token: JobToken) -> GpuProbe:
    """The probe as last taken (taken now the first time): the build and GPUs, for which settings apply."""
    from app.core.gpu.probe import probe_gpus

    return probe_gpus(settings.gpu)


def _plan(settings: Settings, models_dir: Path, _token: JobToken) -> str:
    from app.core.gpu.plan import plan_for_model
    from app.core.installed_models import locate

    if settings.llm.backend == "server":
        return "The language model runs on the clinic server: nothing to plan on this computer."
    return describe_plan(plan_for_model(locate(settings.llm.model, models_dir), settings.gpu))


def _benchmark(settings: Settings, models_dir: Path, token: JobToken) -> str:
    """llama-bench's measurements (prompt and generation speed per split mode) with these settings."""
    from app.core.gpu.bench import run_bench
    from app.core.installed_models import locate

    if settings.llm.backend == "server":
        return "The language model runs on the clinic server: benchmark it there."
    report = run_bench(locate(settings.llm.model, models_dir), settings.gpu, cancel=token, progress=token.emit)
    return report.table()


class GpuPanel(QWidget):
    reported = Signal(str)
    machine_known = Signal(object)  # GpuProbe: can this llama.cpp build offload, which GPUs (see `check_machine`)

    def __init__(
        self,
        hub: EngineHub,
        presenter: ErrorPresenter,
        current_settings: Callable[[], Settings | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("gpuPanel")
        self.hub = hub
        self.presenter = presenter
        self.current_settings = current_settings
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.probe_button = QPushButton("Probe GPUs")
        self.probe_button.setObjectName("probeGpus")
        self.plan_button = QPushButton("Show fit plan")
        self.plan_button.setObjectName("planGpus")
        self.bench_button = QPushButton("Benchmark")
        self.bench_button.setObjectName("benchGpus")
        self.bench_button.setToolTip("Prompt and generation speed of the model with these settings (llama-bench)")
        for button in (self.probe_button, self.plan_button, self.bench_button):
            button.setAccessibleName(button.text())
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        self.output = QPlainTextEdit()
        self.output.setObjectName("gpuReport")
        self.output.setAccessibleName("GPU report")
        self.output.setReadOnly(True)
        self.output.setMaximumHeight(160)
        self.output.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        layout.addWidget(self.output)
        self.progress = JobProgress("gpuProgress")
        layout.addWidget(self.progress)
        self.probe_button.clicked.connect(self.probe)
        self.plan_button.clicked.connect(self.plan)
        self.bench_button.clicked.connect(self.benchmark)

    def _settings(self) -> Settings | None:
        settings = self.current_settings()
        if settings is None:
            self.output.setPlainText("Fix the marked settings first.")
        return settings

    def _start(self, job: Job, text: str, doing: str) -> Job:
        self.progress.track(job, text)
        job.finished.connect(self._show)
        job.failed.connect(lambda exc: self.presenter.present(exc, doing))
        failed = f"{doing.capitalize()} failed"
        job.failed.connect(while_alive(self, lambda exc: self.output.setPlainText(f"{failed}: {exc}")))
        return job

    def _show(self, text: object) -> None:
        self.output.setPlainText(str(text))
        self.output.moveCursor(self.output.textCursor().MoveOperation.Start)
        self.reported.emit(str(text))

    def check_machine(self) -> Job:
        """Read the build and the GPUs on the tools lane (never on the GUI thread), show them and send them as
        `machine_known`. The probe taken earlier in this run is reused; **Probe GPUs** takes a fresh one."""
        settings = self.current_settings() or Settings()
        job = self.hub.run_on("tools", lambda t: _machine(settings, t), "reading the GPUs", slot="gpu-machine")
        self.output.setPlainText("Checking this computer's GPUs…")

        def known(probe: GpuProbe) -> None:
            if self.output.toPlainText() == "Checking this computer's GPUs…":
                self.output.setPlainText(describe_probe(probe))
            self.machine_known.emit(probe)

        # The dialog may close before the GPUs are read.
        job.finished.connect(while_alive(self, known))
        unread = "The GPUs could not be read"
        job.failed.connect(while_alive(self, lambda exc: self.output.setPlainText(f"{unread}: {exc}")))
        return job

    def probe(self) -> Job | None:
        settings = self._settings()
        if settings is None:
            return None
        job = self.hub.run_on("tools", lambda t: _probe(settings, t), "probing GPUs", slot="gpu-tool")
        return self._start(job, "Probing the GPUs…", "probing the GPUs")

    def plan(self) -> Job | None:
        settings = self._settings()
        if settings is None:
            return None
        models_dir = self.hub.models_dir
        job = self.hub.run_on("tools", lambda t: _plan(settings, models_dir, t), "planning", slot="gpu-tool")
        return self._start(job, "Planning where the model goes…", "planning the GPU use")

    def benchmark(self) -> Job | None:
        settings = self._settings()
        if settings is None:
            return None
        models_dir = self.hub.models_dir
        # On the LLM lane: llama.cpp work never runs beside the app's own generation.
        job = self.hub.run_on("llm", lambda t: _benchmark(settings, models_dir, t), "benchmark", slot="gpu-bench")
        job.yielded.connect(lambda message: self.progress.label.setText(str(message)))
        return self._start(job, "Benchmarking…", "benchmarking the model")

