# ipclassifier — the commands the README documents. `make help` lists them.
SHELL := /bin/bash
PYTHON ?= python3
GO ?= go
export PYTHONPATH := $(CURDIR)/python$(if $(PYTHONPATH),:$(PYTHONPATH))
# Where `make run` keeps its snapshots and cache; empty = the engine default
# ($$IPCLASSIFIER_DATA_DIR, else $$XDG_CACHE_HOME/ipclassifier, else ~/.cache/ipclassifier).
RUN_DATA_DIR ?=
RUN_ARGS = $(if $(RUN_DATA_DIR),--data-dir $(RUN_DATA_DIR))
EXAMPLE ?= examples/attackers.txt
BENCH_DIR := .bench
# Go build tags: libsqlite3 when build.sh links the system SQLite, so the Go
# tests run on the SQLite the library ships with (IPCLASSIFIER_SQLITE).
GO_TAGS ?= $(shell bash build.sh --go-tags)

.PHONY: help build run demo test test-go test-py bench lint deps clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-9s %s\n", $$1, $$2}'

build: ## build the Go engine as a c-shared library into the Python package
	@bash build.sh

deps: ## install the Python packages the tests need (no-op when present)
	@$(PYTHON) -c 'import pytest, sqlalchemy, psycopg2, matplotlib' 2>/dev/null || $(PYTHON) -m pip install -q -r requirements-dev.txt

run: build ## refresh the sources (offline: says so, keeps its snapshots) and classify examples/attackers.txt
	@$(PYTHON) -m ipclassifier $(RUN_ARGS) refresh all --summary || true
	@$(PYTHON) -m ipclassifier $(RUN_ARGS) classify - < $(EXAMPLE)

demo: build ## `make run` offline: the real snapshots in ../shared/data stand in for the public sources
	@PYTHON=$(PYTHON) bash scripts/demo.sh

test: deps build test-go test-py ## run every Go and Python test (race detector on)

test-go:
	$(GO) vet -tags "$(GO_TAGS)" ./...
	$(GO) test -race -count=1 -tags "$(GO_TAGS)" ./...

test-py:
	$(PYTHON) -m pytest -q tests_py

bench: deps build ## run the Go and Python benchmarks on ../shared/data and print a table
	@mkdir -p $(BENCH_DIR)
	$(GO) test -run '^$$' -bench . -benchtime 1s -count 1 -tags "$(GO_TAGS)" ./... | tee $(BENCH_DIR)/go.txt
	$(PYTHON) tests_py/bench_classify.py --json $(BENCH_DIR)/py.json
	@$(PYTHON) scripts/bench_table.py $(BENCH_DIR)/go.txt $(BENCH_DIR)/py.json

lint: ## gofmt, go vet, and mypy when installed
	@test -z "$$(gofmt -l classifier capi tests_go)" || { gofmt -l classifier capi tests_go; exit 1; }
	$(GO) vet -tags "$(GO_TAGS)" ./...
	@if $(PYTHON) -m mypy --version >/dev/null 2>&1; then $(PYTHON) -m mypy --strict python/ipclassifier; else echo "mypy not installed: skipped"; fi

clean: ## remove build outputs and benchmark results (not the data directory)
	rm -rf python/ipclassifier/_lib/*.so python/ipclassifier/_lib/*.h build dist *.egg-info $(BENCH_DIR)
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
