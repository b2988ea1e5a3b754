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

# The version `kerascope version` prints for a build from a checkout (go
# install of a tagged module records its own).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
LDFLAGS := $(if $(VERSION),-ldflags "-X main.version=$(VERSION)")

# Where `make install` puts the binary: go install's own choice, $GOBIN, else
# $GOPATH/bin (~/go/bin by default).
GOBIN_DIR = $(or $(shell $(GO) env GOBIN),$(shell $(GO) env GOPATH)/bin)

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

.PHONY: all build web test-web install test bench bench-keras loadtest fuzz mutate demo fixtures verify-keras deps clean

all: build

deps:
	@bash scripts/install-deps

build: deps web
	$(FAST) build $(TAGS) $(LDFLAGS) -o $(BIN) ./cmd/kerascope

# The web app (docs/web.md) as plain static files in web/dist, which
# `kerascope web` embeds (so build it before the binary) and any static
# host can serve: the page, Go's own wasm_exec.js, kerascope itself
# compiled to WebAssembly (gzipped; the page inflates it) and the
# article's four models as examples. web/dist is git-ignored but for its
# README: the bundle is a build artifact.
WEB_DIST := web/dist
WEB_EXAMPLES := rnn_1unit rnn_2units rnn_2features rnn_2features_seq
web:
	@find $(WEB_DIST) -mindepth 1 -not -name .gitignore -not -name README.md -delete
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags "-s -w $(if $(VERSION),-X main.version=$(VERSION))" -o $(WEB_DIST)/kerascope.wasm ./cmd/kerascope
	gzip -9 -n $(WEB_DIST)/kerascope.wasm
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" web/static/*.html web/static/*.js web/static/*.css $(WEB_DIST)/
	mkdir -p $(WEB_DIST)/examples
	@for m in $(WEB_EXAMPLES); do \
		cp testdata/models/$$m/k3.keras $(WEB_DIST)/examples/$$m.keras && \
		cp testdata/models/$$m/input.npy $(WEB_DIST)/examples/$$m.input.npy || exit 1; \
	done
	@echo "web: $(WEB_DIST) ($$(du -sh $(WEB_DIST)/kerascope.wasm.gz | cut -f1) bundle)"

# The web app in headless Chromium (scripts/install-deps --browser installs
# it), against the command line's own output and the fixtures' Keras
# outputs. Skips without chromium, unless CI=true, where it fails.
# WEB_SCREENSHOTS=docs also writes the views' screenshots there.
test-web: web
	@bash scripts/install-deps --browser
	$(GO) vet -tags browser ./cmd/kerascope
	$(GO) test -tags browser -count=1 -timeout 5m -run 'TestBrowser' -v ./cmd/kerascope $(if $(WEB_SCREENSHOTS),-args -screenshots $(abspath $(WEB_SCREENSHOTS)))

# Installs kerascope where go install puts commands, and says whether that
# directory is on the PATH.
install: deps web
	$(FAST) install $(TAGS) $(LDFLAGS) ./cmd/kerascope
	@echo "installed $(GOBIN_DIR)/kerascope"
	@case ":$$PATH:" in *":$(GOBIN_DIR):"*) ;; \
	*) echo "$(GOBIN_DIR) is not on your PATH; add it: export PATH=\"\$$PATH:$(GOBIN_DIR)\"";; esac

test: deps
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './testdata/gen/.venv/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(FAST) vet $(TAGS) ./...
	$(GO) vet -tags libhdf5 ./h5/...
	$(FAST) test $(TAGS) ./...
	@# The pure-Go HDF5 reader against libhdf5 (its oracle), on every fixture
	@# and corpus file: groups, attributes and tensors must be identical.
	$(GO) test -tags libhdf5 -count=1 ./h5/...
	@# The pure-Go path too (gonum's BLAS and the scalar loops: kernels and
	@# every fixture's prediction), and the worst difference from Keras's
	@# outputs on both paths.
	$(GO) vet ./keras/...
	$(GO) test -run 'Test.*(Kernel|Gemm|Activation|Predict|Vector|Fused|Depthwise|Im2Col|Bias)' ./keras/...
	@# On a CPU with AVX-512, the kernels and predictions as on one without
	@# (its 512-bit kernels off: the AVX2 ones must give the same bits).
	GODEBUG=cpu.avx512f=off $(FAST) test $(TAGS) -count=1 ./keras/internal/kernel/... ./keras
	@# The vector kernels under the race detector, whose checkptr rejects
	@# a pointer stepped past the data.
	$(FAST) test -race -count=1 ./keras/internal/kernel/...
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

# kerascope serve under concurrent clients on 127.0.0.1 only, each run
# bounded in requests and time: throughput, p50/p99 latency, memory, with
# and without micro-batching, next to in-process Predict (docs/serving.md).
loadtest: build
	$(GO) run $(TAGS) ./cmd/kerascope-loadtest --bin $(BIN)

# Go native fuzzing of the HDF5 reader, FUZZTIME per target; crashers land
# in h5/testdata/fuzz/<target>/ and become regression seeds once committed.
# Seeds are whole model files (up to 256 KiB), whose minimization at Go's
# default of 60 s per new input took most of a 10-minute run; FUZZMINIMIZE
# caps it.
FUZZTIME ?= 1m
FUZZMINIMIZE ?= 5s
FUZZ_TARGETS := FuzzOpen FuzzSuperblock FuzzObjectHeader FuzzBTree FuzzHeaps FuzzAttribute FuzzDatasetRead FuzzVerify
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzz $$t for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) ./h5 || exit 1; \
	done

# The fault-injection run of issue 12: MUTANTS byte mutations of 3 .h5 and 3
# .keras fixtures (inside the archive member), each through check, weights
# and summary: no crash, no run over 2 s or 200 MB, nothing in $$TMPDIR.
MUTANTS ?= 1000
mutate:
	KERASCOPE_MUTANTS=$(MUTANTS) $(GO) test -count=1 -timeout 60m -run '^TestMutants$$' -v ./cmd/kerascope

# Prints the command it runs as one that works from here: the binary is in
# bin/ until `make install` puts it on the PATH.
demo: build
	@echo "$$ $(BIN) summary $(DEMO_MODEL)"
	@./$(BIN) summary $(DEMO_MODEL)
	@echo
	@echo "Run it yourself as $(BIN), or 'make install' to get a kerascope command."

# Every keras.applications (Keras 3) and tf_keras.applications architecture
# built with weights=None at its smallest input, saved in .keras and .h5 by
# the Keras that built it, against kerascope: summary byte-identical,
# predictions within 1e-5 + 1e-4|want|, with each model's conditioning; one
# model at a time under nice (hours on 2 cores for all 111; ZOO_ARGS='--only
# MobileNetV3Small ConvNeXtTiny' for some). A file that misses is run again
# by Keras in float64 (--f64), which says which of kerascope and Keras's own
# float32 output is the further from it. Files in testdata/gen/.zoo
# (git-ignored); the table is docs/fidelity.md's.
verify-keras: build
	bash testdata/gen/setup.sh
	nice -n 10 testdata/gen/.venv/bin/python testdata/gen/verify_zoo.py --kerascope $(BIN) --f64 $(ZOO_ARGS)

# Regenerates the fixtures with real Keras (needs Python 3.11 and network
# access to PyPI the first time); see testdata/README.md.
fixtures:
	bash testdata/gen/setup.sh
	testdata/gen/.venv/bin/python testdata/gen/gen_models.py
	testdata/gen/.venv/bin/python testdata/gen/gen_malformed.py
	testdata/gen/.venv/bin/python testdata/gen/gen_keras1.py
	testdata/gen/.venv/bin/python testdata/gen/gen_stats.py

clean:
	rm -rf bin
	find $(WEB_DIST) -mindepth 1 -not -name .gitignore -not -name README.md -delete
