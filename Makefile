# kerascope: see README.md. `make test` is what CI runs (.ci/run).

GO ?= go
BIN := bin/kerascope
DEMO_MODEL := testdata/models/rnn_1unit/k3.keras

# Matrix products run in OpenBLAS when it is installed (scripts/install-deps
# installs it): the openblas build tag, whose package links OpenBLAS through
# pkg-config. Without it, or with OPENBLAS=0, they run in gonum's pure-Go
# BLAS.
OPENBLAS ?= $(shell pkg-config --exists openblas 2>/dev/null && echo 1 || echo 0)
ifeq ($(OPENBLAS),1)
TAGS := -tags openblas
endif

.PHONY: all build test bench bench-keras demo fixtures deps clean

all: build

deps:
	@bash scripts/install-deps

build: deps
	$(GO) build $(TAGS) -o $(BIN) ./cmd/kerascope

test: deps
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './testdata/gen/.venv/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet $(TAGS) ./...
	$(GO) test $(TAGS) ./...
	@# The pure-Go BLAS path too (kernels and every fixture's prediction), and
	@# the worst difference from Keras's outputs on both paths.
	$(GO) test -run 'Test.*(Kernel|Gemm|Activation|Predict)' ./keras/...
	@for tags in "$(TAGS)" ""; do \
		out=$$($(GO) test $$tags -count=1 -v -run 'TestPredictFixtures$$' ./keras 2>&1) || { echo "$$out" | tail -40; exit 1; }; \
		echo "$$out" | grep -o '[0-9]* fixture files predicted.*' | sed "s/^/predict ($${tags:-pure Go}): /"; \
	done

# Go benchmarks of prediction (and of the summary).
bench: deps
	$(GO) test $(TAGS) -run '^$$' -bench . -benchmem ./keras ./cmd/kerascope

# kerascope, ONNX Runtime, compiled and eager Keras side by side on the same
# models and inputs, alternating (docs/performance.md). Makes the fixture
# venv plus the benchmark's packages (testdata/gen/setup-bench.sh) and the
# large models, in the git-ignored testdata/gen/.bench, the first time.
bench-keras: deps
	bash testdata/gen/setup-bench.sh
	$(GO) build $(TAGS) -o bin/kerascope-bench ./cmd/kerascope-bench
	testdata/gen/.venv/bin/python testdata/gen/bench_keras.py --go-worker bin/kerascope-bench $(BENCH_ARGS)

demo: build
	@echo "$$ kerascope summary $(DEMO_MODEL)"
	@./$(BIN) summary $(DEMO_MODEL)

# Regenerates the fixtures with real Keras (needs Python 3.11 and network
# access to PyPI the first time); see testdata/README.md.
fixtures:
	bash testdata/gen/setup.sh
	testdata/gen/.venv/bin/python testdata/gen/gen_models.py
	testdata/gen/.venv/bin/python testdata/gen/gen_malformed.py
	testdata/gen/.venv/bin/python testdata/gen/gen_stats.py

clean:
	rm -rf bin
