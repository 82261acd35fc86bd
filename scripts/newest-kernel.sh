#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# newest-kernel.sh - prepare a build tree (KDIR) for the newest kernel that
# Debian unstable ships, so xenpv can be compiled against it on a Debian 12
# (bookworm) host with bookworm's own gcc.
#
# How it works (see scripts/newest-kernel.md for the findings behind it):
#   1. A private apt configuration (own sources file, lists, cache and dpkg
#      status, all under the cache directory) points at the host's own Debian
#      mirror with the suite switched to "unstable".  The host's apt state is
#      never touched.  The mirror is derived from the host's apt sources; no
#      host name is written anywhere in the repository.
#   2. The newest linux-headers-<ver>-amd64 in unstable gives the version.
#      From that package we only take plain files: .config, Module.symvers and
#      the BTF-only vmlinux (for module BTF); its binaries are built for
#      unstable's libc and are useless here.
#   3. linux-source-<major.minor> (same Debian package version) is unpacked,
#      the Debian .config + Module.symvers copied in, then
#        make olddefconfig
#        make modules_prepare KERNELRELEASE=<ver>
#      with bookworm's gcc.
#   4. The generated layout headers (asm-offsets.h, bounds.h, rq-offsets.h,
#      utsrelease.h) are compared with the ones Debian shipped in the headers
#      package; any difference aborts, because it would mean struct layouts
#      seen by a module built here differ from Debian's real kernel.
#
# The result lives in ${XENPV_CACHE:-$HOME/.cache/xenpv}/newest/<ver>/ and is
# reused on later runs.  On success exactly one line is printed on stdout:
# the absolute path of the prepared KDIR.  Everything else goes to stderr.

set -euo pipefail

PROG=${0##*/}

# ---------------------------------------------------------------------------
# Settings (environment overridable)
# ---------------------------------------------------------------------------
CACHE_ROOT=${XENPV_CACHE:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.cache/xenpv}
NEWEST_DIR=$CACHE_ROOT/newest
APT_DIR=$NEWEST_DIR/apt            # private apt state
DEB_DIR=$NEWEST_DIR/debs           # downloaded .debs (removed after success)
LOG_DIR=$NEWEST_DIR/logs
REFRESH_HOURS=${XENPV_NEWEST_REFRESH_HOURS:-12}
KEEP_TREES=${XENPV_NEWEST_KEEP:-2}  # prepared versions kept (about 1.8 GiB each)
PIN_VERSION=${XENPV_NEWEST_KERNEL:-}
SUITE=${XENPV_NEWEST_SUITE:-unstable}
ARCH=amd64
READY_STAMP=.xenpv-ready           # inside a KDIR: marks a complete tree

# Host tools needed to unpack and prepare a tree (package names, bookworm).
HOST_TOOLS=(make gcc bc flex bison libelf-dev libssl-dev xz-utils dwarves perl)

MODE=kdir        # kdir | version
FORCE_REFRESH=0

# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------
log()  { printf '%s: %s\n' "$PROG" "$*" >&2; }
die()  { printf '%s: error: %s\n' "$PROG" "$*" >&2; exit 1; }

usage() {
	cat <<EOF
Usage: $PROG [options]

Prepare (or reuse from cache) a kernel build tree for the newest kernel in
Debian $SUITE and print its absolute path (the KDIR) as the only stdout line.

Options:
  --version          print only the kernel version that would be used
  --kernel VERSION   use this kernel version (e.g. 7.2.13+deb14-amd64)
                     instead of the newest; same as XENPV_NEWEST_KERNEL
  --refresh          refresh the private apt lists now, whatever their age
  -h, --help         show this help

Environment:
  XENPV_CACHE                  cache root (default: \$HOME/.cache/xenpv);
                               trees go to \$XENPV_CACHE/newest/<version>/
  XENPV_NEWEST_KERNEL          pin a kernel version
  XENPV_NEWEST_REFRESH_HOURS   refresh apt lists at most this often (default 12)
  XENPV_NEWEST_KEEP            prepared versions to keep in the cache (default 2)

Example:
  make -C "\$($PROG)" M=\$PWD W=1 modules
EOF
}

parse_args() {
	while [ $# -gt 0 ]; do
		case $1 in
		--version) MODE=version ;;
		--kernel) [ $# -ge 2 ] || die "--kernel needs a value"
			PIN_VERSION=$2; shift ;;
		--kernel=*) PIN_VERSION=${1#*=} ;;
		--refresh) FORCE_REFRESH=1 ;;
		-h|--help) usage; exit 0 ;;
		*) usage >&2; die "unknown argument: $1" ;;
		esac
		shift
	done
	[[ $KEEP_TREES =~ ^[1-9][0-9]*$ ]] || die "XENPV_NEWEST_KEEP must be >= 1"
	if [ -n "$PIN_VERSION" ] && ! [[ $PIN_VERSION =~ ^[0-9][0-9A-Za-z.+~-]*-$ARCH$ ]]; then
		die "bad kernel version '$PIN_VERSION' (expected e.g. 7.2.13+deb14-$ARCH)"
	fi
}

# Serialise concurrent runs sharing one cache.
take_lock() {
	mkdir -p "$NEWEST_DIR"
	exec 9>"$NEWEST_DIR/.lock"
	if ! flock -n 9; then
		log "waiting for another $PROG run holding $NEWEST_DIR/.lock"
		flock 9
	fi
}

# ---------------------------------------------------------------------------
# Host tools
# ---------------------------------------------------------------------------

# True if a Debian package is installed on the host.
pkg_installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

# Install missing host tools (only those missing; nothing if all present).
ensure_host_tools() {
	local missing=() p
	for p in "${HOST_TOOLS[@]}"; do
		pkg_installed "$p" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" -eq 0 ] || die "missing host packages: ${missing[*]} (run as root or install them)"
	log "installing host tools: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	if ! apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
		apt-get update >&2 || true
		apt-get install -y --no-install-recommends "${missing[@]}" >&2 ||
			die "could not install host tools: ${missing[*]}"
	fi
}

# ---------------------------------------------------------------------------
# Private apt configuration
# ---------------------------------------------------------------------------

# Print "<uri>\t<signed-by or empty>" of the host's main Debian archive: the
# first enabled "deb" source whose suite is exactly the host's codename.
host_mirror() {
	local codename f
	# shellcheck source=/dev/null
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "cannot read VERSION_CODENAME from /etc/os-release"
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		# deb822: one stanza per paragraph.
		awk -v want="$codename" '
			BEGIN { RS = ""; FS = "\n" }
			{
				types = uris = suites = sb = ""; en = "yes"
				for (i = 1; i <= NF; i++) {
					line = $i
					if (line ~ /^#/ || line ~ /^[ \t]/) continue
					c = index(line, ":"); if (!c) continue
					k = tolower(substr(line, 1, c - 1))
					v = substr(line, c + 1); gsub(/^[ \t]+|[ \t]+$/, "", v)
					if (k == "types") types = v
					else if (k == "uris") uris = v
					else if (k == "suites") suites = v
					else if (k == "signed-by") sb = v
					else if (k == "enabled") en = tolower(v)
				}
				if (en == "no" || (" " types " ") !~ / deb /) next
				n = split(suites, s, /[ \t]+/); ok = 0
				for (j = 1; j <= n; j++) if (s[j] == want) ok = 1
				if (!ok) next
				split(uris, u, /[ \t]+/)
				if (sb !~ /^\//) sb = ""
				print u[1] "\t" sb; exit
			}' "$f"
	done | head -n1 | grep . && return 0
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		# one-line format: deb [opts] uri suite components...
		awk -v want="$codename" '
			$1 != "deb" { next }
			{
				sb = ""; i = 2
				if ($2 ~ /^\[/) {
					for (; i <= NF; i++) {
						o = $i; gsub(/[\[\]]/, "", o)
						if (o ~ /^signed-by=/) sb = substr(o, 11)
						if ($i ~ /\]$/) break
					}
					i++
				}
				if ($(i + 1) == want) { print $i "\t" sb; exit }
			}' "$f"
	done | head -n1 | grep . && return 0
	return 1
}

# apt options that redirect all state into $APT_DIR.
APT_OPTS=()
setup_private_apt() {
	mkdir -p "$APT_DIR"/{etc/sources.list.d,etc/preferences.d,lists/partial,cache/archives/partial}
	[ -f "$APT_DIR/status" ] || : >"$APT_DIR/status"
	APT_OPTS=(
		-o "Dir::Etc::SourceList=$APT_DIR/etc/sources.list"
		-o "Dir::Etc::SourceParts=$APT_DIR/etc/sources.list.d"
		-o "Dir::Etc::Preferences=$APT_DIR/etc/preferences"
		-o "Dir::Etc::PreferencesParts=$APT_DIR/etc/preferences.d"
		-o "Dir::State::Lists=$APT_DIR/lists"
		-o "Dir::State::status=$APT_DIR/status"
		-o "Dir::State::extended_states=$APT_DIR/extended_states"
		-o "Dir::Cache=$APT_DIR/cache"
		-o "APT::Architecture=$ARCH"
		-o "APT::Architectures::=$ARCH"
		-o "Acquire::Languages=none"
		-o "APT::Sandbox::User=root"
	)
	# (Re)write the sources file from the host's configuration every time, so
	# a changed host mirror is followed.  Written only if missing or changed.
	local m uri sb line
	if m=$(host_mirror); then
		uri=${m%%$'\t'*}; sb=${m#*$'\t'}
		if [ -n "$sb" ]; then
			line="deb [signed-by=$sb] $uri $SUITE main"
		else
			line="deb $uri $SUITE main"
		fi
		if [ "$(cat "$APT_DIR/etc/sources.list" 2>/dev/null)" != "$line" ]; then
			printf '%s\n' "$line" >"$APT_DIR/etc/sources.list"
			rm -f "$APT_DIR/updated.stamp"
		fi
	elif [ ! -s "$APT_DIR/etc/sources.list" ]; then
		die "no Debian archive for this host's codename found in /etc/apt/sources*"
	fi
}

# Refresh the private lists if older than REFRESH_HOURS (or forced).
# Returns non-zero if a needed refresh failed (e.g. offline).
refresh_lists() {
	local stamp=$APT_DIR/updated.stamp
	if [ "$FORCE_REFRESH" = 0 ] && [ -f "$stamp" ] &&
	   [ -z "$(find "$stamp" -mmin +$((REFRESH_HOURS * 60)) 2>/dev/null)" ]; then
		return 0
	fi
	log "refreshing private apt lists for Debian $SUITE"
	if apt-get "${APT_OPTS[@]}" -q update >"$LOG_DIR/apt-update.log" 2>&1 &&
	   ! grep -qE '^(W|E): Failed' "$LOG_DIR/apt-update.log"; then
		touch "$stamp"
		return 0
	fi
	log "apt-get update for $SUITE failed (see $LOG_DIR/apt-update.log)"
	return 1
}

# Newest linux-headers-<ver>-amd64 version known to the private apt lists.
newest_from_apt() {
	apt-cache "${APT_OPTS[@]}" search --names-only \
		"^linux-headers-[0-9][0-9.]*(\+deb[0-9]+)?(-[0-9]+)?-$ARCH\$" 2>/dev/null |
		awk '{print $1}' | sed "s/^linux-headers-//" | sort -V | tail -n1 || true
}

# Newest version that already has a complete tree in the cache.
newest_from_cache() {
	local d
	for d in "$NEWEST_DIR"/*/"$READY_STAMP"; do
		[ -f "$d" ] || continue
		d=${d%/"$READY_STAMP"}; echo "${d##*/}"
	done | sort -V | tail -n1 || true
}

# Decide which kernel version to use; prints it.
resolve_version() {
	local online=$1 v=""
	if [ -n "$PIN_VERSION" ]; then
		echo "$PIN_VERSION"; return 0
	fi
	[ "$online" = 1 ] && v=$(newest_from_apt)
	if [ -z "$v" ]; then
		v=$(newest_from_cache)
		[ -n "$v" ] || die "cannot determine the newest $SUITE kernel: apt lists unavailable and nothing cached in $NEWEST_DIR"
		log "using cached kernel $v (apt information unavailable)"
	fi
	echo "$v"
}

# ---------------------------------------------------------------------------
# Download and prepare
# ---------------------------------------------------------------------------

# Download headers + matching linux-source .deb into $DEB_DIR/<ver>/.
# Sets HDR_DEB and SRC_DEB.
download_debs() {
	local ver=$1 hdr=linux-headers-$1 pkgver mm src
	pkgver=$(apt-cache "${APT_OPTS[@]}" show "$hdr" 2>/dev/null |
		awk '/^Version:/ {print $2}' | sort -V | tail -n1) || true
	[ -n "$pkgver" ] || die "package $hdr is not in Debian $SUITE (try --refresh, or pin another version)"
	mm=$(echo "$ver" | sed -E 's/^([0-9]+\.[0-9]+).*/\1/')
	src=linux-source-$mm
	mkdir -p "$DEB_DIR/$ver"
	log "downloading $hdr=$pkgver and $src=$pkgver"
	( cd "$DEB_DIR/$ver" &&
	  apt-get "${APT_OPTS[@]}" -q download "$hdr=$pkgver" "$src=$pkgver" \
		>"$LOG_DIR/download-$ver.log" 2>&1 ) ||
		{ tail -n 5 "$LOG_DIR/download-$ver.log" >&2
		  die "download of $hdr/$src $pkgver failed"; }
	HDR_DEB=$(find "$DEB_DIR/$ver" -maxdepth 1 -name "${hdr}_*_$ARCH.deb" | head -n1)
	SRC_DEB=$(find "$DEB_DIR/$ver" -maxdepth 1 -name "${src}_*_all.deb" | head -n1)
	{ [ -n "$HDR_DEB" ] && [ -n "$SRC_DEB" ]; } || die "downloaded .debs not found in $DEB_DIR/$ver"
	PKG_VERSION=$pkgver
}

# Unpack the kernel source tarball from the linux-source .deb into $2.
unpack_source() {
	local deb=$1 dest=$2 tarball unz
	tarball=$(dpkg-deb -c "$deb" | awk '{print $NF}' |
		grep -E '^\./usr/src/linux-source-[^/]*\.tar\.(xz|gz|bz2|zst)$' | head -n1) || true
	[ -n "$tarball" ] || die "no source tarball found in $deb"
	case $tarball in
	*.xz)  unz="xz -dc -T0" ;;
	*.gz)  unz="gzip -dc" ;;
	*.bz2) unz="bzip2 -dc" ;;
	*.zst) unz="zstd -dc" ;;
	esac
	log "unpacking ${tarball##*/}"
	mkdir -p "$dest"
	dpkg-deb --fsys-tarfile "$deb" | tar -xO -f - "$tarball" | $unz |
		tar -x --strip-components=1 -C "$dest" -f - ||
		die "unpacking $tarball from $deb failed"
	[ -f "$dest/Makefile" ] || die "unpacking $tarball gave no Makefile"
}

# Copy .config, Module.symvers, vmlinux (BTF base) and Debian's generated
# reference headers out of the headers .deb into tree $2.
import_debian_files() {
	local deb=$1 tree=$2 ver=$3 x hdir f
	x=$(mktemp -d "$NEWEST_DIR/.hdr.XXXXXX")
	dpkg-deb -x "$deb" "$x"
	hdir=$x/usr/src/linux-headers-$ver
	if [ ! -f "$hdir/.config" ] || [ ! -f "$hdir/Module.symvers" ]; then
		die "$deb lacks usr/src/linux-headers-$ver/{.config,Module.symvers}"
	fi
	cp "$hdir/.config" "$tree/.config"
	cp "$hdir/Module.symvers" "$tree/Module.symvers"
	# BTF-only vmlinux: lets module builds generate BTF against Debian's base.
	[ -f "$hdir/vmlinux" ] && cp "$hdir/vmlinux" "$tree/vmlinux"
	# Keep Debian's originals for reference and for the layout check.
	mkdir -p "$tree/.xenpv/debian"
	cp "$hdir/.config" "$tree/.xenpv/debian/config"
	for f in include/generated/asm-offsets.h include/generated/bounds.h \
		 include/generated/rq-offsets.h include/generated/utsrelease.h \
		 include/generated/autoconf.h include/generated/compile.h; do
		[ -f "$hdir/$f" ] && cp "$hdir/$f" "$tree/.xenpv/debian/${f##*/}"
	done
	rm -rf "$x"
}

# Keep Rust out of the build deterministically: no C-visible effect (see
# newest-kernel.md) and a host rust toolchain must not change the result.
disable_rust() {
	local tree=$1
	"$tree/scripts/config" --file "$tree/.config" --disable RUST
}

# make olddefconfig + modules_prepare with the host gcc.
build_tree() {
	local tree=$1 ver=$2 logf=$3 jobs
	jobs=$(nproc 2>/dev/null || echo 2)
	log "make olddefconfig (gcc: $(gcc -dumpfullversion))"
	make -C "$tree" olddefconfig >>"$logf" 2>&1 ||
		{ tail -n 20 "$logf" >&2; die "make olddefconfig failed (log: $logf)"; }
	log "make -j$jobs modules_prepare KERNELRELEASE=$ver"
	make -C "$tree" -j"$jobs" modules_prepare KERNELRELEASE="$ver" >>"$logf" 2>&1 ||
		{ tail -n 20 "$logf" >&2; die "make modules_prepare failed (log: $logf)"; }
}

# Record the .config difference Debian -> here, and refuse a tree whose
# layout headers differ from Debian's.
verify_tree() {
	local tree=$1 ver=$2 f rel
	"$tree/scripts/diffconfig" "$tree/.xenpv/debian/config" "$tree/.config" \
		>"$tree/.xenpv/config.diff" 2>/dev/null || true
	log "config symbols changed by olddefconfig: $(wc -l <"$tree/.xenpv/config.diff") (see $tree/.xenpv/config.diff)"
	rel=$(cat "$tree/include/config/kernel.release")
	[ "$rel" = "$ver" ] || die "kernel.release is '$rel', expected '$ver'"
	[ -s "$tree/Module.symvers" ] || die "Module.symvers missing in $tree"
	for f in asm-offsets.h bounds.h rq-offsets.h utsrelease.h; do
		[ -f "$tree/.xenpv/debian/$f" ] || continue
		cmp -s "$tree/.xenpv/debian/$f" "$tree/include/generated/$f" ||
			die "generated $f differs from Debian's: struct layouts would not match the real $ver kernel"
	done
	log "layout check passed: asm-offsets.h, bounds.h, rq-offsets.h, utsrelease.h identical to Debian's"
}

# Remove all but the newest KEEP_TREES prepared trees, and leftovers of
# interrupted runs (we hold the lock, so nothing else is writing here).
# The tree just prepared ($1) is always kept.
prune_cache() {
	local keep_ver=$1 d old
	rm -rf "$NEWEST_DIR"/.tmp-* "$NEWEST_DIR"/.hdr.*
	old=$(for d in "$NEWEST_DIR"/*/"$READY_STAMP"; do
		[ -f "$d" ] || continue
		d=${d%/"$READY_STAMP"}; echo "${d##*/}"
	done | sort -V | head -n -"$KEEP_TREES") || true
	for d in $old; do
		[ "$d" = "$keep_ver" ] && continue
		log "pruning old tree $NEWEST_DIR/$d"
		rm -rf "${NEWEST_DIR:?}/$d"
	done
}

# Build a complete tree for $1 in a temporary directory, then move it into
# place atomically so an interrupted run never leaves a "ready" tree behind.
prepare_tree() {
	local ver=$1 final=$NEWEST_DIR/$1 tmp logf
	logf=$LOG_DIR/prepare-$ver.log
	ensure_host_tools
	download_debs "$ver"
	: >"$logf"
	rm -rf "$NEWEST_DIR/.tmp-$ver"
	tmp=$NEWEST_DIR/.tmp-$ver
	unpack_source "$SRC_DEB" "$tmp"
	import_debian_files "$HDR_DEB" "$tmp" "$ver"
	disable_rust "$tmp"
	# Build in the final location (paths get baked into generated files),
	# so move first and mark ready only at the very end.
	rm -rf "$final"
	mv "$tmp" "$final"
	build_tree "$final" "$ver" "$logf"
	verify_tree "$final" "$ver"
	printf 'version=%s\npackage=%s\ngcc=%s\nprepared=%s\n' "$ver" "$PKG_VERSION" \
		"$(gcc -dumpfullversion)" "$(date -u +%FT%TZ)" >"$final/$READY_STAMP"
	rm -rf "${DEB_DIR:?}/$ver"
	prune_cache "$ver"
}

# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------
main() {
	local online=1 refresh_ok=1 ver kdir cached
	parse_args "$@"
	take_lock
	mkdir -p "$LOG_DIR"
	setup_private_apt
	# Only touch the network when no pinned, prepared tree already exists.
	if [ -n "$PIN_VERSION" ] && [ -f "$NEWEST_DIR/$PIN_VERSION/$READY_STAMP" ] &&
	   [ "$FORCE_REFRESH" = 0 ]; then
		:
	else
		refresh_lists || { refresh_ok=0; online=0; }
		# Stale-but-present lists are still usable offline.
		if [ "$online" = 0 ] && ls "$APT_DIR/lists/"*_Packages* >/dev/null 2>&1; then
			online=1
		fi
	fi
	ver=$(resolve_version "$online")
	# Offline and the lists name a version we have not prepared: fall back
	# to the newest prepared tree rather than failing.
	if [ "$refresh_ok" = 0 ] && [ -z "$PIN_VERSION" ] &&
	   [ ! -f "$NEWEST_DIR/$ver/$READY_STAMP" ]; then
		cached=$(newest_from_cache)
		if [ -n "$cached" ]; then
			log "apt unavailable: using cached $cached instead of $ver"
			ver=$cached
		fi
	fi
	if [ "$MODE" = version ]; then
		echo "$ver"; return 0
	fi
	kdir=$NEWEST_DIR/$ver
	if [ -f "$kdir/$READY_STAMP" ]; then
		log "using cached tree for $ver"
	else
		log "preparing kernel tree for $ver in $kdir"
		prepare_tree "$ver"
	fi
	kdir=$(cd "$kdir" && pwd -P)
	echo "$kdir"
}

main "$@"
