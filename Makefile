# Two commands on a fresh machine:  make demo  (the case study on synthetic data)
#                                   make test  (the test suite, as CI runs it)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= outputs/demo
UV     := $(BIN)/uv
# Run again against the lowest versions pyproject.toml allows and a Colab-like set of pins
# (.ci/constraints-colab.txt), each in its own venv, so a declared minimum is a tested one.
COMPAT_TESTS ?= tests/test_splits.py tests/test_metrics.py tests/test_metric_inputs.py \
                tests/test_images.py tests/test_loaders.py

.PHONY: demo test test-lowest test-colab lint release course-check install-demo install-test clean \
        publish browser sandbox

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install-demo: $(BIN)/python
	@$(BIN)/python -m pip install --quiet -e ".[tf,course]"

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"

demo: install-demo
	@PATH="$(abspath $(BIN)):$$PATH" $(BIN)/casekit-course demo --out $(OUT)

test: install-test browser sandbox
	$(BIN)/ruff check casekit casekit_course tests
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python -m pytest -n 2 --dist loadgroup --durations=20
	$(MAKE) test-lowest test-colab

$(UV): $(BIN)/python
	$(BIN)/python -m pip install --quiet "uv>=0.5"

# compat_run(venv, resolver options): resolve pyproject's test extra with those options,
# make the venv hold exactly that (uv pip sync), run the fast, non-slow COMPAT_TESTS.
define compat_run
	$(UV) venv --quiet --seed --allow-existing --python $(PYTHON) $(1)
	$(UV) pip compile --quiet pyproject.toml --extra test $(2) --python $(1)/bin/python \
		-o $(1)/requirements.txt
	$(UV) pip sync --quiet --python $(1)/bin/python $(1)/requirements.txt
	$(UV) pip install --quiet --no-deps --python $(1)/bin/python -e .
	PATH="$(abspath $(1))/bin:$$PATH" $(1)/bin/python -m pytest -m "not slow" -n 2 \
		--dist loadgroup -q -p no:cacheprovider --durations=5 $(COMPAT_TESTS)
endef

test-lowest: $(UV)
	$(call compat_run,.venv-lowest,--resolution lowest-direct)

test-colab: $(UV)
	$(call compat_run,.venv-colab,--constraint .ci/constraints-colab.txt)

# Regenerate the student release notebooks/ from solutions/ (commit the result).
release: install-demo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/casekit-course release

# Release up to date, no solution text leaked, rubrics match the notebooks.
course-check: install-demo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/casekit-course check

lint: install-test
	$(BIN)/ruff check casekit casekit_course tests

# What the build, the tests and the demo made here; casekit's regenerable data too (image
# caches and synthetic data, `casekit clean`). Training runs and real datasets stay unless
# asked: make clean CLEAN_DATA=1. Every removal is printed.
clean:
	@if [ -x $(BIN)/casekit ]; then $(BIN)/casekit clean $(if $(CLEAN_DATA),--all,); fi
	@for path in $(VENV) .venv-lowest .venv-colab outputs .pytest_cache; do \
		if [ -e "$$path" ]; then rm -rf "$$path" && echo "make clean: removed $$path"; fi; \
	done

# The public student repository (release, package, student README; no solutions, hidden
# tests or rubrics): make publish DEST=../casekit-students, then commit and push it there.
DEST ?= ../casekit-students
publish: install-demo
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/casekit-course publish $(DEST)

# The browser test (tests/test_browser.py) drives Debian's Chromium with its driver:
# installed here when missing and running as root, else say how.
browser:
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "make test: installing chromium and chromium-driver (apt-get)"; \
			apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null; \
		else \
			echo "make test: the browser test needs Chromium: sudo apt-get install chromium chromium-driver"; \
		fi; \
	fi

# Autograding runs each submission's kernel in a bubblewrap sandbox (casekit_course.sandbox):
# installed here when missing and running as root, else say how.
sandbox:
	@if ! command -v bwrap >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "make test: installing bubblewrap (apt-get)"; \
			apt-get update -qq && apt-get install -y -qq bubblewrap >/dev/null; \
		else \
			echo "make test: the grading sandbox needs bubblewrap: sudo apt-get install bubblewrap"; \
		fi; \
	fi
