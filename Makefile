# Two set-up commands: `make demo` and `make test`. Each creates .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint install clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@# CPU machines get CPU torch: a local +cpu wheel if one is on offer, else PyTorch's CPU index.
	@if command -v nvidia-smi >/dev/null 2>&1; then \
		$(BIN)/pip install -q "torch>=2.1,<3"; \
	else \
		$(BIN)/pip install -q "torch==2.13.0+cpu" 2>/dev/null || \
		$(BIN)/pip install -q torch --index-url https://download.pytorch.org/whl/cpu; \
	fi
	$(BIN)/pip install -q -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/xstilts demo

test: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests
	$(BIN)/lint-imports
	$(BIN)/ruff format --check src tests

clean:
	rm -rf $(VENV) build *.egg-info
