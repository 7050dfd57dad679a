#!/usr/bin/env bash
# setup-host.sh: make a fresh Debian machine ready to build and run haloforge.
#
#   - Debian packages: docker.io (unless a Docker daemon is already installed),
#     debootstrap, git, make, ca-certificates, curl (apt-get only when something
#     is missing)
#   - Go: /usr/local/go or the go on PATH if it satisfies go.mod; else Debian's
#     golang-go with GOTOOLCHAIN=auto when it is new enough (>= 1.21) to fetch
#     the go.mod toolchain itself; else that toolchain straight from the Go module
#     proxy (module golang.org/toolchain), unpacked under ~/.cache/haloforge
#   - dockerd running and answering (systemctl, service, or started directly)
#
# Idempotent. Run it, or source it to keep Go on PATH (scripts/smoke.sh and
# scripts/test.sh source it; they also use hf_smoke_image). Needs root or sudo
# for the installs.
set -euo pipefail

hf_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
hf_sudo=""
if [ "$(id -u)" -ne 0 ]; then hf_sudo="sudo"; fi
hf_log() { echo "setup-host: $*" >&2; }

# version_ge A B: A >= B (dotted versions).
hf_version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

hf_apt_updated=""
hf_apt_install() {
	if [ -z "$hf_apt_updated" ]; then
		hf_log "apt-get update"
		$hf_sudo apt-get update -qq
		hf_apt_updated=1
	fi
	hf_log "apt-get install $*"
	DEBIAN_FRONTEND=noninteractive $hf_sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# 1. Packages.
hf_missing=()
if ! command -v dockerd >/dev/null 2>&1; then hf_missing+=(docker.io); fi
for hf_c in debootstrap git make curl; do
	command -v "$hf_c" >/dev/null 2>&1 || [ -x "/usr/sbin/$hf_c" ] || hf_missing+=("$hf_c")
done
[ -f /etc/ssl/certs/ca-certificates.crt ] || hf_missing+=(ca-certificates)
if [ ${#hf_missing[@]} -gt 0 ]; then hf_apt_install "${hf_missing[@]}"; fi

# 2. Go.
hf_go_want=$(awk '$1 == "go" { print $2; exit }' "$hf_root/go.mod")
hf_go_ok() { # path to a go binary
	local v
	v=$("$1" env GOVERSION 2>/dev/null) || return 1
	v=${v#go}
	hf_version_ge "${v%%-*}" "$hf_go_want"
}
hf_go=""
for hf_g in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go; do
	if [ -n "$hf_g" ] && [ -x "$hf_g" ] && hf_go_ok "$hf_g"; then hf_go=$hf_g; break; fi
done
if [ -z "$hf_go" ]; then
	hf_arch=$(dpkg --print-architecture)
	hf_deb_go=$(apt-cache policy golang-go 2>/dev/null | awk '/Candidate:/ { print $2 }' | sed -E 's/^[0-9]+://; s/[~+-].*//')
	if [ -n "$hf_deb_go" ] && [ "$hf_deb_go" != "(none)" ] && hf_version_ge "$hf_deb_go" 1.21; then
		hf_log "Go $hf_go_want: Debian golang-go $hf_deb_go with GOTOOLCHAIN=auto"
		hf_apt_install golang-go
		export GOTOOLCHAIN=auto
		hf_go=/usr/bin/go
	else
		hf_tc="v0.0.1-go${hf_go_want}.linux-${hf_arch}"
		hf_dir="${XDG_CACHE_HOME:-$HOME/.cache}/haloforge/toolchain/go${hf_go_want}"
		if [ ! -x "$hf_dir/bin/go" ]; then
			command -v unzip >/dev/null 2>&1 || hf_apt_install unzip
			hf_proxy=${GOPROXY:-https://proxy.golang.org}
			hf_proxy=${hf_proxy%%,*}
			hf_log "Go $hf_go_want: golang.org/toolchain@$hf_tc from $hf_proxy"
			hf_tmp=$(mktemp -d)
			curl -fsSL "$hf_proxy/golang.org/toolchain/@v/$hf_tc.zip" -o "$hf_tmp/go.zip"
			unzip -q "$hf_tmp/go.zip" -d "$hf_tmp"
			mkdir -p "$(dirname "$hf_dir")"
			rm -rf "$hf_dir"
			mv "$hf_tmp/golang.org/toolchain@$hf_tc" "$hf_dir"
			chmod +x "$hf_dir"/bin/* "$hf_dir"/pkg/tool/*/* 2>/dev/null || true
			rm -rf "$hf_tmp"
		fi
		hf_go=$hf_dir/bin/go
	fi
fi
hf_gobin=$(dirname "$hf_go")
export PATH="$hf_gobin:$PATH"
hf_log "$(go version)"

# 3. Docker daemon.
hf_docker_ok() { $hf_sudo docker info >/dev/null 2>&1; }
if ! hf_docker_ok; then
	hf_log "starting dockerd"
	if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
		$hf_sudo systemctl start docker || true
	elif command -v service >/dev/null 2>&1 && [ -x /etc/init.d/docker ]; then
		$hf_sudo service docker start || true
	fi
	for _ in $(seq 1 20); do hf_docker_ok && break; sleep 1; done
	if ! hf_docker_ok; then
		$hf_sudo sh -c 'nohup dockerd >/var/log/haloforge-dockerd.log 2>&1 &'
		for _ in $(seq 1 60); do hf_docker_ok && break; sleep 1; done
	fi
	hf_docker_ok || { hf_log "dockerd does not answer: see /var/log/haloforge-dockerd.log"; exit 1; }
fi
if ! docker info >/dev/null 2>&1; then
	hf_log "warning: $(id -un) cannot reach the Docker socket: run as root, or sudo usermod -aG docker $(id -un) and log in again"
fi
hf_log "docker $(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null || echo reachable via sudo)"

# hf_smoke_image: build bin/haloforge and the smoke runtime image (Debian sid
# packages, no registry). Run from the repository root. debootstrap needs root:
# the image is built as root (sudo, same HALOFORGE_HOME) when we are not.
hf_smoke_image() {
	go build -o bin/haloforge ./cmd/haloforge
	if [ "$(id -u)" -ne 0 ]; then
		sudo env HALOFORGE_HOME="$(bin/haloforge home)" bin/haloforge image smoke
	else
		bin/haloforge image smoke
	fi
}
