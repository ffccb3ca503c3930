# Two commands set everything up: `make run` (install, index the sample corpus, serve)
# and `make test` (install, lint, type-check, test). Both create .venv on first use.
# `make test-fast`: the tests without the real models or a browser (markers e2e, slow),
# for the edit-test loop; `make test` (what .ci/run calls) runs them all.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install run test test-fast lint typecheck evaluate clean

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The CPU build of torch first: any other torch spec pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/docqa index --sample
	# The readers' ONNX graphs, exported once with torch, so the server never exports.
	$(BIN)/python -m retriever.answer.reader_graph
	$(BIN)/docqa serve

lint: install
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

test: install lint typecheck
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest

test-fast: install
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(BIN)/python -m pytest -m "not e2e and not slow"

evaluate: install
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/evaluate.py ../shared/data/squad-v1.1-dev

clean:
	rm -rf $(VENV) .docqa .cache
