"""The language-model layer: a `LanguageModel` protocol (base.py), llama.cpp in process (llama_local.py), a clinic
OpenAI-compatible server (openai_server.py), and clinical drafting on top (prompts, notes, context, drafting)."""
