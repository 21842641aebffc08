"""AMD GPU support for the local LLM: probe (what llama.cpp and the ROCm tools see), fit planner (layers, context,
split that fit the free VRAM), row-split guard and benchmark. See docs/gpu.md.

Public entry points: `probe.probe_gpus()`, `plan.plan_for_model()`, `split_check.guard_row_split()`,
`bench.run_bench()`. Nothing here imports llama_cpp at module level.
"""
