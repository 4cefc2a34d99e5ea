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

WHEEL_DIR := dist

.PHONY: help build baseline run demo test test-go test-py test-oldest bench fuzz lint deps wheel wheel-check clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-11s %s\n", $$1, $$2}'

build: ## build the Go engine as a c-shared library into the Python package
	@bash build.sh

baseline: ## rebuild python/ipclassifier/_baseline (the bundled dated lists, NOTICE) from ../shared/data
	$(GO) run ./scripts/baseline -data $(or $(SHARED_DATA),../shared/data) -out python/ipclassifier/_baseline

deps: ## install the Python packages of the test and lint extras of pyproject.toml (no-op when present)
	@reqs="$$($(PYTHON) scripts/extras.py test lint)" && { [ -z "$$reqs" ] || $(PYTHON) -m pip install -q $$reqs; }

run: build ## refresh the sources (offline: says so, keeps its snapshots) and classify examples/attackers.txt
	@$(PYTHON) -m ipclassifier $(RUN_ARGS) refresh all --summary || true
	@$(PYTHON) -m ipclassifier $(RUN_ARGS) classify - < $(EXAMPLE)

demo: build ## `make run` offline: the real snapshots in ../shared/data stand in for the public sources
	@PYTHON=$(PYTHON) bash scripts/demo.sh

test: deps build test-go test-py ## run every Go and Python test (race detector on)

test-go: ## the Go tests (race detector on)
	$(GO) vet -tags "$(GO_TAGS)" ./...
	$(GO) test -race -count=1 -tags "$(GO_TAGS)" ./...

test-py: ## the Python tests (after make build)
	$(PYTHON) -m pytest -q tests_py

test-oldest: build ## the Python tests on Python 3.9, the oldest supported, when the machine has it (.ci/run runs it)
	@bash scripts/test-oldest-python.sh

bench: deps build ## run the Go and Python benchmarks on ../shared/data and print a table
	@mkdir -p $(BENCH_DIR)
	$(GO) test -run '^$$' -bench . -benchtime 1s -count 1 -tags "$(GO_TAGS)" ./... | tee $(BENCH_DIR)/go.txt
	$(PYTHON) tests_py/bench_classify.py --json $(BENCH_DIR)/py.json
	@$(PYTHON) scripts/bench_table.py $(BENCH_DIR)/go.txt $(BENCH_DIR)/py.json

FUZZTIME ?= 10s
fuzz: ## run every Go fuzz target for FUZZTIME each (default 10s; the seeds run in make test too)
	@GO=$(GO) FUZZTIME=$(FUZZTIME) GO_TAGS="$(GO_TAGS)" bash scripts/fuzz.sh

lint: deps ## gofmt, go vet, ruff check, ruff format --check and mypy --strict
	@test -z "$$(gofmt -l classifier capi tests_go)" || { gofmt -l classifier capi tests_go; exit 1; }
	$(GO) vet -tags "$(GO_TAGS)" ./...
	$(PYTHON) -m ruff check python tests_py scripts
	$(PYTHON) -m ruff format --check python tests_py scripts
	$(PYTHON) -m mypy --strict python/ipclassifier

wheel: ## a manylinux wheel in dist/ (pip wheel, then auditwheel repair; the system libsqlite3 stays shared)
	@reqs="$$($(PYTHON) scripts/extras.py release)" && { [ -z "$$reqs" ] || $(PYTHON) -m pip install -q $$reqs; }
	rm -rf $(WHEEL_DIR)/raw $(WHEEL_DIR)/ipclassifier-*.whl build
	IPCLASSIFIER_SQLITE=system $(PYTHON) -m pip wheel --no-deps -q -w $(WHEEL_DIR)/raw .
	$(PYTHON) -m auditwheel repair --exclude libsqlite3.so.0 -w $(WHEEL_DIR) $(WHEEL_DIR)/raw/ipclassifier-*.whl
	rm -rf $(WHEEL_DIR)/raw build python/*.egg-info
	@ls -l $(WHEEL_DIR)/ipclassifier-*.whl

wheel-check: wheel ## install the wheel in a fresh venv (no other package) and classify with it
	@bash scripts/wheel-check.sh $(WHEEL_DIR)/ipclassifier-*manylinux*.whl

clean: ## remove build outputs and benchmark results (not the data directory)
	rm -rf python/ipclassifier/_lib/*.so python/ipclassifier/_lib/*.h python/ipclassifier/_lib/ipclassifier-validate \
		build dist *.egg-info python/*.egg-info $(BENCH_DIR) .venv-oldest
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
