# Tarif: `make demo` shows the engine on the generated sample distributor; `make test` runs every
# test of every language, as CI does (.ci/run). Nothing beyond cargo, python3, node and npm is
# assumed on the machine: each target builds or installs what it needs. `make wheel` and
# `make pack` build the distributables (target/python-wheels/, target/npm-packs/).
#
# Each binding plugs in through its own Makefile: bindings-python/ and bindings-node/ provide
# `test` (build the binding once, in release — the wheel, the stripped addon, see test-python — and
# install it outside the repository as a user would: the Python suite runs against the wheel in
# a fresh venv; the Node suite runs in the checkout, then a smoke test against the npm tarballs
# in a fresh folder), `lint` and `clean`. Until a binding's
# directory exists, its targets say so and succeed; a directory without its Makefile fails, so
# that no suite is skipped silently.

CARGO ?= cargo
# The machine's own target triple, for the builds that name one (evaluated only where used).
HOST = $(shell rustc -vV | sed -n 's/^host: //p')
PYTHON_BINDING := bindings-python
NODE_BINDING := bindings-node
BENCHES := benches

# $(call binding,DIR,TARGET): runs TARGET of DIR's Makefile when DIR exists.
binding = @if [ -f $(1)/Makefile ]; then $(MAKE) -C $(1) $(2); \
	elif [ -d $(1) ]; then echo "$(1)/ has no Makefile to run \`$(2)'" >&2; exit 1; \
	else echo "$(1)/ does not exist yet: nothing to $(2)"; fi

.PHONY: demo test test-rust test-python test-node test-fuzz wheel pack lint lint-rust lint-shared-deps fmt bench fuzz clean

demo:
	$(CARGO) run --quiet -p tarif-examples --bin demo

test: test-rust test-python test-node test-fuzz

# Lints first: they fail fastest. The demo runs as a test of tarif-examples (tests/demo.rs),
# on the binary the test build makes: `cargo run -p tarif-examples` resolves features for that
# package alone and compiled the core a second time (a minute of CI).
test-rust: lint-rust
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc

# The suites run on the release code built with thin LTO over 4 codegen units instead of the
# shipped fat LTO over one: the same code and behaviour, optimised across fewer boundaries.
# Fat LTO made each binding's build 2-4 minutes longer (a fresh-clone CI 20.5-26.5 minutes
# instead of 17.5), for an 8-14 % faster simulation that no test looks at. `make wheel` and
# `make pack` build what ships.
test-python test-node: export CARGO_PROFILE_RELEASE_LTO = thin
test-python test-node: export CARGO_PROFILE_RELEASE_CODEGEN_UNITS = 4

test-python:
	$(call binding,$(PYTHON_BINDING),test)

test-node:
	$(call binding,$(NODE_BINDING),test)

# The abi3 manylinux wheel, stripped.
wheel:
	$(MAKE) -C $(PYTHON_BINDING) wheel

# The npm packages: `tarif` and its platform package `tarif-linux-x64-gnu`, as tarballs.
pack:
	$(MAKE) -C $(NODE_BINDING) build pack

lint: lint-rust
	$(call binding,$(PYTHON_BINDING),lint)
	$(call binding,$(NODE_BINDING),lint)

lint-rust: lint-shared-deps
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# The wheel and the addon share one release build only while every crate both bindings depend
# on resolves to the same features in each (bindings-shared-deps/Cargo.toml says why): a new
# dependency of one binding that asks more of a shared crate would silently make the second
# build compile the core and its dependencies again. Fails naming the crates that differ.
SHARED_DEPS_DIR := $(or $(CARGO_TARGET_DIR),target)/shared-deps
lint-shared-deps:
	@mkdir -p $(SHARED_DEPS_DIR); \
	for binding in tarif-python tarif-node; do \
		$(CARGO) tree -q -p $$binding -e normal,build --prefix none -f '{p} {f}' --target $(HOST) \
			| sed 's/ (\*)$$//' | sort -u > $(SHARED_DEPS_DIR)/$$binding.txt || exit 1; \
	done; \
	awk 'FNR == NR { python[$$1 " " $$2] = python[$$1 " " $$2] $$0 "\n"; next } \
		{ node[$$1 " " $$2] = node[$$1 " " $$2] $$0 "\n" } \
		END { for (crate in node) if (crate in python && python[crate] != node[crate]) { \
			printf "tarif-python: %starif-node:   %s", python[crate], node[crate]; differ = 1 } \
		if (differ) { print "the bindings resolve the crates above with different features:" \
			" add the union to bindings-shared-deps/Cargo.toml"; exit 1 } }' \
		$(SHARED_DEPS_DIR)/tarif-python.txt $(SHARED_DEPS_DIR)/tarif-node.txt

fmt:
	$(CARGO) fmt --all

# `make bench` runs on the small data set (minutes); `make bench SIZE=medium` (200k SKUs, 2M lines)
# or `make bench SIZE=reference` on the reference
# set of docs/performance.md (generation alone takes a minute, each compile of it far longer).
# The data set is regenerated first so that no file from an older generator is measured; the
# peers run in .venv.
SIZE ?= small
BENCH_BIN = $(or $(CARGO_TARGET_DIR),target)/release
bench:
	$(CARGO) build --release -p tarif-benches --bins
	$(BENCH_BIN)/tarif-gen --size $(SIZE) --out bench-data/$(SIZE)
	TARIF_BENCH_SIZE=$(SIZE) $(CARGO) bench -p tarif-benches
	test -x .venv/bin/python || python3 -m venv .venv
	.venv/bin/pip install -q -r $(BENCHES)/peers/requirements.txt
	.venv/bin/python $(BENCHES)/peers/compare.py --data bench-data/$(SIZE) \
		--reprice $(BENCH_BIN)/tarif-reprice --json bench-data/$(SIZE)/compare.json
	.venv/bin/python $(BENCHES)/peers/chart.py --data bench-data --out docs/scaling.svg

# `make fuzz` runs every cargo-fuzz target for FUZZ_SECONDS on its committed corpus (fuzz/corpus/),
# which grows with what it finds; a crash stops the run and leaves its input in fuzz/artifacts/
# (turn it into a regression fixture). cargo-fuzz needs nightly-only sanitizer flags: the one
# toolchain here is stable, so RUSTC_BOOTSTRAP lets it accept them.
FUZZ_SECONDS ?= 600
FUZZ_TARGETS := compile_bytes compile_structured queries order_text
fuzz:
	command -v cargo-fuzz > /dev/null || $(CARGO) install cargo-fuzz --locked
	cd fuzz && for target in $(FUZZ_TARGETS); do \
		RUSTC_BOOTSTRAP=1 $(CARGO) fuzz run -O $$target corpus/$$target -- \
			-max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=4096 || exit 1; \
	done

# `make test` runs every target on the committed corpus (each input of it replayed first), then
# for FUZZ_CI_SECONDS of fresh inputs; what it finds goes to a scratch directory, so a test run
# never changes the committed corpus. A crash fails the run and leaves its input in fuzz/artifacts/.
# The targets are built by cargo itself, with the coverage instrumentation cargo-fuzz gives them
# (the flags of its `project.rs`, without which libFuzzer cannot steer) but without
# AddressSanitizer and at opt-level 1: the core forbids unsafe code, and what a short run looks
# for (panics, hangs, memory blow-ups) needs neither. That build took 2m34s–2m48s where
# cargo-fuzz's took 5m13s–5m45s, the targets run 1.5–6× more inputs in their seconds, and it
# needs no cargo-fuzz, whose install took a minute of a fresh machine. `make fuzz` keeps
# cargo-fuzz and AddressSanitizer for the long runs.
FUZZ_CI_SECONDS ?= 20
FUZZ_CI_TARGET_DIR := target/ci
FUZZ_CI_RUSTFLAGS := --cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
	-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
	-Cllvm-args=-sanitizer-coverage-trace-compares -Cllvm-args=-sanitizer-coverage-stack-depth \
	-Cllvm-args=-simplifycfg-branch-fold-threshold=0
test-fuzz:
	@cd fuzz && \
	echo "building the fuzz targets for $(HOST) (opt-level 1, coverage instrumentation, no sanitizer)" && \
	RUSTFLAGS="$(FUZZ_CI_RUSTFLAGS)" CARGO_TARGET_DIR=$(FUZZ_CI_TARGET_DIR) \
		CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
		$(CARGO) build --release --target $(HOST) --bins && \
	for target in $(FUZZ_TARGETS); do \
		scratch=$$(mktemp -d) && mkdir -p artifacts/$$target && \
		$(FUZZ_CI_TARGET_DIR)/$(HOST)/release/$$target -artifact_prefix=artifacts/$$target/ \
			-max_total_time=$(FUZZ_CI_SECONDS) -rss_limit_mb=4096 -print_final_stats=1 \
			$$scratch corpus/$$target || exit 1; \
		rm -rf $$scratch; \
	done

clean:
	$(CARGO) clean
	$(call binding,$(PYTHON_BINDING),clean)
	$(call binding,$(NODE_BINDING),clean)
