#!/usr/bin/env bash
# Proves the README's Quick start works on a machine that has nothing: builds a minimal Debian 12 root with
# `debootstrap --variant=minbase bookworm`, copies in a clean export of the committed tree (git archive: what a user
# clones, no build folders, no uncommitted edits, no ../shared), and runs inside it exactly the README's two commands:
#   bash scripts/install-deps.sh && make demo
#   bash scripts/install-deps.sh && make test
# Each step's time is printed; the exit status is non-zero if any step fails.
#
# Needs: root (chroot and mounts), network access to a Debian mirror, about 4 GB free under the root's parent, and
# the `debootstrap` Debian package on the host (`apt-get install debootstrap`; it is deliberately not in
# install-deps.sh: only this script uses it). Takes ~25 minutes on 2 shared cores and downloads ~350 MB: not in CI
# (30 minutes on 2 cores); run it before a release and whenever scripts/install-deps.sh, the Makefile or the build's
# package needs change (see README "Testing on a fresh machine").
#
#   sudo bash scripts/test-fresh-machine.sh [REV]        REV: the commit to test (default HEAD)
# Environment: MIRROR (default http://deb.debian.org/debian), WORKDIR (parent of the root, default /var/tmp),
# KEEP=1 keeps the root afterwards (its path is printed), DEBOOTSTRAP_CACHE=DIR reuses downloaded .debs.
set -euo pipefail
rev=${1:-HEAD}
mirror=${MIRROR:-http://deb.debian.org/debian}
repo=$(cd "$(dirname "$0")/.." && pwd)

[ "$(id -u)" -eq 0 ] || { echo "test-fresh-machine: must run as root (chroot, mount)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "test-fresh-machine: debootstrap not found (apt-get install debootstrap)" >&2; exit 2; }
git -C "$repo" rev-parse --verify -q "$rev^{commit}" >/dev/null || { echo "test-fresh-machine: $rev is no commit in $repo" >&2; exit 2; }

root=$(mktemp -d "${WORKDIR:-/var/tmp}/vnp-fresh.XXXXXX")
mounted=()
cleanup() {
  local rc=$? m i
  # Unmount in reverse order; -l so a process still holding a mount cannot leave it behind.
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    m=${mounted[i]}
    umount -R "$m" 2>/dev/null || umount -R -l "$m" 2>/dev/null || echo "test-fresh-machine: could not unmount $m" >&2
  done
  if [ "${KEEP:-0}" = 1 ]; then echo "test-fresh-machine: root kept at $root"
  elif ! grep -q " $root/" /proc/self/mounts; then rm -rf --one-file-system "$root"   # never through a live mount
  else echo "test-fresh-machine: $root still has mounts; not removed" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

t_all=$(date +%s)
step() {   # step NAME COMMAND...: runs it, prints its time, stops the script on failure
  local name=$1 t0 rc=0
  shift
  echo "=== $name"
  t0=$(date +%s)
  "$@" || rc=$?
  printf '=== %s: %s in %dm%02ds\n' "$name" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")" \
    $((($(date +%s) - t0) / 60)) $((($(date +%s) - t0) % 60))
  [ $rc -eq 0 ] || exit $rc
}

cache=()
[ -n "${DEBOOTSTRAP_CACHE:-}" ] && mkdir -p "$DEBOOTSTRAP_CACHE" && cache=(--cache-dir="$(cd "$DEBOOTSTRAP_CACHE" && pwd)")
step "debootstrap --variant=minbase bookworm ($mirror) into $root" \
  debootstrap --variant=minbase "${cache[@]}" bookworm "$root" "$mirror"

# The step bodies below run under `||` (errexit is off there), so each command checks its own status.
copy_repo() {
  mkdir -p "$root/root/virnucpro" || return
  git -C "$repo" archive --format=tar "$rev" | tar -x -C "$root/root/virnucpro" || return
  cp -L /etc/resolv.conf "$root/etc/resolv.conf"   # the installs inside need the network
}
step "copy $(git -C "$repo" rev-parse --short "$rev") (git archive) to /root/virnucpro" copy_repo

mount_root() {
  mount -t proc proc "$root/proc" || return
  mounted+=("$root/proc")
  mount -t sysfs sysfs "$root/sys" || return
  mounted+=("$root/sys")
  # /dev with its submounts (pts, shm); rslave so unmounting it here never propagates back to the host's /dev.
  mount --rbind /dev "$root/dev" || return
  mounted+=("$root/dev")
  mount --make-rslave "$root/dev"
}
step "mount proc, sys, dev" mount_root

inside() {   # runs a command line in the root as a fresh login would: clean environment, in the repository
  chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    bash -c "cd /root/virnucpro && $1"
}
step "bash scripts/install-deps.sh && make demo" inside "bash scripts/install-deps.sh && make demo"
step "bash scripts/install-deps.sh && make test" inside "bash scripts/install-deps.sh && make test"

printf '=== all steps passed in %dm%02ds\n' $((($(date +%s) - t_all) / 60)) $((($(date +%s) - t_all) % 60))
