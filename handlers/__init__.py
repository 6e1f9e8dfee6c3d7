"""Telegram-facing layer: turns updates into core calls and core answers into messages."""
