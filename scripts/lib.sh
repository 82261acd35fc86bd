# SPDX-License-Identifier: GPL-2.0
# Shared helpers for xenpv's scripts. Source it; it defines no side effects.

XENPV_CACHE=${XENPV_CACHE:-$HOME/.cache/xenpv}
XENPV_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# A short key for this checkout: build directories in the cache are kept
# per checkout, so two working trees never share objects (kbuild decides
# what to rebuild by timestamps, not content).
xenpv_tree_key() {
	printf '%s' "$XENPV_ROOT" | sha256sum | cut -c1-8
}

log() { printf '[xenpv] %s\n' "$*" >&2; }
die() { printf '[xenpv] error: %s\n' "$*" >&2; exit 1; }

# The newest installed Debian headers of a series: kdir_of 6.1 | 6.12
kdir_of() {
	local series=$1 pat
	case $series in
	6.1) pat='/usr/src/linux-headers-6.1.0-*-amd64' ;;
	*) pat="/usr/src/linux-headers-$series.*+deb12-amd64" ;;
	esac
	# shellcheck disable=SC2086
	ls -d $pat 2>/dev/null | sort -V | tail -n 1
}

# The unpacked kernel source of a series (from Debian's linux-source-X).
ksrc_of() {
	local series=$1 tarball dir
	tarball=/usr/src/linux-source-$series.tar.xz
	dir=$XENPV_CACHE/src/linux-source-$series
	[ -f "$tarball" ] || die "$tarball missing: run 'make deps'"
	# Re-unpack when Debian updates the tarball.
	if [ ! -f "$dir/.xenpv-stamp" ] || [ "$tarball" -nt "$dir/.xenpv-stamp" ]; then
		log "unpacking $tarball"
		rm -rf "$dir"
		mkdir -p "$XENPV_CACHE/src"
		tar -C "$XENPV_CACHE/src" -xf "$tarball"
		touch "$dir/.xenpv-stamp"
	fi
	echo "$dir"
}
