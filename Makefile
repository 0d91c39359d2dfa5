# The few commands a contributor needs. `make demo` and `make test` are the README's two.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export UV_PROJECT_ENVIRONMENT := $(abspath $(VENV))
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/cmms
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
AXE := node_modules/axe-core/axe.min.js

.PHONY: install demo test test-fast test-sqlite lint fmt check smoke bench bench-quick mutation

install: $(VENV)/.installed $(AXE)

$(VENV)/.installed: pyproject.toml uv.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check "uv==0.13.9"
	$(BIN)/uv sync --frozen --inexact --python $(BIN)/python
	touch $@

# axe-core for the browser tests' accessibility checks, exactly as package-lock.json pins it;
# again only when it is missing or the lock changed (npm's files carry old dates: touch).
$(AXE): package.json package-lock.json
	@command -v npm >/dev/null || { echo "make install: npm not found; the browser tests need it for axe-core (apt-get install npm)" >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

## Start the embedded demo (SQLite, tasks in-process) with demo data on http://127.0.0.1:8000,
## beat's fleet checks in-process and a simulated gateway (docs/fleet-simulator.md)
demo: $(VENV)/.installed  # the demo needs no npm
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_demo 127.0.0.1:8000

## Run the whole test suite against PostgreSQL and Redis (slow tests included)
test: install
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest

## Only the fast tests
test-fast: install
	DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -m "not slow"

## The SQLite code paths (the README's demo runs on SQLite): the fast tests of the packages that
## reach every `connection.vendor` branch, on an in-memory SQLite database. Tests marked
## `postgresql` (concurrent writers, row locks) are skipped there with their reason.
SQLITE_TESTS ?= tests/test_demo.py tests/alerts tests/pipeline tests/pm tests/tech tests/workorders \
    tests/assets tests/fleet tests/reports tests/contracts tests/monitoring tests/condition
test-sqlite: install
	DATABASE_URL=sqlite:///:memory: TEST_REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -m "not slow" $(SQLITE_TESTS)

## Mutation testing (Cosmic Ray, scripts/mutation.py): signing, lifecycle, PM schedule, alert
## schema with their own tests; fails under MUTATION_THRESHOLD % killed. CI: UNITS="signing lifecycle"
UNITS ?= --all
MUTATION_THRESHOLD ?= 90
mutation: install
	DATABASE_URL=$(TEST_DATABASE_URL) $(BIN)/python scripts/mutation.py $(UNITS) --threshold $(MUTATION_THRESHOLD)

## Style, format, and the apps' layers (import-linter contracts in pyproject.toml)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

## Benchmarks on the real stack (gunicorn, Celery, PostgreSQL, Redis): BENCHMARKS.md, bench/results/
bench: install
	$(BIN)/python -m bench

## The same at small scale, as CI runs it (must work; targets are not checked)
bench-quick: install
	$(BIN)/python -m bench --quick

## The embedded demo path: SQLite migrate + seed_demo + requests (no PostgreSQL needed)
smoke: $(VENV)/.installed
	$(BIN)/python scripts/smoke_demo.py
