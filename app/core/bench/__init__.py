"""Benchmarks behind `clinic-assistant bench [STAGE]`.

Each stage module (`asr`, `redact`, `llm`, `tts`, `store`, `pipeline`, `grounding`) exposes
`run(request: BenchRequest) -> dict[str, Any]`: a flat-ish dict of figures (seconds, ratios, MiB), always with the
ratio against calling the underlying library directly in the same run, and `peak_rss_mib`.
"""
