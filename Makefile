# Single entry point. `make run` and `make test` are the README's commands.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
CARGO_MANIFEST := native/Cargo.toml
DATA_DIR ?= ./pystream-data

.PHONY: install install-test system-deps run test check lint fmt native-test bench compare perf fuzz protocol clean

$(PY):
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip maturin

## Build the native extension (release) and install the package into .venv.
install: $(PY)
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --release -q

install-test: $(PY) system-deps
	VIRTUAL_ENV=$(abspath $(VENV)) $(VENV)/bin/maturin develop --release -q --extras test

## Debian packages the integration tests use (kcat). Skipped when present.
system-deps:
	@bash tools/install-system-deps.sh

## The main job: a broker on a local data dir.
run: install
	$(VENV)/bin/pystream broker --data-dir $(DATA_DIR)

## Everything CI checks: lint, types, Rust checks, the full test suite.
test: install-test check
	$(VENV)/bin/pytest -q

check: lint native-test

lint:
	$(VENV)/bin/ruff check pystream tests benchmarks perf tools examples
	$(VENV)/bin/ruff format --check pystream tests benchmarks perf tools examples
	$(VENV)/bin/mypy
	cargo fmt --manifest-path $(CARGO_MANIFEST) -- --check
	cargo clippy --manifest-path $(CARGO_MANIFEST) --all-targets -q -- -D warnings
	cargo clippy --manifest-path $(CARGO_MANIFEST) --all-targets --features python -q -- -D warnings

native-test:
	cargo test --manifest-path $(CARGO_MANIFEST) -q

fmt:
	$(VENV)/bin/ruff format pystream tests benchmarks perf tools examples
	$(VENV)/bin/ruff check --fix pystream tests benchmarks perf tools examples
	cargo fmt --manifest-path $(CARGO_MANIFEST)

## Micro benchmarks (pytest-benchmark), with ratios against plain I/O.
bench: install-test
	$(VENV)/bin/pytest benchmarks -q --benchmark-enable -p no:randomly

## Side-by-side comparison with Apache Kafka and Tansu (writes docs/benchmarks.md).
compare: install-test
	$(PY) -m benchmarks.compare.run --quick

## Flame graph and perf stat of the broker under load (see perf/README.md).
perf: install-test
	$(PY) perf/profile.py

## A long fuzz pass of the request decoder (the test run does a short one).
fuzz: install-test
	PYSTREAM_FUZZ_EXAMPLES=200000 $(VENV)/bin/pytest tests/fuzz -q

## Regenerate the protocol codec from Kafka's schemas (development time).
protocol: $(PY)
	$(PY) tools/protogen.py ../shared/kafka-protocol/message pystream/protocol/messages

clean:
	rm -rf $(VENV) native/target
