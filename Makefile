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

# --- recipes, lock and plan ---
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

# --- source mirror and recipes check ---
# MIRROR_SNAPSHOTS: a directory of local bare repository snapshots named
# OWNER+NAME (nothing is fetched). llama.cpp is served from a fork that
# carries its commits and release tags.
MIRROR ?= $(CURDIR)/../haloforge-mirror
MIRROR_ALIASES ?= ggml-org/llama.cpp=kmbandy/llama.cpp
.PHONY: mirror recipes-check fuzz-check
mirror: ## link MIRROR_SNAPSHOTS/OWNER+NAME into MIRROR/github.com/OWNER/NAME.git
	scripts/mirror-snapshots.sh "$(or $(MIRROR_SNAPSHOTS),$(error set MIRROR_SNAPSHOTS=DIR of bare snapshots))" "$(MIRROR)" $(MIRROR_ALIASES)

recipes-check: build mirror ## prove recipes/ against MIRROR (built from MIRROR_SNAPSHOTS), then its mirror tests
	HALOFORGE_MIRROR="$(MIRROR)" $(BIN) recipes check --recipes recipes
	HALOFORGE_MIRROR="$(MIRROR)" $(GO) test ./recipes/check/ -run 'InMirror|Planted' -count=1 -v

fuzz-check: ## fuzz the mirror URL mapping, .gitmodules, CMake and step readers (FUZZTIME each)
	$(GO) test ./internal/mirror -run '^$$' -fuzz '^FuzzRelPath$$' -fuzztime $(or $(FUZZTIME),30s)
	$(GO) test ./internal/mirror -run '^$$' -fuzz '^FuzzParseGitmodules$$' -fuzztime $(or $(FUZZTIME),30s)
	$(GO) test ./recipes/check -run '^$$' -fuzz '^FuzzParseCommands$$' -fuzztime $(or $(FUZZTIME),30s)
	$(GO) test ./recipes/check -run '^$$' -fuzz '^FuzzParseStep$$' -fuzztime $(or $(FUZZTIME),30s)

# --- ROCm distro provider (slow: ~45 CPU-min for llama.cpp HIP; not in CI) ---
.PHONY: distro-build
distro-build: build ## build llama.cpp hip-distro + rocm_bandwidth_test distro for gfx1151 on Debian's ROCm 6.4 (LLAMA_SRC, RBT_SRC, DISTRO_BASE=sid image by digest or tarball:FILE)
	@test -n "$(LLAMA_SRC)" -a -n "$(RBT_SRC)" -a -n "$(DISTRO_BASE)" || { echo "set LLAMA_SRC, RBT_SRC (checkouts at the pins) and DISTRO_BASE (debian-sid base: NAME@sha256:... or tarball:FILE)"; exit 2; }
	$(BIN) build --target gfx1151 --only llama.cpp,rocm-bandwidth-test --variant hip-distro,distro \
	  --source llama.cpp=$(LLAMA_SRC) --source rocm-bandwidth-test=$(RBT_SRC) \
	  $(if $(filter tarball:%,$(DISTRO_BASE)),--base-tarball $(patsubst tarball:%,%,$(DISTRO_BASE)),--base $(DISTRO_BASE)) --export

# --- parsers: fuzzing, tiny models, doctor ---
.PHONY: fuzz-parsers tiny-models doctor
fuzz-parsers: ## fuzz every output parser and the GGUF reader (FUZZTIME each)
	@for spec in llamabench:FuzzParseJSON llamabench:FuzzParseMD llamabench:FuzzParseCSV llamabench:FuzzParseSQL \
	  llamabench:FuzzParseAuto mamf:FuzzMamf rbt:FuzzRBT gguf:FuzzInspect; do \
	  pkg=$${spec%%:*}; fz=$${spec##*:}; echo "== $$fz"; \
	  $(GO) test ./bench/$$pkg -run '^$$' -fuzz "^$$fz$$" -fuzztime $(or $(FUZZTIME),30s) -fuzzminimizetime 2s -parallel 1 || exit 1; \
	done

tiny-models: build ## write tiny F16/Q8_0/Q4_0 llama models into bin/models/
	@mkdir -p bin/models
	@for t in f16 q8_0 q4_0; do $(BIN) model tiny --type $$t -o bin/models/tiny-$$t.gguf; done

doctor: build ## check this host (GPU, devices, kernel, firmware, Docker)
	$(BIN) doctor

# --- bench: main job and test command ---
.PHONY: smoke test smoke-image
smoke: ## the main job: set up the host, build, run the smoke suite, print the table
	scripts/smoke.sh

test: ## the test command (CI): set up the host, smoke image, go vet, every test incl. Docker
	scripts/test.sh

smoke-image: build ## build (or confirm) the smoke runtime image haloforge/runtime-smoke:sid
	$(BIN) image smoke

# --- results: store, reports, compare, history ---
.PHONY: test-browser bench-report fuzz-results
test-browser: ## open the HTML report in headless Chromium and check the plots render (apt-get install chromium)
	HALOFORGE_REQUIRE_BROWSER=1 $(GO) test ./bench/report -run '^TestHTMLInBrowser$$' -v

bench-report: ## BenchmarkReport10k: load + render a 10,000-case run from SQLite (goal < 2 s/op)
	$(GO) test ./bench/report -run '^$$' -bench '^BenchmarkReport10k$$' -benchtime 3x -benchmem

fuzz-results: ## fuzz import detection and llama-bench argv reading (FUZZTIME=30s each)
	$(GO) test ./bench/ingest -run '^$$' -fuzz '^FuzzCase$$' -fuzztime $(or $(FUZZTIME),30s)
	$(GO) test ./bench/report -run '^$$' -fuzz '^FuzzArgsConfig$$' -fuzztime $(or $(FUZZTIME),30s)

# --- RPC suites across hosts ---
.PHONY: test-rpc fuzz-rpc
test-rpc: smoke-image ## llama.cpp RPC cases for real: two ggml-rpc-server workers + llama-bench --rpc, a killed worker, TLS and ssh endpoints
	HALOFORGE_REQUIRE_DOCKER=1 $(GO) test ./bench/runner -run 'RPC|TLS' -v -count=1
	$(GO) test ./bench/suite -run 'RPC|Endpoint' -count=1

fuzz-rpc: ## fuzz suite files with hosts and rpc workers (FUZZTIME=30s)
	$(GO) test ./bench/suite -run '^$$' -fuzz '^FuzzParseRPC$$' -fuzztime $(or $(FUZZTIME),30s)

# --- fleet results on PostgreSQL, shared build engine ---
.PHONY: test-pg fuzz-fleet
test-pg: ## PostgreSQL results store: 2 runner processes x 50 runs, db migrate, reports equal to SQLite (throwaway server)
	@set -e; parent=$$(mktemp -d); chmod 755 $$parent; \
	dsn=$$(PG_TEST_DIR=$$parent scripts/pg-test-server.sh); \
	rc=0; HALOFORGE_TEST_PG_DSN=$$dsn HALOFORGE_REQUIRE_PG=1 $(GO) test ./bench/store ./cmd/haloforge \
		-run 'Postgres|PG|FleetDB|DBMigrate|Dollar|Dialect' -count=1 -v || rc=$$?; \
	scripts/pg-test-server.sh --stop-all $$parent; exit $$rc

fuzz-fleet: ## fuzz the shared-cache listings and the SQL placeholder rewrite (FUZZTIME=30s)
	$(GO) test ./recipes -run '^$$' -fuzz '^FuzzParseCacheKeys$$' -fuzztime $(or $(FUZZTIME),30s)
	$(GO) test ./bench/store -run '^$$' -fuzz '^FuzzDollarRebind$$' -fuzztime $(or $(FUZZTIME),30s)

# --- Dagger module and images ---
.PHONY: module-vet module-tidy module-develop fuzz-images stack smoke-stack
module-vet: ## vet the Dagger module (pipeline/ is its own Go module; its generated client is committed)
	cd pipeline && $(GO) vet ./...

module-tidy: ## after go.mod changes at the root: sync pipeline/go.mod (it replaces the root module with ../)
	cd pipeline && $(GO) mod tidy

module-develop: ## regenerate pipeline/dagger.gen.go and pipeline/internal/ after changing the module's API (dagger CLI + engine); commit the result
	dagger develop

fuzz-images: ## fuzz the /proc/meminfo parser of images (FUZZTIME=30s)
	$(GO) test ./images -run '^$$' -fuzz '^FuzzParseMemTotal$$' -fuzztime $(or $(FUZZTIME),30s)

# The module test: tests/ is a Dagger module that installs this one as a
# dependency and calls its functions on a real engine (plan, a failing
# fetch, a failing step, a smoke build of llama.cpp cpu with a source
# override, export). It needs an engine, so it is not part of `go test`.
# Run one test alone with TEST=plan (failing-fetch, failing-step,
# smoke-build, export).
.PHONY: module-test
module-test: ## call the Dagger module through tests/ on an engine (BASE_TARBALL=docker-save of the plan's base, LLAMA_SRC=llama.cpp at b5600)
	@test -n "$(BASE_TARBALL)" || { echo "set BASE_TARBALL (docker-save tarball of the plan's base, recipes/base.yaml) and LLAMA_SRC (llama.cpp checkout at the pin)"; exit 2; }
	dagger -m tests call --base-tarball $(BASE_TARBALL) $(if $(LLAMA_SRC),--llama $(LLAMA_SRC)) $(if $(JOBS),--jobs $(JOBS)) $(or $(TEST),all)

stack: ## build every runtime image into the local Docker daemon (dagger CLI + engine needed)
	$(GO) run ./cmd/haloforge build --export

smoke-stack: ## build llama.cpp cpu+vulkan images (SRC=path overrides the pinned llama.cpp)
	$(GO) run ./cmd/haloforge build --profile smoke $(if $(SRC),--source llama.cpp=$(SRC)) --export

.PHONY: bisect-e2e
bisect-e2e: build ## haloforge bisect for real: a local llama.cpp repo with a planted slowdown, builds on the engine, kill -9 and --resume (hours cold; not CI)
	scripts/bisect-e2e.sh

.PHONY: loop
loop: build ## build the smoke stack from LLAMA_SRC on BASE_TARBALL, bench exactly those images (smoke-stack), check the report (Dagger engine needed; not in CI)
	@test -n "$(LLAMA_SRC)" -a -n "$(BASE_TARBALL)" || { echo "set LLAMA_SRC=DIR (a llama.cpp tree) and BASE_TARBALL=FILE (haloforge image base --profile smoke -o FILE)"; exit 2; }
	LLAMA_SRC="$(LLAMA_SRC)" BASE_TARBALL="$(BASE_TARBALL)" HF=$(BIN) scripts/loop.sh
