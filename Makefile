# Two commands on a fresh machine:  make demo  (the case study on synthetic data)
#                                   make test  (the test suite, as CI runs it)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= outputs/demo

.PHONY: demo test lint release course-check install-demo install-test clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install-demo: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[tf,course]"

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"

demo: install-demo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/casekit demo --out $(OUT)

test: install-test
	$(BIN)/ruff check casekit tests
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -n 2 --dist loadgroup --durations=20

# Regenerate the student release notebooks/ from solutions/ (commit the result).
release: install-demo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m casekit.course release

# Release up to date, no solution text leaked, rubrics match the notebooks.
course-check: install-demo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m casekit.course check

lint: install-test
	$(BIN)/ruff check casekit tests

clean:
	rm -rf $(VENV) outputs .pytest_cache
