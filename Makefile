# PeerMatch: `make run` starts the demo, `make test` runs every check. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := peermatch/static/vendor

.PHONY: run test test-suite test-fast lint format setup assets db demo clean bench bench-decline

run: setup assets db
	$(BIN)/peermatch serve

LINTED := peermatch tests data/demo

# pytest-xdist workers: each has its own database (a SQLite file, or test_gw0... beside the
# PostgreSQL database). WORKERS=0 runs in one process.
WORKERS ?= 2
PYTEST := $(BIN)/pytest -n $(WORKERS)
# pytest's exit 5 means it ran no test at all: say so rather than fail without a word.
NO_TESTS := { rc=$$?; [ $$rc -ne 5 ] || echo "pytest ran no tests (exit 5)" >&2; exit $$rc; }

# Every check: lint, then the whole suite (SQLite, or PEERMATCH_TEST_DATABASE_URL's database).
test: lint test-suite

# The whole suite without lint (CI's PostgreSQL pass adds PYTEST_ARGS=--database-only).
test-suite: setup assets
	$(PYTEST) $(PYTEST_ARGS) || $(NO_TESTS)

# The edit-run loop: SQLite only, no browser tests, no lint.
test-fast: setup
	env -u PEERMATCH_TEST_DATABASE_URL $(PYTEST) -m "not browser" $(PYTEST_ARGS) || $(NO_TESTS)

# The same checks run by .pre-commit-config.yaml.
lint: setup
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format $(LINTED)
	$(BIN)/ruff check --fix $(LINTED)

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Front-end assets come from the npm registry by package name; never copied by hand.
assets: $(VENDOR)/.installed

$(VENDOR)/.installed: package.json
	npm install --no-audit --no-fund --silent
	rm -rf $(VENDOR) && mkdir -p $(VENDOR)/govuk $(VENDOR)/htmx $(VENDOR)/swagger
	cp -R node_modules/govuk-frontend/dist/govuk/assets $(VENDOR)/govuk/assets
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css $(VENDOR)/govuk/
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js $(VENDOR)/govuk/
	cp node_modules/htmx.org/dist/htmx.min.js $(VENDOR)/htmx/
	cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/swagger/
	touch $@

db: setup
	$(BIN)/peermatch db upgrade
	$(BIN)/peermatch seed demo

bench: setup
	$(BIN)/python tests/benchmarks/bench_matching.py

# A decline's POST and its automatic replacement on a national-size region (issue 14).
bench-decline: setup
	nice $(BIN)/python tests/benchmarks/bench_decline.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) node_modules $(VENDOR) .pytest_cache .mypy_cache .ruff_cache
