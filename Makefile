# Each target creates .venv and installs what it needs, so a fresh machine needs only python3 (>= 3.11) and make.
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-dev

.PHONY: run demo demo-zalo test test-postgres lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/fieldtally run

demo: $(STAMP)
	$(VENV)/bin/fieldtally demo

# The same drill with everyone on Zalo (its sandbox): invitation codes, links, a private chat.
demo-zalo: $(STAMP)
	$(VENV)/bin/fieldtally demo --channel zalo

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy bot handlers storage sandbox fieldtally

# Two workers, each taking whole test files (module fixtures stay in one process): most of
# the suite waits on real processes, servers and sockets rather than on the CPU.
test: lint
	$(VENV)/bin/pytest -q -n 2 --dist loadfile

# The conversation and end-to-end tests once more, with the bot on PostgreSQL (a throwaway
# server the tests start from the machine's PostgreSQL binaries; skipped, saying why, without).
test-postgres: $(STAMP)
	FIELDTALLY_TEST_BACKEND=postgresql $(VENV)/bin/pytest -q tests/test_conversation_*.py tests/test_e2e_*.py

# Every benchmark in a quick variant (~10 minutes on 2 cores), ending with one line per target
# of issue 19: `RESULT <name> <value> <unit> target <target> met|missed` (benchmarks/README.md).
bench: $(STAMP)
	$(PY) benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo-output try-output
