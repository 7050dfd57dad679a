#!/usr/bin/env bash
# test.sh: haloforge's test command (what CI runs, via .ci/run). Prepares the
# host (scripts/setup-host.sh), builds haloforge and the smoke runtime image
# (Debian sid's llama-bench and Mesa, no registry), then runs go vet and every
# Go test with HALOFORGE_REQUIRE_DOCKER=1, so the Docker integration tests
# cannot skip: the real smoke suite end to end through the binary (every case
# present, t/s > 0, logs saved), kill -9 + --resume, a forced timeout becoming
# a hang row, crashes, the image build.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/setup-host.sh
. scripts/setup-host.sh

export HALOFORGE_REQUIRE_DOCKER=1
start=$(date +%s)
hf_smoke_image
echo "test.sh: image ready after $(($(date +%s) - start))s" >&2
# Fleet results: a throwaway PostgreSQL from Debian on 127.0.0.1 for the
# store's PostgreSQL tests (2 runner processes x 50 runs, db migrate, reports
# from PostgreSQL); HALOFORGE_REQUIRE_PG=1 so they cannot skip.
pg_parent=$(mktemp -d)
chmod 755 "$pg_parent"
pg_stop() { scripts/pg-test-server.sh --stop-all "$pg_parent" || true; }
trap pg_stop EXIT
HALOFORGE_TEST_PG_DSN=$(PG_TEST_DIR=$pg_parent scripts/pg-test-server.sh)
export HALOFORGE_TEST_PG_DSN HALOFORGE_REQUIRE_PG=1
# Test-only tools: shellcheck (ci/ lints the nightly's scripts through
# actionlint) and Debian's Chromium (the HTML report is screenshotted in a real
# headless browser); HALOFORGE_REQUIRE_BROWSER=1 so that test cannot skip.
hf_test_pkgs=()
command -v shellcheck >/dev/null 2>&1 || hf_test_pkgs+=(shellcheck)
command -v chromium >/dev/null 2>&1 || hf_test_pkgs+=(chromium fonts-dejavu-core)
if [ ${#hf_test_pkgs[@]} -gt 0 ]; then hf_apt_install "${hf_test_pkgs[@]}"; fi
export HALOFORGE_REQUIRE_BROWSER=1

unformatted=$(git ls-files -z '*.go' | xargs -0 gofmt -l)
if [ -n "$unformatted" ]; then echo "test.sh: gofmt needed: $unformatted" >&2; exit 1; fi
go vet ./...
# The Dagger module is its own Go module (pipeline/go.mod) with its generated
# code committed: vet it too, so a fresh clone compiles it.
(cd pipeline && go vet ./...)
bin/haloforge lock --check --recipes recipes
go test -count=1 -timeout 25m ./...
echo "test.sh: all tests passed in $(($(date +%s) - start))s" >&2
