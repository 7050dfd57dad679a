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
go build -o bin/haloforge ./cmd/haloforge
if [ "$(id -u)" -ne 0 ]; then
	sudo env HALOFORGE_HOME="$(bin/haloforge home)" bin/haloforge image smoke
else
	bin/haloforge image smoke
fi
echo "test.sh: image ready after $(($(date +%s) - start))s" >&2
go vet ./...
go test -timeout 25m ./...
echo "test.sh: all tests passed in $(($(date +%s) - start))s" >&2
