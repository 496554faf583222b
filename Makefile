# metamcp — see README.md. `make test` is what CI runs (.ci/run).
GO       ?= go
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
# The stamp tells this build from any other: metamcp runs bin/metamcp-templates
# only when both carry the same one (or come from one clean checkout).
STAMP    := $(shell date -u +%Y%m%dT%H%M%S.%N)
LDFLAGS  := -X main.version=$(VERSION) -X main.buildStamp=$(STAMP)
BIN      := $(CURDIR)/bin/metamcp
# The built-in templates alone: metamcp runs its built-in children with it when
# it lies next to the metamcp executable (they start faster), else itself.
TPLBIN   := $(CURDIR)/bin/metamcp-templates
INTEROP  := $(CURDIR)/testdata/interop
PLATFORMS := darwin/amd64 darwin/arm64 windows/amd64 windows/arm64

.PHONY: all build install test unit cross interop-deps gosdk demo bench lint clean

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/metamcp
	$(GO) build -ldflags "$(LDFLAGS)" -o $(TPLBIN) ./cmd/metamcp-templates

install:
	$(GO) install -ldflags "$(LDFLAGS)" ./cmd/metamcp ./cmd/metamcp-templates

# Node packages for the interop tests (official MCP SDK, reference servers),
# pinned in testdata/interop/package-lock.json.
interop-deps: $(INTEROP)/node_modules/.installed

$(INTEROP)/node_modules/.installed: $(INTEROP)/package.json $(INTEROP)/package-lock.json
	cd $(INTEROP) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# An MCP server on the official Go SDK (pinned in testdata/gosdk/go.mod),
# with tool names clients refuse, for the gateway's naming tests.
GOSDK := $(CURDIR)/bin/gosdk-odd
gosdk:
	cd testdata/gosdk && $(GO) build -o $(GOSDK) .

# Everything, with the race detector, against the built binary and real peers.
test: build interop-deps gosdk cross
	METAMCP_BIN=$(BIN) METAMCP_GOSDK=$(GOSDK) METAMCP_INTEROP=1 $(GO) test -race -count=1 -timeout 15m ./...

# Only the Go tests (no npm), quick.
unit:
	$(GO) test -race -count=1 ./...

# The process layer has a file per platform: make sure each still compiles.
cross:
	@for p in $(PLATFORMS); do \
		echo "cross-compile $$p"; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -o /dev/null ./cmd/metamcp || exit 1; \
		GOOS=$${p%/*} GOARCH=$${p#*/} $(GO) build -o /dev/null ./cmd/metamcp-templates || exit 1; \
	done

demo: build
	$(BIN) demo

# Go benchmarks (in-process), then the whole-process harness; writes docs/benchmarks.md.
bench: build
	METAMCP_BIN=$(BIN) $(GO) test -run '^$$' -bench . -benchmem -benchtime 200x ./... > $(CURDIR)/bin/gobench.txt \
		|| (cat $(CURDIR)/bin/gobench.txt; exit 1)
	@cat $(CURDIR)/bin/gobench.txt
	$(GO) run ./cmd/bench -bin $(BIN) -out docs/benchmarks.md -gobench $(CURDIR)/bin/gobench.txt

lint:
	@test -z "$$(gofmt -l .)" || (gofmt -l . && exit 1)
	$(GO) vet ./...
	@command -v staticcheck >/dev/null && staticcheck ./... || true

clean:
	rm -rf bin $(INTEROP)/node_modules
