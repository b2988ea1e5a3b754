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

# The element-wise kernels (activations, bias epilogues, depthwise
# convolutions) have AVX2 versions in Go's simd experiment
# (keras/internal/kernel/simd_amd64.go); FAST builds with it, and the
# scalar loops stay what a plain `go build` compiles. SIMD=0 leaves it out.
SIMD ?= 1
ifeq ($(SIMD),1)
FAST := GOEXPERIMENT=simd $(GO)
else
FAST := $(GO)
endif

.PHONY: all build test bench bench-keras demo fixtures deps clean

all: build

deps:
	@bash scripts/install-deps

build: deps
	$(FAST) build $(TAGS) -o $(BIN) ./cmd/kerascope

test: deps
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './testdata/gen/.venv/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(FAST) vet $(TAGS) ./...
	$(FAST) test $(TAGS) ./...
	@# The pure-Go path too (gonum's BLAS and the scalar loops: kernels and
	@# every fixture's prediction), and the worst difference from Keras's
	@# outputs on both paths.
	$(GO) vet ./keras/...
	$(GO) test -run 'Test.*(Kernel|Gemm|Activation|Predict|Vector|Fused|Depthwise|Im2Col|Bias)' ./keras/...
	@for tags in "$(TAGS)" ""; do \
		if [ -n "$$tags" ]; then go="$(FAST)"; else go="$(GO)"; fi; \
		out=$$(env $$go test $$tags -count=1 -v -run 'TestPredictFixtures$$' ./keras 2>&1) || { echo "$$out" | tail -40; exit 1; }; \
		echo "$$out" | grep -o '[0-9]* fixture files predicted.*' | sed "s/^/predict ($${tags:-pure Go}): /"; \
	done

# Go benchmarks of prediction (and of the summary).
bench: deps
	$(FAST) test $(TAGS) -run '^$$' -bench . -benchmem ./keras ./cmd/kerascope

# kerascope, ONNX Runtime, compiled and eager Keras side by side on the same
# models and inputs, alternating (docs/performance.md). Makes the fixture
# venv plus the benchmark's packages (testdata/gen/setup-bench.sh) and the
# large models, in the git-ignored testdata/gen/.bench, the first time.
bench-keras: deps
	bash testdata/gen/setup-bench.sh
	$(FAST) build $(TAGS) -o bin/kerascope-bench ./cmd/kerascope-bench
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
