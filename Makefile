# portique — `make run` starts a simulated gate, `make test` runs the tests.
# Both set up everything they need first (Debian packages, virtual environment).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SIM    := var/sim
TOOLS  := .tools
UV     := $(TOOLS)/bin/uv

LOCALE := firmware/display/locale
CONSOLE_LOCALE := hub/console/locale
LANGS  := fr de en

.PHONY: all setup lock upgrade run test lint bench i18n screenshots clean

all: test

# Every Python package comes from uv.lock (exact versions and hashes).
$(STAMP): pyproject.toml uv.lock provisioning/dev-setup.sh provisioning/uv-requirements.txt
	PYTHON=$(PYTHON) VENV=$(VENV) TOOLS=$(TOOLS) sh provisioning/dev-setup.sh
	touch $(STAMP)

setup: $(STAMP)

# After a change to pyproject.toml: write uv.lock again, keeping every version
# already locked that still fits (`make upgrade` takes the newest that fit).
lock:
	PYTHON=$(PYTHON) TOOLS=$(TOOLS) sh provisioning/uv-bootstrap.sh
	UV_PYTHON_DOWNLOADS=never $(UV) lock --python $(PYTHON)

upgrade:
	PYTHON=$(PYTHON) TOOLS=$(TOOLS) sh provisioning/uv-bootstrap.sh
	UV_PYTHON_DOWNLOADS=never $(UV) lock --upgrade --python $(PYTHON)

run: $(STAMP)
	$(BIN)/portique demo --out $(SIM)/demo
	$(BIN)/portique run --config provisioning/simulation.toml

# Test files spread over the machine's cores (at most 4: each worker starts its own
# mosquitto, PostgreSQL and chromium); a file's tests stay on one worker, in order.
test: $(STAMP) lint
	$(BIN)/pytest --numprocesses auto --maxprocesses 4 --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check --quiet . || { echo "ruff format would change files: run '$(BIN)/ruff format .'"; exit 1; }

# Extract the screen's words into the template, merge it into each language's
# catalogue (translate what is new there), and compile the catalogues (.mo,
# committed, so a gate installed with pip needs no Babel at build time).
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output \
		--project portique --copyright-holder "portique contributors" -o $(LOCALE)/portique.pot .
	for lang in $(LANGS); do \
		$(BIN)/pybabel update -i $(LOCALE)/portique.pot -d $(LOCALE) -D portique -l $$lang \
			--no-fuzzy-matching --width 100; \
	done
	$(BIN)/pybabel compile -d $(LOCALE) -D portique --statistics
	# The office's web console has its own catalogue (pages and messages).
	$(BIN)/pybabel extract -F hub/console/babel.cfg --no-location --sort-output \
		--project portique-console --copyright-holder "portique contributors" \
		-o $(CONSOLE_LOCALE)/console.pot .
	for lang in $(LANGS); do \
		$(BIN)/pybabel update -i $(CONSOLE_LOCALE)/console.pot -d $(CONSOLE_LOCALE) -D console \
			-l $$lang --no-fuzzy-matching --width 100; \
	done
	$(BIN)/pybabel compile -d $(CONSOLE_LOCALE) -D console --statistics

# The screenshots the README shows (every screen: `portique screenshot --screen all`).
screenshots: $(STAMP)
	for screen in idle duo admitted_again refused staff_refused staff_login staff_menu figures status_stale; do \
		$(BIN)/portique screenshot --screen $$screen --lang en --out docs/screens/$$screen-en.png; \
	done
	$(BIN)/portique screenshot --screen children --lang fr --out docs/screens/children-fr.png
	$(BIN)/portique screenshot --screen paper_pass --lang de --out docs/screens/paper_pass-de.png
	$(BIN)/portique screenshot --screen access_code --lang en --out docs/screens/access_code-en.png
	$(BIN)/portique screenshot --screen access_code_refused --lang fr --out docs/screens/access_code_refused-fr.png
	$(BIN)/portique screenshot --screen staff_menu_technician --lang de --out docs/screens/staff_menu_technician-de.png
	# The same layout on a 1280×800 panel: everything larger, nothing moved about.
	$(BIN)/portique screenshot --screen children --lang de --size 1280x800 --out docs/screens/children-de-1280x800.png
	$(BIN)/portique screenshot --screen staff_refused --lang fr --size 1280x800 --out docs/screens/staff_refused-fr-1280x800.png
	for screen in desk_home desk_pass desk_category desk_payment desk_done desk_till desk_statistics; do \
		$(BIN)/portique screenshot --screen $$screen --lang en --out docs/screens/$$screen-en.png; \
	done
	$(BIN)/portique screenshot --screen desk_payment --lang fr --out docs/screens/desk_payment-fr.png
	# The office's web console, photographed by headless chromium over a sample hub.
	$(BIN)/python tests/console_screenshots.py docs/screens

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(TOOLS) build var .pytest_cache .ruff_cache
