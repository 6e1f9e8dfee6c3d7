"""The channels and the process: each platform's adapter in its own folder (`telegram/`), the
in-memory channel for tests (`memory.py`), the one HTTP server, and the wiring (`run.py`)."""
