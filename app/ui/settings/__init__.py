"""The settings dialog, generated from app.core.config's settings model."""
