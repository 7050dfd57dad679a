#!/usr/bin/env bash
# loop.sh: the images the build makes are the images bench runs, end to end.
# 1. haloforge build --profile smoke from the llama.cpp tree LLAMA_SRC on the
#    base tarball BASE_TARBALL, loaded into Docker (exact reference + alias);
# 2. haloforge bench --suite smoke-stack with the same --source: bench
#    resolves the suite's aliases through the same plan to those exact images;
# 3. haloforge report: every case ok, and the report's Images table names
#    each built image with the plan's lock digest and llama.cpp version.
# Needs a Dagger engine the dagger CLI reaches (_EXPERIMENTAL_DAGGER_RUNNER_HOST
# or HALOFORGE_ENGINE) and Docker. Extra arguments go to haloforge build;
# LOOP_BUILD=0 skips the build and checks the images already loaded.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LLAMA_SRC:?set LLAMA_SRC to a llama.cpp source tree}"
: "${BASE_TARBALL:?set BASE_TARBALL to the docker-save tarball of the plan base (haloforge image base --profile smoke -o FILE)}"
hf=${HF:-bin/haloforge}
run=${LOOP_RUN_ID:-loop-$(date -u +%Y%m%d-%H%M%S)}
out=${LOOP_OUT:-$("$hf" home)/loop/$run}
mkdir -p "$out"
src=(--source "llama.cpp=$LLAMA_SRC")

"$hf" plan --profile smoke "${src[@]}" --json > "$out/plan.json"
lock=$(jq -r .lock_digest "$out/plan.json")
version=$(jq -r '[.steps[] | select(.component == "llama.cpp") | .version] | unique | join(",")' "$out/plan.json")
echo "loop: plan lock $lock, llama.cpp $version; images: $(jq -r '[.steps[].runtime.image] | join(" ")' "$out/plan.json")"

if [ "${LOOP_BUILD:-1}" = 1 ]; then
  "$hf" build --profile smoke --base-tarball "$BASE_TARBALL" "${src[@]}" --export "$@"
fi
"$hf" bench --suite smoke-stack "${src[@]}" --run-id "$run" --plain
"$hf" report "$run" > "$out/report.md"
"$hf" report "$run" --format json > "$out/report.json"

fail=0
bad=$(jq -r '[.models[]?.tables[]?.rows[]?.cells[]? | select(.status != "ok")] | length' "$out/report.json")
ok=$(jq -r '[.models[]?.tables[]?.rows[]?.cells[]? | select(.status == "ok")] | length' "$out/report.json")
problems=$(jq -r '.problems // [] | length' "$out/report.json")
cases=$("$hf" bench --suite smoke-stack "${src[@]}" --list | tail -n +2 | wc -l)
if [ "$bad" != 0 ] || [ "$problems" != 0 ] || [ "$ok" -lt "$cases" ]; then
  echo "loop: FAIL: $ok cells ok, $bad not ok, $problems problems for $cases cases (see $out/report.md)"; fail=1
fi
want=$(jq -r '[.steps[].runtime.image] | sort | join(" ")' "$out/plan.json")
got=$(jq -r '[.images[]?.ref] | sort | join(" ")' "$out/report.json")
if [ "$got" != "$want" ]; then
  echo "loop: FAIL: the run used images [$got], the build made [$want]"; fail=1
fi
n=$(jq -r --arg l "$lock" --arg v "$version" '[.images[]? | select(.lock_digest == $l and .version == $v)] | length' "$out/report.json")
if [ "$n" != "$(jq '.steps | length' "$out/plan.json")" ]; then
  echo "loop: FAIL: not every image in the report names lock $lock and llama.cpp $version"; fail=1
fi
sed -n '/^## Images/,$p' "$out/report.md"
[ "$fail" = 0 ] && echo "loop: ok: run $run benched exactly the built images ($out)"
exit "$fail"
