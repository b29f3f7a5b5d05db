# Sunproof — see README.md. `make help` lists the targets.
SHELL := /bin/bash
GO ?= go
BIN := bin
PKGS := ./...
FUZZTIME ?= 20s
export SUNPROOF_CACHE ?= $(HOME)/.cache/sunproof

.PHONY: help build test test-ui test-unit test-integration fuzz bench lint generate contracts contracts-check up down status demo clean

help: ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-18s %s\n", $$1, $$2}'

build: ## build both binaries into bin/
	$(GO) build -trimpath -o $(BIN)/ ./cmd/sunproof ./cmd/sunproof-agent
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w" -o $(BIN)/sunproof-agent ./cmd/sunproof-agent

up: ## install (cached) and start the local stack on 127.0.0.1
	scripts/stack.sh up

down: ## stop the local stack
	scripts/stack.sh down

status: ## show the local stack
	scripts/stack.sh status

test: up ## the whole suite: unit + integration tests against the real local stack, then the UI/API tests
	$(MAKE) contracts-check
	eval "$$(scripts/stack.sh env)" && $(GO) test -count=1 -timeout 30m $(PKGS)
	$(MAKE) test-ui

test-ui: up ## browser tests (headless Chromium) and schemathesis API fuzzing against the real stack
	scripts/ui-tests.sh

test-unit: ## fast tests only (no servers needed)
	$(GO) test -short -count=1 $(PKGS)

test-integration: up ## only the tests that need the local stack
	eval "$$(scripts/stack.sh env)" && $(GO) test -count=1 -timeout 30m -run Integration $(PKGS)

fuzz: ## run every fuzz target for FUZZTIME each
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench: ## micro-benchmarks (see README for the end-to-end `sunproof bench`)
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

lint: ## gofmt + go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet $(PKGS)

contracts: ## recompile the Solidity contract and regenerate the Go bindings
	contracts/gen.sh

contracts-check: ## fail if committed contract artifacts or bindings are stale
	contracts/check.sh

generate: contracts ## regenerate everything generated
	$(GO) test ./ingest/reading -run TestVectors -update
	$(GO) test ./anchor -run TestGenerateVectors -update

demo: build up ## run the stack, a simulated fleet, collector and writer; prints where to look
	scripts/demo.sh

clean: ## remove build output (not the stack's data: see `scripts/stack.sh down`)
	rm -rf $(BIN)
