# Two entry points for a fresh clone: `make run` and `make test` (each creates .venv and installs first).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: install run test browser bench clean constraints-latest test-latest

$(STAMP): pyproject.toml requirements/constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first and pinned: this machine serves a CPU build from disk; unpinned, pip pulls a multi-GB CUDA build
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -c requirements/constraints.txt -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

# The newest versions pyproject.toml's ranges allow, in a venv of their own (.venv-latest), so that a new release
# of prefect, polars, ... breaking us is seen before users see it. `make constraints-latest` resolves them anew
# (torch stays the CPU build 2.13.0: the one build this machine kind serves from disk) and writes them to
# requirements/constraints-latest.txt; `make test-latest` installs exactly that set and runs the whole suite.
LATEST := .venv-latest
LATEST_STAMP := $(LATEST)/.installed

define latest_venv
	rm -rf $(LATEST)
	$(PYTHON) -m venv $(LATEST)
	$(LATEST)/bin/pip install --quiet --upgrade pip
	$(LATEST)/bin/pip install --quiet torch==2.13.0
endef

constraints-latest:
	$(latest_venv)
	echo torch==2.13.0 > $(LATEST)/torch-constraint.txt
	$(LATEST)/bin/pip install --quiet --upgrade --upgrade-strategy eager -c $(LATEST)/torch-constraint.txt -e '.[dev]'
	( echo "# The newest versions the ranges in pyproject.toml allowed on $$(date -u +%F) (make constraints-latest)."; \
	  echo "# make test-latest installs exactly these and runs the test suite; requirements/constraints.txt is the"; \
	  echo "# set make install uses."; \
	  $(LATEST)/bin/pip freeze --exclude-editable | sed 's/^torch==2.13.0+cpu$$/torch==2.13.0/' ) \
	  > requirements/constraints-latest.txt
	touch $(LATEST_STAMP)

$(LATEST_STAMP): pyproject.toml requirements/constraints-latest.txt
	$(latest_venv)
	$(LATEST)/bin/pip install --quiet -c requirements/constraints-latest.txt -e '.[dev]'
	touch $(LATEST_STAMP)

test-latest: $(LATEST_STAMP) browser
	$(LATEST)/bin/python -m pytest $(PYTEST_ARGS)

# The daily pipeline. Over an empty data root it first imports the sample corpus of ../shared/data/arxiv when that
# is there (history comes from a backfill; the harvest only adds recent days). Options: make run ARGS=--no-harvest
# Without a network (arXiv's host does not resolve) it runs offline, saying so; the CLI itself never guesses.
SAMPLE ?= ../shared/data/arxiv
ARXIV_HOST ?= oaipmh.arxiv.org
run: install
	@if [ -d "$(SAMPLE)" ] && ! $(BIN)/arxiv-trends status --json | grep -q '"papers": [1-9]'; then \
		echo "empty warehouse: importing the sample corpus in $(SAMPLE) first"; \
		$(BIN)/arxiv-trends backfill "$(SAMPLE)"; fi
	@if [ -z "$(ARGS)" ] && ! getent hosts $(ARXIV_HOST) >/dev/null 2>&1; then \
		echo "no network here ($(ARXIV_HOST) does not resolve): running offline with --no-harvest"; \
		$(BIN)/arxiv-trends run --no-harvest; \
	else $(BIN)/arxiv-trends run $(ARGS); fi

# Headless Chromium for the report browser tests: installed from Debian's packages where we can (root + apt),
# otherwise those tests skip and say why.
browser:
	@if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then \
		echo "chromium: $$(command -v chromium || command -v chromium-browser)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
		|| echo "could not install chromium: browser tests will be skipped"; \
	else echo "chromium not found and not installable here: browser tests will be skipped"; fi

test: install browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/backfill.py

clean:
	rm -rf $(VENV) $(LATEST) .pytest_cache
