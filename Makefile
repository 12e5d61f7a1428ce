# The README's first two commands: `make run` (install + start on the embedded default) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint setup-system clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/inkstream serve

# System packages the tests need (Chromium for browser tests, CJK + emoji fonts for the card renderer).
setup-system:
	@if ! command -v chromium >/dev/null || ! fc-list | grep -qi 'Noto Sans CJK' || ! fc-list | grep -qi 'Noto Color Emoji'; then \
		apt-get update -q && apt-get install -y -q chromium fonts-noto-cjk fonts-noto-color-emoji; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check inkstream tests

test: setup-system $(STAMP)
	$(BIN)/ruff check inkstream tests
	$(BIN)/pytest -q

clean:
	rm -rf $(VENV) inkstream-data .pytest_cache
