# One-line entry points for a fresh machine: `make train` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: train test lint setup

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

setup: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev,torch,cluster]"

# Train a TwoLayerNet on the embedded digits (no download); results under runs/.
train: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	$(BIN)/handgrad train

# Lint, then the whole test suite (torch comparisons included).
test: setup
	$(BIN)/ruff check .
	MPLBACKEND=Agg $(BIN)/python -m pytest
