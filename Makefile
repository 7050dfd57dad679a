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

# --- recipes, lock and plan (helper "recipes") ---
.PHONY: plan lock lock-check fuzz-recipes
plan: ## print the build plan for gfx1151 (TARGET=gfx1100 for another GPU)
	$(GO) run ./cmd/haloforge plan --recipes recipes --target $(or $(TARGET),gfx1151)

lock: ## rewrite stack.lock from recipes/ after editing a pin
	$(GO) run ./cmd/haloforge lock --recipes recipes

lock-check: ## fail if stack.lock disagrees with recipes/
	$(GO) run ./cmd/haloforge lock --check --recipes recipes

fuzz-recipes: ## fuzz the recipe and lock loaders (FUZZTIME=60s each)
	$(GO) test ./recipes -run '^$$' -fuzz '^FuzzLoadRecipe$$' -fuzztime $(or $(FUZZTIME),60s)
	$(GO) test ./recipes -run '^$$' -fuzz '^FuzzLoadLock$$' -fuzztime $(or $(FUZZTIME),60s)

# --- Dagger module and images (helper "dagger") ---
.PHONY: module-vet module-develop fuzz-images stack smoke-stack
module-vet: ## vet the Dagger module (pipeline/ is its own Go module; no engine needed)
	cd pipeline && $(GO) vet ./...

module-develop: ## regenerate pipeline/dagger.gen.go and pipeline/internal/ (needs the dagger CLI and an engine)
	dagger develop

fuzz-images: ## fuzz the /proc/meminfo parser of images (FUZZTIME=30s)
	$(GO) test ./images -run '^$$' -fuzz '^FuzzParseMemTotal$$' -fuzztime $(or $(FUZZTIME),30s)

stack: ## build every runtime image into the local Docker daemon (dagger CLI + engine needed)
	$(GO) run ./cmd/haloforge build --export

smoke-stack: ## build llama.cpp cpu+vulkan images (SRC=path overrides the pinned llama.cpp)
	$(GO) run ./cmd/haloforge build --profile smoke $(if $(SRC),--source llama.cpp=$(SRC)) --export
