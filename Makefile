# SeatLedger: `make run` installs into .venv and opens the app; `make test` runs every check headless.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint bench reference package clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/seatledger $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench packaging
	$(BIN)/ruff format --check src tests bench packaging
	cd src && ../$(BIN)/mypy --strict -p seatledger
	$(BIN)/lint-imports

# A worker per core, each running a test file at a time (PYTEST_JOBS= for one process).
PYTEST_JOBS ?= -n auto --dist loadfile
test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest $(PYTEST_JOBS) $(PYTEST_ARGS)

# The position against the reference model on many more drawn organizations (3,000 by default;
# REFERENCE_EXAMPLES=100000 for the issue's long run).
REFERENCE_EXAMPLES ?= 3000
reference: $(STAMP)
	SEATLEDGER_REFERENCE_EXAMPLES=$(REFERENCE_EXAMPLES) QT_QPA_PLATFORM=offscreen \
		$(BIN)/python -m pytest -q tests/services/test_position_reference.py -k many_more

# ENGINE=postgresql: the large demo's figures on a throwaway PostgreSQL cluster, beside SQLite's.
bench: $(STAMP)
ifeq ($(ENGINE),postgresql)
	$(BIN)/python bench/pg.py $(BENCH_ARGS)
else
	$(BIN)/python bench/run.py $(BENCH_ARGS)
endif

# A frozen one-folder build that runs without Python (PyInstaller, packaging/seatledger.spec),
# packed with its desktop entry, AppStream metadata and icons into dist/seatledger-*.tar.gz,
# then smoke-tested (packaging/smoke.py: --version, a demo, ledger verify, audit run + verify,
# the windows).
PACKAGE_STAMP := $(VENV)/.package-installed
$(PACKAGE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,package]'
	touch $(PACKAGE_STAMP)

package: $(PACKAGE_STAMP)
	rm -rf dist/seatledger build/pyinstaller
	$(BIN)/pyinstaller --noconfirm --log-level WARN --distpath dist --workpath build/pyinstaller \
		packaging/seatledger.spec
	$(BIN)/python packaging/archive.py dist/seatledger
	$(BIN)/python packaging/smoke.py dist/seatledger/seatledger

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
