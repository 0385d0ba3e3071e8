# portique — `make run` starts a simulated gate, `make test` runs the tests.
# Both set up everything they need first (Debian packages, virtual environment).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SIM    := var/sim

.PHONY: all setup run test lint bench clean

all: test

$(STAMP): pyproject.toml provisioning/dev-setup.sh
	PYTHON=$(PYTHON) VENV=$(VENV) sh provisioning/dev-setup.sh
	touch $(STAMP)

setup: $(STAMP)

run: $(STAMP)
	$(BIN)/portique demo --out $(SIM)/demo
	$(BIN)/portique run --config provisioning/simulation.toml

test: $(STAMP) lint
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --quiet . || { echo "ruff format would change files: run '$(BIN)/ruff format .'"; exit 1; }

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) build var .pytest_cache .ruff_cache
