#!/usr/bin/env bash
# pg-test-server.sh: start a throwaway PostgreSQL cluster for haloforge's
# fleet-results tests and print its DSN on stdout (everything else goes to
# stderr). Installs Debian's postgresql package if no server binaries are
# found. The cluster listens on 127.0.0.1 only, on a free port, with its data
# in a fresh temporary directory owned by the postgres user (or by the
# current user when not root); trust authentication is safe there because
# nothing but this host can connect.
#
# Usage:
#   export HALOFORGE_TEST_PG_DSN="$(scripts/pg-test-server.sh)"
#   go test ./bench/store/ ./cmd/haloforge/
#   scripts/pg-test-server.sh --stop DATADIR    # stop it (the DSN's comment
#                                                # line on stderr names DATADIR)
#
# Environment: PG_TEST_DIR chooses the data directory's parent (default
# $TMPDIR or /tmp).
#
# A throwaway parent, as scripts/test.sh and `make test-pg` do it:
#   parent=$(mktemp -d); chmod 755 "$parent"    # postgres must traverse it
#   dsn=$(PG_TEST_DIR=$parent scripts/pg-test-server.sh)
#   ...
#   scripts/pg-test-server.sh --stop-all "$parent"
# --stop-all stops every cluster (hf-pgtest.*) under PARENT, going on past a
# failed stop, then removes PARENT and all in it; it exits 1 if a stop failed.
set -euo pipefail

log() { echo "pg-test-server: $*" >&2; }

find_bindir() {
	local d
	for d in /usr/lib/postgresql/*/bin; do
		if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
			echo "$d"
		fi
	done | sort -V | tail -n1
}

# as_owner runs a command as the cluster's owner: postgres when we are root
# (initdb refuses to run as root), else ourselves.
as_owner() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# stop_cluster DATADIR: stop the server and remove its data directory (kept
# when the stop fails).
stop_cluster() {
	as_owner "$bindir/pg_ctl" -D "$1" -m fast -w stop >&2 && rm -rf "$1"
}

if [ "${1:-}" = "--stop" ]; then
	bindir=$(find_bindir)
	[ -n "${2:-}" ] || { log "usage: $0 --stop DATADIR"; exit 2; }
	stop_cluster "$2"
	exit 0
fi

if [ "${1:-}" = "--stop-all" ]; then
	bindir=$(find_bindir)
	[ -n "${2:-}" ] || { log "usage: $0 --stop-all PARENT"; exit 2; }
	rc=0
	for d in "$2"/hf-pgtest.*; do
		if [ -d "$d" ]; then stop_cluster "$d" || rc=1; fi
	done
	rm -rf "$2"
	exit "$rc"
fi

bindir=$(find_bindir)
if [ -z "$bindir" ]; then
	sudo=""
	if [ "$(id -u)" -ne 0 ]; then
		command -v sudo >/dev/null || { log "PostgreSQL server binaries not found and not root: run 'apt-get install -y postgresql' as root first"; exit 1; }
		sudo="sudo"
	fi
	log "installing postgresql from the Debian archive"
	$sudo apt-get update -qq >&2
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
	bindir=$(find_bindir)
	[ -n "$bindir" ] || { log "postgresql installed but no initdb under /usr/lib/postgresql/*/bin"; exit 1; }
fi

# A free port: ask the kernel for one (bind to port 0), then hand it to postgres.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
	shuf -i 20000-60000 -n 1)

parent=${PG_TEST_DIR:-${TMPDIR:-/tmp}}
data=$(mktemp -d "$parent/hf-pgtest.XXXXXX")
if [ "$(id -u)" -eq 0 ]; then
	chown postgres: "$data"
fi
chmod 700 "$data"

as_owner "$bindir/initdb" -D "$data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null 2>"$data.initdb.log" ||
	{ cat "$data.initdb.log" >&2; exit 1; }
rm -f "$data.initdb.log"
# Socket directory inside the data dir: no need for /run/postgresql.
as_owner "$bindir/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
	-o "-c listen_addresses=127.0.0.1 -p $port -k $data -c max_connections=100 -c fsync=off" start >&2 ||
	{ cat "$data/server.log" >&2; exit 1; }

psql_() { as_owner psql -X -q -h 127.0.0.1 -p "$port" -U postgres -v ON_ERROR_STOP=1 "$@"; }
psql_ -d postgres -c "CREATE ROLE haloforge LOGIN PASSWORD 'haloforge'" >&2
psql_ -d postgres -c "CREATE DATABASE haloforge OWNER haloforge" >&2

log "cluster in $data on 127.0.0.1:$port (stop: $0 --stop $data)"
echo "postgres://haloforge:haloforge@127.0.0.1:$port/haloforge?sslmode=disable"
