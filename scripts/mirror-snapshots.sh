#!/usr/bin/env bash
# Builds a haloforge source mirror from local bare repository snapshots,
# fetching nothing: each SNAPSHOTS/OWNER+NAME (a bare repository, or a
# directory holding one at repo/) is linked as MIRROR/HOST/OWNER/NAME.git, the
# path `haloforge recipes check` and `build --mirror` look up for
# https://HOST/OWNER/NAME.git (internal/mirror). ALIAS arguments
# UPSTREAM_OWNER/NAME=SNAPSHOT_OWNER/NAME serve an upstream from another
# snapshot, e.g. a fork that carries the upstream's commits and tags.
#
# usage: scripts/mirror-snapshots.sh SNAPSHOTS MIRROR [ALIAS...]   (HOST: $MIRROR_HOST, default github.com)
set -euo pipefail

snapshots=${1:?usage: scripts/mirror-snapshots.sh SNAPSHOTS MIRROR [UPSTREAM/NAME=SNAPSHOT/NAME...]}
mirror=${2:?usage: scripts/mirror-snapshots.sh SNAPSHOTS MIRROR [UPSTREAM/NAME=SNAPSHOT/NAME...]}
shift 2
host=${MIRROR_HOST:-github.com}
[[ -d $snapshots ]] || { echo "mirror-snapshots: $snapshots is not a directory (set MIRROR_SNAPSHOTS)" >&2; exit 2; }
snapshots=$(cd "$snapshots" && pwd)
mkdir -p "$mirror"

gitdir() { # the bare repository of snapshot directory $1, or nothing
  local d
  for d in "$1" "$1/repo"; do
    if [[ -f $d/HEAD && -d $d/objects && -d $d/refs ]]; then echo "$d"; return; fi
  done
}

link() { # link $1 (a git dir) as $2/$3 (OWNER/NAME)
  local dest=$mirror/$host/$2.git
  mkdir -p "$(dirname "$dest")"
  if [[ -e $dest && ! -L $dest ]]; then
    echo "mirror-snapshots: $dest exists and is not a link; left as it is" >&2
    return
  fi
  ln -sfn "$1" "$dest"
  echo "$dest -> $1"
}

for snap in "$snapshots"/*+*; do
  name=$(basename "$snap")
  g=$(gitdir "$snap")
  [[ -n $g ]] || continue
  link "$g" "${name%%+*}/${name#*+}"
done
for alias in "$@"; do
  up=${alias%%=*} from=${alias#*=}
  g=$(gitdir "$snapshots/${from/\//+}")
  if [[ $up == "$alias" || -z $g ]]; then
    echo "mirror-snapshots: alias $alias: want UPSTREAM_OWNER/NAME=SNAPSHOT_OWNER/NAME with $snapshots/${from/\//+} a snapshot" >&2
    exit 2
  fi
  link "$g" "$up"
done
