# kerascope: see README.md. `make test` is what CI runs (.ci/run).

GO ?= go
BIN := bin/kerascope
DEMO_MODEL := testdata/models/rnn_1unit/k3.keras

.PHONY: all build test demo fixtures deps clean

all: build

deps:
	@bash scripts/install-deps

build: deps
	$(GO) build -o $(BIN) ./cmd/kerascope

test: deps
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './testdata/gen/.venv/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test ./...

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
