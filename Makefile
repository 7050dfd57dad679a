# Everyday tasks. `make help` lists them.
GO ?= go
BIN := bin/haloforge

.PHONY: help build test test-unit lint fmt vet fuzz smoke ci
help: ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build the haloforge CLI into bin/
	$(GO) build -o $(BIN) ./cmd/haloforge

test-unit: ## pure tests: no Docker, no engine
	$(GO) test ./...

fmt: ## gofmt the tree
	gofmt -w $$(git ls-files '*.go')

vet: ## go vet
	$(GO) vet ./...

lint: vet ## gofmt check, go vet, golangci-lint v2
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	golangci-lint run ./...
