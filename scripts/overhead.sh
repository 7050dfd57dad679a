#!/usr/bin/env bash
# overhead.sh: harness overhead of haloforge bench on one llama-bench case,
# against the same llama-bench command run directly with `docker run` in the
# same image, alternating, N times each (default 3). Prints per-run wall time
# and t/s, then the ratios of the medians. Needs bin/haloforge, the smoke image
# and the tiny model in the cache (scripts/smoke.sh makes all three).
#   [BACKEND=cpu|vulkan] scripts/overhead.sh [N] [llama-bench test args, default: -p 256 -n 64 -r 3]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-3}
shift || true
targs=("$@")
[ ${#targs[@]} -gt 0 ] || targs=(-p 256 -n 64 -r 3)
img=haloforge/runtime-smoke:sid
prefix=${HALOFORGE_CONTAINER_PREFIX:-haloforge-}
backend=${BACKEND:-cpu}
envs=()
[ "$backend" != vulkan ] || envs=(-e GGML_VK_VISIBLE_DEVICES=0)
hf=bin/haloforge
home=$($hf home)
model=$home/models/tiny/tiny-q4_0.gguf
[ -f "$model" ] || { echo "overhead.sh: $model missing: run scripts/smoke.sh first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Parse -p/-n/-r back into a one-case suite with exactly the same argv.
pp=0 tg=0 reps=3
set -- "${targs[@]}"
while [ $# -gt 0 ]; do
	case $1 in -p) pp=$2 ;; -n) tg=$2 ;; -r) reps=$2 ;; esac
	shift 2
done
cat > "$work/one.yaml" <<YAML
name: overhead
backends:
  $backend: {image: $img}
models:
  tiny-q4_0: {tiny: {type: q4_0}}
cases:
  - {tool: llama-bench, models: [tiny-q4_0], backends: [$backend], tests: [pp$pp/tg$tg], repetitions: $reps}
YAML
argv=$($hf bench --suite "$work/one.yaml" --list | awk 'NR==2 { for (i = 5; i <= NF; i++) printf "%s ", $i }')
echo "case argv: $argv" >&2
ts() { # avg_ts of each record in llama-bench JSON on stdin, space separated
	python3 -c 'import json,sys; print(" ".join("%.2f" % r["avg_ts"] for r in json.load(sys.stdin)))' 2>/dev/null ||
		grep -o '"avg_ts": [0-9.]*' | awk '{ printf "%s ", $2 }'
}
now() { date +%s.%N; }
# The same supplementary groups haloforge adds: the host's video and render gids.
groups=$(awk -F: '$1 == "video" || $1 == "render" { printf "--group-add %s ", $3 }' /etc/group)
printf 'run\tmode\twall_s\tt/s (pp, tg)\tcontainer_s\n'
for i in $(seq 1 "$n"); do
	t0=$(now)
	# shellcheck disable=SC2086 # argv and groups are word lists
	docker run --rm --name "${prefix}direct-$i" --network none --ipc host --security-opt seccomp=unconfined $groups \
		"${envs[@]}" -v "$home/models:/models:ro" --entrypoint llama-bench "$img" ${argv#llama-bench } \
		>"$work/direct.json" 2>"$work/direct.err"
	t1=$(now)
	printf '%d\tdocker run\t%.2f\t%s\n' "$i" "$(echo "$t1 - $t0" | bc)" "$(ts <"$work/direct.json")"
	t0=$(now)
	$hf bench --suite "$work/one.yaml" --plain --container-prefix "$prefix" >"$work/hf.out" 2>&1
	t1=$(now)
	runs=("$home"/runs/*-overhead*)
	run=$(basename "${runs[-1]}")
	printf '%d\thaloforge\t%.2f\t%s\n' "$i" "$(echo "$t1 - $t0" | bc)" \
		"$(python3 -c 'import json,sys,glob; c=json.load(open(glob.glob(sys.argv[1]+"/cases/*.json")[0])); print(" ".join("%.2f" % r["avg_ts"] for r in c["llama"]) + "\t%.2f" % c["wall_sec"])' "$home/runs/$run")"
done
