#!/usr/bin/env bash
# Prepares a fresh Strix Halo box (Debian or Ubuntu) to be haloforge's
# self-hosted nightly runner: Docker, the runner user's groups, the results
# directory, and the kernel arguments that `haloforge doctor` checks.
# Registering the GitHub Actions runner stays yours (see ci/README.md).
#
# usage: sudo ci/setup-runner.sh [--user NAME] [--gtt-gib N] [--apply-grub]
#   --user NAME    the account the Actions runner runs as [the sudo caller]
#   --gtt-gib N    GPU-addressable memory to allow through ttm.pages_limit [120]
#   --apply-grub   write the kernel arguments into /etc/default/grub and run update-grub
#                  (without it the script only prints what to add)
set -euo pipefail

user=${SUDO_USER:-${USER:-root}}
gtt_gib=120
apply_grub=0
while (($#)); do
  case $1 in
  --user) user=$2; shift 2 ;;
  --gtt-gib) gtt_gib=$2; shift 2 ;;
  --apply-grub) apply_grub=1; shift ;;
  -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
  *) echo "setup-runner: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[[ $(id -u) == 0 ]] || { echo "setup-runner: run as root (sudo ci/setup-runner.sh)" >&2; exit 1; }
id "$user" >/dev/null 2>&1 || { echo "setup-runner: no such user '$user' (pass --user NAME)" >&2; exit 1; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

echo "== Docker, Go and build tools (scripts/setup-host.sh)"
# Sourced, not run: the Go it finds or installs (PATH, GOTOOLCHAIN) must stay
# exported for the go build below.
# shellcheck source=scripts/setup-host.sh
. "$root/scripts/setup-host.sh"

echo "== groups: $user joins docker, video and render"
for g in docker video render; do
  if getent group "$g" >/dev/null; then usermod -aG "$g" "$user"; else echo "   warning: no group '$g' on this host (amdgpu not loaded?)"; fi
done

echo "== /var/lib/haloforge (results, models, nightly state) owned by $user"
install -d -o "$user" -g "$user" /var/lib/haloforge

echo "== kernel arguments"
pages=$((gtt_gib * 1024 * 1024 / 4)) # 4 KiB pages
want="amd_iommu=off ttm.pages_limit=$pages ttm.page_pool_size=$pages"
cmdline=$(cat /proc/cmdline)
missing=()
for arg in $want; do [[ " $cmdline " == *" $arg "* ]] || missing+=("$arg"); done
if ((${#missing[@]} == 0)); then
  echo "   present: $want"
elif ((apply_grub)); then
  sed -i -E "s|^(GRUB_CMDLINE_LINUX_DEFAULT=\")(.*)\"|\1\2 ${missing[*]}\"|" /etc/default/grub
  update-grub
  echo "   added to /etc/default/grub: ${missing[*]} (reboot to apply)"
else
  echo "   missing: ${missing[*]}"
  echo "   add them to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub and run update-grub, or rerun with --apply-grub"
fi

kernel=$(uname -r)
echo "== kernel $kernel (gfx1151 needs >= 6.18.4; haloforge doctor checks the exact rules)"

echo "== haloforge doctor"
(cd "$root" && go build -o bin/haloforge ./cmd/haloforge && bin/haloforge doctor) || echo "   doctor reported problems: fix them before the first nightly"

cat <<EOT

Next (yours): register this box as a GitHub Actions runner with the labels
  self-hosted, linux, gfx1151
running as '$user' (Settings > Actions > Runners > New self-hosted runner), then
log out and back in (or reboot) so the new groups apply.
EOT
