# nianbao — every target installs what it needs first, so each works on a fresh machine.
#   make run    install, crawl the registered portals, build the archive, serve Datasette
#   make demo   the same against the bundled offline portal (no internet needed)
#   make test   install and run the test suite

VENV    ?= .venv
PYTHON  ?= python3
DB      ?= data/nianbao.db
PORT    ?= 8001
BIN      = $(VENV)/bin
PIP      = PYTHONWARNINGS=ignore $(BIN)/pip -qq --disable-pip-version-check  # errors only
# Debian packages, by what needs them. Crawling real portals: libreoffice-writer-nogui converts DOC/WPS
# attachments (without it those attachments are `parse` error rows; HTML, text, PDF, DOCX, XLS/XLSX and scans
# are read without it). The demo needs none. Tests: also chromium + chromium-driver and fonts-noto-cjk (the
# browser test), redis-server (distributed crawls), antiword and poppler-utils (the benchmarks' baselines).
RUN_DEBS  = libreoffice-writer-nogui
TEST_DEBS = $(RUN_DEBS) antiword poppler-utils chromium chromium-driver fonts-noto-cjk redis-server
APT_LOG   = $(VENV)/apt.log

.PHONY: install install-test run demo crawl serve test lint bench clean

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

$(VENV)/.installed: pyproject.toml
	@echo "installing nianbao into $(VENV) (pip, quiet)"
	@$(PYTHON) -m venv $(VENV)
	@$(PIP) install --upgrade pip
	@$(PIP) install -e .
	@touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	@echo "installing the test tools into $(VENV) (pip, quiet)"
	@$(PIP) install -e '.[test]'
	@touch $@

# debs-NAME installs the Debian packages in $(NAME_DEBS) that are missing, quietly (the log goes to $(APT_LOG)).
# Without root and without sudo it says which are missing and goes on: what needs them reports it when used.
debs-%: install
	@missing=""; for p in $($(shell echo $* | tr a-z A-Z)_DEBS); do \
		dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else \
		echo "not installed (needs root: apt-get install$$missing):"; \
		echo "  without libreoffice-writer-nogui, DOC/WPS attachments are recorded as parse errors;"; \
		echo "  without chromium/redis-server, the browser and distributed-crawl tests cannot run."; \
		exit 0; fi; \
	echo "installing Debian packages:$$missing (log: $(APT_LOG))"; \
	$$sudo apt-get update -qq >$(APT_LOG) 2>&1 && \
	DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing >>$(APT_LOG) 2>&1 \
		|| { echo "apt-get failed: see $(APT_LOG)"; exit 1; }

# A crawl that reached no portal exits 1 here; one that archived reports is served even when some portal failed
# (its message says which).
run: install debs-run
	@$(BIN)/nianbao crawl --db $(DB) || $(BIN)/python -c "import sqlite3, sys; \
		sys.exit(0 if sqlite3.connect('$(DB)').execute('SELECT count(*) FROM report_summary').fetchone()[0] else 1)"
	$(BIN)/nianbao serve --db $(DB) --port $(PORT)

demo: install
	$(BIN)/nianbao demo --db data/demo.db --port $(PORT)

crawl: install debs-run
	$(BIN)/nianbao crawl --db $(DB)

serve: install
	$(BIN)/nianbao serve --db $(DB) --port $(PORT)

test: install-test debs-test
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install-test debs-test
	$(BIN)/python bench/bench_parse.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
