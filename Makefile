# nianbao — every target installs what it needs first, so each works on a fresh machine.
#   make run    install, crawl the registered portals, build the archive, serve Datasette
#   make demo   the same against the bundled offline portal (no internet needed)
#   make test   install and run the test suite

VENV    ?= .venv
PYTHON  ?= python3
DB      ?= data/nianbao.db
PORT    ?= 8001
BIN      = $(VENV)/bin
SUDO     = $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages: libreoffice-writer-nogui converts DOC/WPS (headless) for the DOCX reader; antiword and
# poppler-utils (pdftotext) are the benchmarks' baselines; chromium + chromium-driver run the browser test, and
# fonts-noto-cjk lets it draw Chinese (its screenshots are in docs/screenshots/);
# redis-server is the shared frontier of distributed crawls (the two-worker test starts its own).
DEBS     = libreoffice-writer-nogui antiword poppler-utils chromium chromium-driver fonts-noto-cjk redis-server

.PHONY: install system-deps run demo crawl serve test lint bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

system-deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

run: install system-deps
	$(BIN)/nianbao crawl --db $(DB)
	$(BIN)/nianbao serve --db $(DB) --port $(PORT)

demo: install system-deps
	$(BIN)/nianbao demo --db data/demo.db --port $(PORT)

crawl: install
	$(BIN)/nianbao crawl --db $(DB)

serve: install
	$(BIN)/nianbao serve --db $(DB) --port $(PORT)

test: install system-deps
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: install system-deps
	$(BIN)/python bench/bench_parse.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
