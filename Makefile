# Tarif: `make demo` shows the engine on the generated sample distributor; `make test` runs every
# test of every language, as CI does (.ci/run). Nothing beyond cargo, python3, node and npm is
# assumed on the machine: the Python binding gets its own .venv (pinned requirements, maturin),
# the Node binding its `npm ci`. A binding whose directory does not exist yet is skipped, saying so.

CARGO ?= cargo
PYTHON ?= python3
PYTHON_BINDING := bindings-python
NODE_BINDING := bindings-node
BENCHES := benches
VENV := .venv

.PHONY: demo test test-rust test-python test-node python-suite node-suite \
	lint fmt bench clean

demo:
	$(CARGO) run --quiet -p tarif-examples --bin demo

test: test-rust test-python test-node

# Lints first: they fail fastest.
test-rust: lint
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc
	$(CARGO) run --quiet -p tarif-examples --bin demo > /dev/null

test-python:
	@if [ -d $(PYTHON_BINDING) ]; then $(MAKE) --no-print-directory python-suite; \
	else echo "$(PYTHON_BINDING)/ does not exist yet: no Python tests"; fi

test-node:
	@if [ -d $(NODE_BINDING) ]; then $(MAKE) --no-print-directory node-suite; \
	else echo "$(NODE_BINDING)/ does not exist yet: no Node tests"; fi

# The venv is rebuilt whenever the pinned requirements change.
$(VENV)/requirements.txt: $(PYTHON_BINDING)/requirements-dev.txt
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	cp $< $@

python-suite: $(VENV)/requirements.txt
	VIRTUAL_ENV=$(CURDIR)/$(VENV) $(VENV)/bin/maturin develop --quiet \
		--manifest-path $(PYTHON_BINDING)/Cargo.toml
	$(VENV)/bin/python -m pytest -q $(PYTHON_BINDING)/tests

node-suite:
	cd $(NODE_BINDING) && npm ci --no-audit --no-fund && npm run build:debug && npm test

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

# `make bench` runs on the small data set (minutes); `make bench SIZE=reference` on the DESIGN.md
# §4 set (generation alone takes a minute, each compile of it far longer). The data set is
# regenerated first so that no file from an older generator is measured; the peers run in .venv.
SIZE ?= small
BENCH_BIN = $(or $(CARGO_TARGET_DIR),target)/release
bench:
	$(CARGO) build --release -p tarif-benches --bins
	$(BENCH_BIN)/tarif-gen --size $(SIZE) --out bench-data/$(SIZE)
	TARIF_BENCH_SIZE=$(SIZE) $(CARGO) bench -p tarif-benches
	test -x .venv/bin/python || python3 -m venv .venv
	.venv/bin/pip install -q -r $(BENCHES)/peers/requirements.txt
	.venv/bin/python $(BENCHES)/peers/compare.py --data bench-data/$(SIZE) --reprice $(BENCH_BIN)/tarif-reprice

clean:
	$(CARGO) clean
	rm -rf $(VENV) $(NODE_BINDING)/node_modules $(NODE_BINDING)/*.node
