#!/usr/bin/env bash
# The nightly's steps, one per workflow step (ci/nightly.yml). `ci/nightly.sh all`
# runs them in order, exactly as the workflow does; with HALOFORGE_PROFILE=smoke
# it runs on any Debian machine with Docker (no GPU, no Dagger engine): the
# build step then makes the Debian-package smoke image instead of the ROCm stack.
#
# Environment (defaults in brackets):
#   HALOFORGE_PROFILE  full | smoke [full]
#   HALOFORGE_TARGET   GPU target [gfx1151]
#   HALOFORGE_SUITE    suite name or file [seed; smoke for the smoke profile]
#   HALOFORGE_PINS     "component=ref ..." pin overrides for this night (a commit, branch or tag)
#   HALOFORGE_HOME     results, models, nightly state [haloforge's default]
#   HALOFORGE_OUT      where report/artifacts go [./nightly-out]
#   HALOFORGE_THRESHOLD regression threshold for compare [5%]
#   DAGGER_ENGINE_NAME, DAGGER_CACHE_VOLUME, DAGGER_ENGINE_IMAGE  the persistent engine
#   HALOFORGE_ENGINE   a shared Dagger engine several runners build on
#                      (tcp://HOST:PORT, ssh://USER@HOST, docker-container://NAME
#                      with DOCKER_HOST); set, no local engine is started
#   HALOFORGE_CACHED_FROM  a keys file or "docker": the plan marks what the shared
#                      cache already holds (nightly-out/plan-cache.txt)
#   HALOFORGE_DB       a fleet's PostgreSQL results database (postgres://...)
#   HALOFORGE_MIRROR   source mirror (DIR/HOST/OWNER/NAME.git); set, the build step
#                      runs `recipes check` after the pin updates and stops on an error,
#                      and build reads every git source (and submodule) from it
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(dirname "$here")
cd "$root"

profile=${HALOFORGE_PROFILE:-full}
target=${HALOFORGE_TARGET:-gfx1151}
if [[ $profile == smoke ]]; then suite=${HALOFORGE_SUITE:-smoke}; else suite=${HALOFORGE_SUITE:-seed}; fi
[[ $profile == smoke && $suite == seed ]] && suite=smoke
out=${HALOFORGE_OUT:-$root/nightly-out}
threshold=${HALOFORGE_THRESHOLD:-5%}
hf=$root/bin/haloforge
engine=${DAGGER_ENGINE_NAME:-haloforge-dagger-engine}
volume=${DAGGER_CACHE_VOLUME:-haloforge-dagger-cache}
mkdir -p "$out"
# The run id of tonight's bench, shared between steps through $out.
run_id_file=$out/run-id
# A shared engine replaces the local one for every dagger call below.
if [[ -n ${HALOFORGE_ENGINE:-} ]]; then
  export _EXPERIMENTAL_DAGGER_RUNNER_HOST=$HALOFORGE_ENGINE
fi

log() { printf '\n== nightly %s: %s\n' "$step" "$*"; }
summary() { if [[ -n ${GITHUB_STEP_SUMMARY:-} ]]; then cat >>"$GITHUB_STEP_SUMMARY"; else cat >>"$out/summary.md"; fi; }
state_dir() { local d; d=$("$hf" home)/nightly; mkdir -p "$d"; echo "$d"; }

run_step() {
  step=$1
  case $step in
  cli)
    log "building bin/haloforge"
    go build -o "$hf" ./cmd/haloforge
    "$hf" --version
    ;;
  doctor)
    log "checking the host"
    if ! "$hf" doctor | tee "$out/doctor.txt"; then
      if [[ $profile == smoke ]]; then
        log "doctor failed: expected without an AMD GPU in the smoke profile; going on"
      else
        { echo "## haloforge nightly: host check failed"; echo '```'; cat "$out/doctor.txt"; echo '```'; } | summary
        return 1
      fi
    fi
    "$hf" doctor --json >"$out/doctor.json" || true
    ;;
  engine)
    if [[ $profile == smoke ]]; then log "smoke profile: no Dagger engine needed"; return 0; fi
    if [[ -n ${HALOFORGE_ENGINE:-} ]]; then
      log "using the shared engine $HALOFORGE_ENGINE (no local engine)"
      return 0
    fi
    if docker container inspect "$engine" >/dev/null 2>&1; then
      log "engine $engine already present"
      docker start "$engine" >/dev/null
    else
      log "starting engine $engine with cache volume $volume"
      docker volume create "$volume" >/dev/null
      docker run -d --name "$engine" --restart unless-stopped --privileged \
        -v "$volume":/var/lib/dagger \
        -v "$here/engine.json":/etc/dagger/engine.json:ro \
        "${DAGGER_ENGINE_IMAGE:?set DAGGER_ENGINE_IMAGE to the engine image matching dagger.json engineVersion}"
    fi
    ;;
  build)
    if [[ $profile == smoke ]]; then
      log "smoke profile: building the Debian-package runtime image"
      "$hf" image smoke
    else
      # Tonight's pin overrides move the recipes of this checkout (and its
      # lock) first; the run records the lock it used.
      local p
      for p in ${HALOFORGE_PINS:-}; do
        "$hf" lock --update --yes --recipes recipes --lock stack.lock --ref "$p"
      done
      # Prove tonight's pins, refs and CMake options against the sources
      # before hours of building (offline, from the mirror).
      if [[ -n ${HALOFORGE_MIRROR:-} ]]; then
        "$hf" recipes check --recipes recipes --target "$target" | tee "$out/recipes-check.txt" ||
          { { echo "## haloforge nightly: recipes check failed"; echo '```'; cat "$out/recipes-check.txt"; echo '```'; } | summary; return 1; }
      fi
      # What this runner's plan is (keys for other runners' --cached-from) and
      # what the shared cache already holds of it: the same recipes and lock
      # as the build below, after the overrides.
      "$hf" plan --target "$target" --recipes recipes --lock stack.lock --keys >"$out/plan.keys"
      if [[ -n ${HALOFORGE_CACHED_FROM:-} ]]; then
        "$hf" plan --target "$target" --recipes recipes --lock stack.lock --cached-from "$HALOFORGE_CACHED_FROM" | tee "$out/plan-cache.txt"
      fi
      log "building the stack for $target (engine: ${HALOFORGE_ENGINE:-${_EXPERIMENTAL_DAGGER_RUNNER_HOST:-local}})"
      "$hf" build --target "$target" --recipes recipes --lock stack.lock
    fi
    ;;
  export)
    if [[ $profile == smoke ]]; then
      log "smoke profile: the image is already in Docker"
    else
      # Every step is cached from the build step: this only loads the images.
      "$hf" build --target "$target" --recipes recipes --lock stack.lock --export
    fi
    docker images 'haloforge/*' --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.CreatedSince}}' | tee "$out/images.txt"
    ;;
  bench)
    local id
    id="nightly-$(date -u +%Y%m%d-%H%M%S)-$target"
    echo "$id" >"$run_id_file"
    log "bench $suite as $id"
    local rc=0
    # The suite's image aliases resolve through the plan of the same recipes and
    # lock the build step used, to the exact images it exported.
    "$hf" bench --suite "$suite" --target "$target" --recipes recipes --lock stack.lock --run-id "$id" --plain || rc=$?
    if [[ $rc == 2 ]]; then
      # A hung or crashed case is one row of the report, not the end of the night.
      log "some cases hung or crashed: they are rows of the report; compare treats them as regressions"
      return 0
    fi
    return "$rc"
    ;;
  report)
    local id
    id=$(cat "$run_id_file")
    "$hf" report "$id" | tee "$out/report.md"
    "$hf" report "$id" --format json >"$out/report.json"
    "$hf" report "$id" --html -o "$out/report.html"
    "$hf" history >"$out/history.txt" || true
    ;;
  compare)
    local id base rc=0
    id=$(cat "$run_id_file")
    # A reference check that came out wrong (a fast but wrong build) fails
    # the night even without a baseline, and the night is never last-good.
    "$hf" report "$id" --fail-wrong >/dev/null || rc=$?
    if [[ $rc != 0 ]]; then
      echo "$rc" >"$out/compare.rc"
      echo "## haloforge nightly $id: WRONG RESULTS (a reference check failed, see report.md)" | summary
      return "$rc"
    fi
    base=$(cat "$(state_dir)/last-good" 2>/dev/null || true)
    if [[ -z $base ]]; then
      log "no last good nightly yet: $id becomes the baseline"
      echo "## haloforge nightly $id: first run, no baseline" | summary
      echo 0 >"$out/compare.rc"
      return 0
    fi
    log "compare $base -> $id (threshold $threshold)"
    "$hf" compare "$base" "$id" --threshold "$threshold" | tee "$out/compare.txt" || rc=${PIPESTATUS[0]}
    echo "$rc" >"$out/compare.rc"
    {
      if [[ $rc == 0 ]]; then echo "## haloforge nightly $id: no regression against $base"
      else echo "## haloforge nightly $id: REGRESSION against $base"; fi
      echo '```'; cat "$out/compare.txt"; echo '```'
    } | summary
    return "$rc"
    ;;
  publish)
    local id
    id=$(cat "$run_id_file")
    cp -r "$("$hf" home)/runs/$id" "$out/run"
    if [[ $(cat "$out/compare.rc" 2>/dev/null || echo 1) == 0 ]]; then
      echo "$id" >"$(state_dir)/last-good"
      log "$id is now the last good nightly"
    fi
    if [[ -f $out/report.md ]]; then summary <"$out/report.md"; fi
    ;;
  push-results)
    # Publishes report.html and history to the `results` branch (GitHub Pages can serve it).
    local id tmp
    id=$(cat "$run_id_file")
    tmp=$(mktemp -d)
    git fetch origin results:results 2>/dev/null || true
    git worktree add "$tmp" results 2>/dev/null || git worktree add --orphan -b results "$tmp"
    mkdir -p "$tmp/runs/$id"
    cp "$out/report.html" "$tmp/runs/$id/index.html"
    cp "$out/report.html" "$tmp/index.html"
    cp "$out/history.txt" "$tmp/history.txt"
    git -C "$tmp" add -A
    git -C "$tmp" -c user.name=haloforge-nightly -c user.email=nightly@haloforge.invalid commit -qm "nightly $id"
    git -C "$tmp" push origin results
    git worktree remove --force "$tmp"
    ;;
  all)
    # As in the workflow: publish runs even when compare finds a regression,
    # and the regression still fails the whole run.
    local s rc=0
    for s in cli doctor engine build export bench report; do run_step "$s"; done
    run_step compare || rc=$?
    run_step publish
    return "$rc"
    ;;
  *)
    echo "ci/nightly.sh: unknown step '$step' (steps: cli doctor engine build export bench report compare publish push-results all)" >&2
    return 2
    ;;
  esac
}

run_step "${1:?usage: ci/nightly.sh STEP (cli doctor engine build export bench report compare publish push-results all)}"
