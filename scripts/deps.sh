#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make deps: install what the builds, checks and the testbed need on a
# Debian 12 machine, idempotently (root; apt). Debian's 6.1 headers, the
# newest 6.12 headers and source, build tools, sparse; the testbed's
# packages (tests/xen/deps.txt); the newest kernel from Debian unstable,
# prepared in the cache (scripts/newest-kernel.sh).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

export DEBIAN_FRONTEND=noninteractive
[ "$(id -u)" -eq 0 ] || die "make deps installs packages: run it as root"

apt_updated=
apt_update() {
	[ -n "$apt_updated" ] && return
	log "apt-get update"
	apt-get update -qq
	apt_updated=1
}

# The package lists may be missing or stale on a fresh machine.
lists_fresh() {
	[ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -n 1)" ]
}
lists_fresh || apt_update

newest_612() {
	apt-cache search --names-only '^linux-headers-6\.12\.[0-9.]+\+deb12-amd64$' |
		awk '{print $1}' | sort -V | tail -n 1
}
h612=$(newest_612)
[ -n "$h612" ] || { apt_update; h612=$(newest_612); }
[ -n "$h612" ] || die "no linux-headers-6.12.*+deb12-amd64 in apt"

pkgs=(linux-headers-amd64 "$h612" linux-source-6.12 build-essential bc
      flex bison libelf-dev libssl-dev dwarves rsync cpio kmod xz-utils
      zstd sparse python3 git)
if [ -f "$XENPV_ROOT/tests/xen/deps.txt" ]; then
	while read -r p; do
		[ -n "$p" ] && [ "${p#\#}" = "$p" ] && pkgs+=("$p")
	done < "$XENPV_ROOT/tests/xen/deps.txt"
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	apt_update
	log "installing: ${missing[*]}"
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# Unpack the 6.12 source (KUnit under UML, checkpatch) into the cache.
ksrc_of 6.12 > /dev/null

# The newest kernel Debian has, prepared for out-of-tree builds.
if [ -x "$XENPV_ROOT/scripts/newest-kernel.sh" ]; then
	"$XENPV_ROOT/scripts/newest-kernel.sh" > /dev/null
fi
log "deps: ok (6.1: $(basename "$(kdir_of 6.1)"), 6.12: $(basename "$(kdir_of 6.12)"))"
