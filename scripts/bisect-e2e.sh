#!/usr/bin/env bash
# bisect-e2e.sh: `haloforge bisect` for real, on a local engine and Docker.
#
#  1. a local llama.cpp repository of nine first-parent commits from the
#     pinned tree (scripts/bisect-e2e-repo.sh): one plants a slowdown in the
#     CPU backend's ggml_compute_forward, one does not build;
#  2. two checkouts whose stack.lock pins llama.cpp at the first and the last
#     commit; each builds the smoke profile's llama-cpu image from that commit
#     through the pipeline (haloforge build --source, --base-tarball) and runs
#     a one-case suite (llama-bench, CPU backend, tiny Q4_0 model) as the good
#     and the bad run;
#  3. compare must find the regression and suggest bisect;
#  4. bisect runs, is killed with SIGKILL after its first commit step, and
#     --resume must finish it without rebuilding or rerunning a logged step
#     and name the planted commit.
#
# Not part of CI: every step is a llama.cpp build (hours cold on 2 cores;
# the pipeline's caches make repeated runs cheaper).
# Environment: LLAMA_SRC (the pinned tree, read-only), BASE_TARBALL, WORK,
# HALOFORGE_HOME (default WORK/home), ENGINE_LOCK and DOCKER_LOCK (flock files
# held for the whole script on a machine where others share the engine or
# the Docker daemon), the engine variables haloforge build reads.
set -euo pipefail
: "${LLAMA_SRC:?set LLAMA_SRC to a llama.cpp tree at the pinned b5600 (it is only read)}"
: "${BASE_TARBALL:?set BASE_TARBALL to the plan base tarball (haloforge image base --profile smoke -o FILE)}"
WORK=${WORK:-/tmp/haloforge-bisect-e2e}
export HALOFORGE_HOME=${HALOFORGE_HOME:-$WORK/home}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HF=$ROOT/bin/haloforge
say() { echo "=== $(date -u +%T) $*"; }
fail() { echo "bisect-e2e: FAIL: $*" >&2; exit 1; }

if [ -n "${ENGINE_LOCK:-}" ]; then exec 8>"$ENGINE_LOCK"; say "waiting for $ENGINE_LOCK"; flock 8; fi
if [ -n "${DOCKER_LOCK:-}" ]; then exec 9>"$DOCKER_LOCK"; say "waiting for $DOCKER_LOCK"; flock 9; fi

rm -rf "$WORK" && mkdir -p "$WORK" "$HALOFORGE_HOME"
say "repository"
eval "$("$ROOT"/scripts/bisect-e2e-repo.sh "$LLAMA_SRC" "$WORK/llama.cpp" | tail -1)"
echo "good=$good bad=$bad planted=$planted broken=$broken"
pinned=$(awk '/name: llama.cpp/{f=1} f&&/commit:/{print $2; exit}' "$ROOT/stack.lock")

for end in good bad; do
	commit=${!end}
	dir=$WORK/$end
	say "$end end: checkout pinning llama.cpp $commit"
	mkdir -p "$dir/src"
	cp -r "$ROOT/recipes" "$ROOT/stack.lock" "$dir/"
	sed -i "s/$pinned/$commit/" "$dir/stack.lock" "$dir/recipes/components/llama.cpp.yaml"
	(cd "$dir" && "$HF" lock --check)
	git -C "$WORK/llama.cpp" archive "$commit" | tar -x -C "$dir/src"
	say "$end end: build"
	(cd "$dir" && "$HF" build --profile smoke --image llama-cpu --base-tarball "$BASE_TARBALL" \
		--source llama.cpp="$dir/src" --export --quiet) | tee "$dir/build.out"
	ref=$(sed -n 's/^exported llama-cpu as \([^ ]*\).*/\1/p' "$dir/build.out")
	[ -n "$ref" ] || fail "no exported llama-cpu image"
	cat > "$dir/suite.yaml" <<SUITE
name: bisect-e2e
description: llama-bench on the CPU backend of the built llama-cpu image, tiny Q4_0 model
profile: smoke
defaults:
  timeout: 10m
  repetitions: 5
backends:
  cpu:
    image: $ref
models:
  tiny-q4_0:
    tiny: {type: q4_0}
cases:
  - tool: llama-bench
    models: [tiny-q4_0]
    backends: [cpu]
    fa: [0]
    tests: [pp64/tg16]
SUITE
	say "$end end: bench"
	(cd "$dir" && "$HF" bench --suite suite.yaml --run-id "e2e-$end" --plain)
done

say "compare"
set +e
"$HF" compare e2e-good e2e-bad > "$WORK/compare.md"; rc=$?
set -e
cat "$WORK/compare.md"
[ $rc = 3 ] || fail "compare exit status $rc, want 3 (regression)"
grep -q "haloforge bisect --good e2e-good --bad e2e-bad" "$WORK/compare.md" || fail "compare does not suggest bisect"

# tg16: pp64 of the tiny model swings several-fold between runs on a loaded
# 2-core machine (thread barriers), tg16 follows the code
args=(bisect --good e2e-good --bad e2e-bad --test tg16 --source llama.cpp="$WORK/llama.cpp" --base-tarball "$BASE_TARBALL" --plain --reps 5)
say "bisect, killed after its first commit step"
(cd "$ROOT" && exec "$HF" "${args[@]}") > "$WORK/bisect1.out" 2>&1 &
pid=$!
until log=$(ls "$HALOFORGE_HOME"/bisect/*/log.jsonl 2>/dev/null) && grep -q '"phase":"commit".*"verdict"' "$log"; do
	kill -0 $pid 2>/dev/null || { cat "$WORK/bisect1.out"; fail "bisect ended before its first commit step"; }
	sleep 5
done
kill -9 $pid
wait $pid || true
cp "$log" "$WORK/log-at-kill.jsonl"
say "bisect --resume"
set +e
(cd "$ROOT" && "$HF" "${args[@]}" --resume) | tee "$WORK/bisect2.out"; rc=${PIPESTATUS[0]}
set -e
[ $rc = 0 ] || fail "bisect --resume exit status $rc"
grep -q "^$planted is the first bad commit" "$WORK/bisect2.out" || fail "bisect did not name the planted commit $planted"
# nothing finished before the kill was built again: one build record per
# step (a build record's next field is image, build_sec or build_error)
dups=$(grep -o '"step":{"phase":"[a-z]*","key":"[^"]*","\(image\|build_sec\|build_error\)"' "$log" |
	sed 's/,"\(image\|build_sec\|build_error\)"$//' | sort | uniq -d)
[ -z "$dups" ] || fail "rebuilt after --resume: $dups"
# and no measurement was rerun: one record per step and repetition count
dupm=$(grep -o '"step":{"phase":"[a-z]*","key":"[^"]*","run":"[^"]*","reps":[0-9]*' "$log" |
	sed 's/,"run":"[^"]*"//' | sort | uniq -d)
[ -z "$dupm" ] || fail "measured again after --resume: $dupm"
grep -q "$broken" "$log" && grep -q '"build_error"' "$log" || echo "note: the broken commit was not visited"
say "PASS: bisect named $planted"
