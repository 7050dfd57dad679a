#!/usr/bin/env bash
# bisect-e2e-repo.sh SRC DEST: make a local llama.cpp git repository of nine
# first-parent commits from the pinned tree SRC (copied, never modified):
#   c0 import (good)  c1..c3 harmless  c4 breaks the CPU backend's build
#   c5 fixes it  c6 plants a slowdown in ggml_compute_forward (every graph
#   node on the CPU backend spins 200000 iterations first)  c7..c8 harmless (bad)
# It prints "good=<c0> bad=<c8> planted=<c6> broken=<c4>".
set -euo pipefail
src=${1:?SRC}; dest=${2:?DEST}
rm -rf "$dest"; mkdir -p "$dest"
cp -a "$src"/. "$dest"/
cd "$dest"
export GIT_AUTHOR_NAME="haloforge e2e" GIT_AUTHOR_EMAIL="e2e@haloforge.invalid"
export GIT_COMMITTER_NAME="$GIT_AUTHOR_NAME" GIT_COMMITTER_EMAIL="$GIT_AUTHOR_EMAIL"
n=0
commit() { # message
	n=$((n + 1))
	export GIT_AUTHOR_DATE="2026-11-0${n}T12:00:00Z" GIT_COMMITTER_DATE="2026-11-0${n}T12:00:00Z"
	# -f: the tree's own .gitignore (build*) matches files upstream tracks,
	# such as common/cmake/build-info-gen-cpp.cmake
	git add -A -f && git commit -q -m "$1"
}
git init -q -b master .
commit "import llama.cpp b5600"; c0=$(git rev-parse HEAD)
echo "bisect e2e: docs 1" >> docs/build.md; commit "docs: note one"
echo "bisect e2e: docs 2" >> docs/build.md; commit "docs: note two"
sed -i '1i // bisect e2e: a comment only' ggml/src/ggml-cpu/ggml-cpu.c; commit "ggml-cpu: comment"
f=ggml/src/ggml-cpu/ggml-cpu.c
sed -i '2i this line does not compile;' $f; commit "ggml-cpu: refactor (breaks the build)"; c4=$(git rev-parse HEAD)
sed -i '2d' $f; commit "ggml-cpu: fix the build"
# the slowdown: spin before every node of the graph
grep -q '^static void ggml_compute_forward(struct ggml_compute_params \* params, struct ggml_tensor \* tensor) {$' $f
sed -i '/^static void ggml_compute_forward(struct ggml_compute_params \* params, struct ggml_tensor \* tensor) {$/a\    for (volatile int spin = 0; spin < 200000; ++spin) { }' $f
commit "ggml-cpu: validate every node before compute"; c6=$(git rev-parse HEAD)
echo "bisect e2e: docs 3" >> docs/build.md; commit "docs: note three"
echo "bisect e2e: docs 4" >> docs/build.md; commit "docs: note four"; c8=$(git rev-parse HEAD)
echo "good=$c0 bad=$c8 planted=$c6 broken=$c4"
