# Cartera: `make run` serves the app with demo data; `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/cartera
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

export CARTERA_HTTPS ?= 0

.PHONY: run install test lint types migrations deploy-check messages test-sqlite test-postgres \
	test-e2e bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Without a mail server configured, `make run` keeps the e-mails it would send in var/mail/.
run: export EMAIL_URL := $(if $(strip $(EMAIL_URL)$(EMAIL_HOST)$(EMAIL_BACKEND)),$(EMAIL_URL),file://$(CURDIR)/var/mail)
run: install
	$(BIN)/cartera migrate --noinput -v0
	$(BIN)/cartera demo --if-empty
	@echo ""
	@echo "  Cartera is starting on http://127.0.0.1:$(PORT)/"
	@echo "  Log in as admin / admin (change the password under your name, top right)."
	@echo "  Salespeople of the demo: lucia, mateo, valentina... with password demo-cartera."
	@echo "  Background jobs run in 'cartera worker', started beside the server."
	@$(if $(filter file://$(CURDIR)/var/mail,$(EMAIL_URL)),echo "  E-mails (the daily digest) are saved in var/mail/ and not sent; set EMAIL_URL to send them.",true)
	@echo ""
	@# The worker runs in the background and is stopped (SIGTERM) when the server stops.
	$(BIN)/cartera worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/cartera serve --no-migrate --port $(PORT)

test: install lint types migrations deploy-check test-sqlite test-postgres test-e2e

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy cartera

migrations: install
	CARTERA_DATA_DIR=$$(mktemp -d) $(BIN)/cartera makemigrations --check --dry-run

deploy-check: install
	DEBUG=0 CARTERA_HTTPS=1 ALLOWED_HOSTS=cartera.example.com \
	SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(60))') \
	CARTERA_DATA_DIR=$$(mktemp -d) $(BIN)/cartera check --deploy --fail-level WARNING

# Refresh the translation catalogues after changing user-facing strings.
messages: install
	$(BIN)/cartera makemessages -l es -l en --no-obsolete --ignore '.venv/*' \
		--ignore 'tests/*' --ignore 'bench/*' --ignore 'build/*' --add-location file
	$(BIN)/cartera compilemessages --ignore '.venv/*'

test-sqlite: install
	$(BIN)/pytest -m "not e2e"

test-postgres: install
	DATABASE_URL=$(PG_URL) $(BIN)/pytest -m "not e2e"

test-e2e: install
	$(BIN)/pytest -m e2e tests/e2e

# make bench [SIZE=100000] [DB=sqlite|postgres] [REQUESTS=200]: see bench/README.md.
bench: install
	$(BIN)/python bench/run.py $(if $(SIZE),--size $(SIZE)) $(if $(DB),--db $(DB)) \
		$(if $(REQUESTS),--requests $(REQUESTS))
	$(BIN)/python bench/activity_bench.py --size $(or $(SIZE),100000) $(if $(DB),--db $(DB))
	$(BIN)/python bench/duplicates_bench.py --size $(or $(SIZE),100000) $(if $(DB),--db $(DB))
	$(BIN)/python bench/import_bench.py $(if $(DB),--db $(DB))
	$(BIN)/python bench/dashboard_bench.py --size $(or $(SIZE),100000) $(if $(DB),--db $(DB))

clean:
	rm -rf $(VENV) var build *.egg-info
