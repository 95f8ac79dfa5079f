# The two commands the README promises: `make test` and `make demo`.
# Both create .venv, install sm_explorer with its extras, and (as root) the
# system tools the tests use. Other targets: protos, lint, bench, fuzz.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
IS_ROOT := $(shell [ "$$(id -u)" = 0 ] && echo yes)

.PHONY: setup system test demo protos lint bench clean

$(STAMP): pyproject.toml
	@if [ ! -x $(PY) ]; then \
	  $(PYTHON) -m venv $(VENV) 2>/dev/null || { \
	    [ "$(IS_ROOT)" = yes ] && apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; \
	    rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }; \
	fi
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,tf]'
	@touch $(STAMP)

# System packages: Graphviz's dot (rendering tests). Installed only as root.
system:
	@if [ "$(IS_ROOT)" = yes ] && ! command -v dot >/dev/null; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz >/dev/null; \
	fi

setup: $(STAMP) system

test: setup
	$(PY) -m pytest -q

demo: setup
	$(VENV)/bin/sm-explorer show sm_explorer/examples/keras3_export

protos: $(STAMP)
	$(PY) tools/gen_protos.py

lint: $(STAMP)
	$(PY) -m ruff check .

bench: setup
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .cache build *.egg-info
