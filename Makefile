# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test lint install clean bench serve notebooks figures

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall whenever the project's dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/karmayogi demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# The review UI's browser test drives Debian's Chromium (Playwright's own browser download cannot work here).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

test: $(STAMP) $(CHROMIUM)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 --dist loadfile

serve: $(STAMP)
	$(BIN)/karmayogi db upgrade
	$(BIN)/karmayogi serve

# Every headline figure in one table, each against its baseline from the same run; JSON under bench/results/.
bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# Every research notebook executed on the sample data into an HTML copy with its tables and plots, for a reader
# to open: var/notebooks/NAME.html (git-ignored, like all of var/; the notebooks are committed without outputs).
notebooks: $(STAMP)
	$(BIN)/jupyter nbconvert --to html --execute --ExecutePreprocessor.timeout=900 \
		--output-dir var/notebooks notebooks/*.ipynb
	@echo "open var/notebooks/*.html"

# The README's evaluation tables against the commands that print them (minutes of encoding): fails on drift.
figures: $(STAMP)
	KARMAYOGI_CHECK_FIGURES=1 $(BIN)/pytest -p no:xdist -q tests/test_eval_figures.py

clean:
	rm -rf var .pytest_cache .ruff_cache .mypy_cache
