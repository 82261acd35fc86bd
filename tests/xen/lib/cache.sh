# shellcheck shell=bash
# Everything downloaded or built once and reused, under $CACHE_DIR, keyed
# by package versions (a new version gets a new directory; old ones stay
# until removed by hand). Each item is built in a temporary directory and
# renamed into place, so an interrupted build is never mistaken for a
# finished one.

XEN_PKG=xen-hypervisor-4.17-amd64
XEN_UTILS_PKG=xen-utils-4.17
# Bump when the way the dom0 root image is made changes.
ROOTFS_REV=2
ROOTFS_INCLUDE=xen-utils-4.17,qemu-system-xen,iproute2,kmod,busybox,xenstore-utils,e2fsprogs,procps,iperf3
# The guests' tools disk (read-only, attached as xvdt): programs too large
# for the initramfs, whose libraries would double its size (perf: for
# profiles from a user script, guest lib.sh perf).
TOOLS_REV=1
TOOLS_INCLUDE=fio,iperf3,ethtool,linux-perf
# Small programs copied with their libraries into both guests' initramfs.
GUEST_BINS="/usr/bin/xenstore /sbin/mke2fs /sbin/e2fsck"
GUEST_XENSTORE_CMDS="ls read write list exists rm watch chmod"
# Bump when the way the guest tools are put together changes.
GUEST_TOOLS_REV=2

# find_kdir: the newest installed Debian 6.1 headers; the guests and dom0
# run the kernel with exactly this ABI.
find_kdir() {
	if [ -n "${XENPV_KDIR:-}" ]; then
		KDIR=$XENPV_KDIR
	else
		KDIR=$(ls -d /usr/src/linux-headers-6.1.0-*-amd64 2>/dev/null | sort -V | tail -n 1)
	fi
	[ -n "$KDIR" ] && [ -d "$KDIR" ] ||
		die "no /usr/src/linux-headers-6.1.0-*-amd64 (apt-get install linux-headers-amd64)"
	KREL=${KDIR##*/linux-headers-}
}

# pkg_version <package>: version to use (installed if so, else candidate)
pkg_version() {
	local v
	v=$(dpkg-query -W -f='${Version}' "$1" 2>/dev/null || true)
	if [ -z "$v" ]; then
		v=$(apt-cache show --no-all-versions "$1" 2>/dev/null |
			awk '/^Version:/ {print $2; exit}')
	fi
	[ -n "$v" ] || die "package $1 not known to apt (run apt-get update?)"
	echo "$v"
}

# fetch_deb <package> <version>: path of the cached .deb (downloads it)
fetch_deb() {
	local pkg=$1 ver=$2 dst tmp
	dst=$CACHE_DIR/debs/${pkg}_$(safe_name "$ver")_amd64.deb
	if [ ! -s "$dst" ]; then
		mkdir -p "$CACHE_DIR/debs"
		tmp=$(mktemp -d "$CACHE_DIR/debs/.dl.XXXXXX")
		# apt's sandbox user cannot write to root's cache dir
		(cd "$tmp" && chmod 755 . && apt-get download -q "$pkg=$ver") \
			>>"$LOG_DIR/cache.log" 2>&1 || {
			rm -rf "$tmp"
			die "apt-get download $pkg=$ver failed (see $LOG_DIR/cache.log)"
		}
		mv "$tmp"/*.deb "$dst"
		rm -rf "$tmp"
	fi
	echo "$dst"
}

# prep_xen: sets XEN_BIN (gunzipped hypervisor for QEMU's multiboot loader)
prep_xen() {
	local ver dir deb tmp
	ver=$(pkg_version "$XEN_PKG")
	XEN_VERSION=$ver
	dir=$CACHE_DIR/hypervisor-$(safe_name "$ver")
	if [ ! -f "$dir/.done" ]; then
		progress "cache: fetching Xen $ver"
		deb=$(fetch_deb "$XEN_PKG" "$ver")
		tmp=$(mktemp -d "$CACHE_DIR/.xen.XXXXXX")
		dpkg-deb -x "$deb" "$tmp/x"
		zcat "$tmp"/x/boot/xen-4.17-amd64.gz >"$tmp/xen"
		rm -rf "$tmp/x" "$dir"
		touch "$tmp/.done"
		mv "$tmp" "$dir"
	fi
	XEN_BIN=$dir/xen
}

# prep_kernel: sets KERNEL_DIR (unpacked linux-image with modules.dep),
# KERNEL_VERSION and VMLINUZ
prep_kernel() {
	local pkg=linux-image-$KREL ver dir deb tmp
	ver=$(dpkg-query -W -f='${Version}' "linux-headers-$KREL" 2>/dev/null || true)
	[ -n "$ver" ] || ver=$(pkg_version "$pkg")
	KERNEL_VERSION=$ver
	dir=$CACHE_DIR/kernel-$KREL-$(safe_name "$ver")
	if [ ! -f "$dir/.done" ]; then
		progress "cache: fetching $pkg $ver"
		deb=$(fetch_deb "$pkg" "$ver")
		tmp=$(mktemp -d "$CACHE_DIR/.kernel.XXXXXX")
		dpkg-deb -x "$deb" "$tmp"
		depmod -b "$tmp" "$KREL"
		rm -rf "$dir"
		touch "$tmp/.done"
		mv "$tmp" "$dir"
	fi
	KERNEL_DIR=$dir
	VMLINUZ=$dir/boot/vmlinuz-$KREL
	[ -f "$VMLINUZ" ] || die "no $VMLINUZ in $pkg"
}

# mod_deps <module...>: module files (paths) in load order, deduplicated
mod_deps() {
	local m
	for m in "$@"; do
		modprobe -d "$KERNEL_DIR" -S "$KREL" --show-depends "$m" |
			awk '$1 == "insmod" {print $2}'
	done | awk '!seen[$0]++'
}

# prep_rootfs: sets ROOTFS_IMG, the dom0 root file system (ext4 image).
# Debian minbase with the Xen tools, the dom0 kernel's modules and the
# same kernel as /boot/vmlinuz-guest for the HVM guests.
prep_rootfs() {
	local key dir tmp uv qv
	uv=$(pkg_version "$XEN_UTILS_PKG")
	qv=$(pkg_version qemu-system-xen)
	key=$(printf '%s\n' "$ROOTFS_REV" "$ROOTFS_INCLUDE" "$uv" "$qv" "$KREL" \
		"$KERNEL_VERSION" | sha256sum | cut -c1-12)
	dir=$CACHE_DIR/dom0-root-$key
	ROOTFS_IMG=$dir/root.img
	[ -f "$dir/.done" ] && return 0

	command -v mmdebstrap >/dev/null || die "mmdebstrap missing (make deps)"
	progress "cache: building dom0 root file system (mmdebstrap, ~1-3 min)"
	tmp=$(mktemp -d "$CACHE_DIR/.root.XXXXXX")
	# No mirror argument: mmdebstrap reuses the host's apt sources.
	if ! timeout 1200 mmdebstrap --variant=minbase --include="$ROOTFS_INCLUDE" \
		bookworm "$tmp/root" >"$LOG_DIR/mmdebstrap.log" 2>&1; then
		rm -rf "$tmp"
		die "mmdebstrap failed (see $LOG_DIR/mmdebstrap.log)"
	fi
	mkdir -p "$tmp/root/usr/lib/modules" "$tmp/root/payload"
	cp -a "$KERNEL_DIR/lib/modules/$KREL" "$tmp/root/usr/lib/modules/"
	depmod -b "$tmp/root" "$KREL"
	cp "$VMLINUZ" "$tmp/root/boot/vmlinuz-guest"
	# Not needed in dom0; makes the image smaller.
	rm -rf "$tmp/root/usr/share/doc" "$tmp/root/usr/share/man" \
		"$tmp/root/usr/share/locale" "$tmp/root/var/cache/apt"
	progress "cache: writing dom0 root image"
	mke2fs -q -F -t ext4 -L xentb-root -d "$tmp/root" "$tmp/root.img" 2G \
		>>"$LOG_DIR/cache.log" 2>&1 || {
		rm -rf "$tmp"
		die "mke2fs of the dom0 root failed"
	}
	rm -rf "$tmp/root"
	printf 'xen-utils %s\nqemu-system-xen %s\nkernel %s %s\n' "$uv" "$qv" \
		"$KREL" "$KERNEL_VERSION" >"$tmp/versions"
	rm -rf "$dir"
	touch "$tmp/.done"
	mv "$tmp" "$dir"
}

# prep_tools_disk: sets TOOLS_IMG, an ext4 image of a Debian minbase with
# TOOLS_INCLUDE. Guests run its programs through its own dynamic loader
# (guest lib.sh: tools_mount, fio, iperf3), so no chroot is needed.
prep_tools_disk() {
	local key dir tmp
	key=$(printf '%s\n' "$TOOLS_REV" "$TOOLS_INCLUDE" "$(pkg_version fio)" \
		"$(pkg_version iperf3)" "$(pkg_version ethtool)" | sha256sum | cut -c1-12)
	dir=$CACHE_DIR/tools-$key
	TOOLS_IMG=$dir/tools.img
	[ -f "$dir/.done" ] && return 0
	progress "cache: building the guests' tools disk (mmdebstrap, ~1-3 min)"
	tmp=$(mktemp -d "$CACHE_DIR/.tools.XXXXXX")
	if ! timeout 1200 mmdebstrap --variant=minbase --include="$TOOLS_INCLUDE" \
		bookworm "$tmp/root" >"$LOG_DIR/mmdebstrap-tools.log" 2>&1; then
		rm -rf "$tmp"
		die "mmdebstrap of the tools disk failed (see $LOG_DIR/mmdebstrap-tools.log)"
	fi
	rm -rf "$tmp/root/usr/share/doc" "$tmp/root/usr/share/man" \
		"$tmp/root/usr/share/locale" "$tmp/root/var/cache/apt"
	mke2fs -q -F -t ext4 -L xentb-tools -d "$tmp/root" "$tmp/tools.img" 768M \
		>>"$LOG_DIR/cache.log" 2>&1 || {
		rm -rf "$tmp"
		die "mke2fs of the tools disk failed"
	}
	rm -rf "$tmp/root"
	rm -rf "$dir"
	touch "$tmp/.done"
	mv "$tmp" "$dir"
}

# lib_deps <binary...>: the shared libraries and loader they need
lib_deps() {
	ldd "$@" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}' |
		sort -u
}

# prep_guest_tools: sets GUEST_TOOLS, a directory merged into both guests'
# initramfs: GUEST_BINS with their libraries (xenstore-* as links to the
# multi-call xenstore binary) and the modules ext4 needs, in
# lib/mods/order.tools.
prep_guest_tools() {
	local key dir tmp f c
	key=$(cat $GUEST_BINS $(lib_deps $GUEST_BINS) |
		{ sha256sum; echo "$GUEST_TOOLS_REV $GUEST_XENSTORE_CMDS $KREL $KERNEL_VERSION"; } |
		sha256sum | cut -c1-12)
	dir=$CACHE_DIR/guest-tools-$key
	GUEST_TOOLS=$dir/root
	[ -f "$dir/.done" ] && return 0
	tmp=$(mktemp -d "$CACHE_DIR/.gtools.XXXXXX")
	mkdir -p "$tmp/root/usr/bin" "$tmp/root/lib/mods"
	# libgcc_s is dlopen()ed by glibc for pthread_cancel (xenstore-watch).
	for f in $GUEST_BINS $(lib_deps $GUEST_BINS) /lib/x86_64-linux-gnu/libgcc_s.so.1; do
		mkdir -p "$tmp/root${f%/*}"
		cp -L "$f" "$tmp/root$f"
	done
	for c in $GUEST_XENSTORE_CMDS; do
		ln -s xenstore "$tmp/root/usr/bin/xenstore-$c"
	done
	ln -s mke2fs "$tmp/root/sbin/mkfs.ext4"
	ln -s e2fsck "$tmp/root/sbin/fsck.ext4"
	# ext4 wants crc32c through the crypto API: load the generic one first
	# (qemu64 has no SSE4.2 for crc32c-intel).
	for f in $(mod_deps crc32c_generic ext4 | grep -v crc32c-intel); do
		cp "$f" "$tmp/root/lib/mods/"
		basename "$f" >>"$tmp/root/lib/mods/order.tools"
	done
	rm -rf "$dir"
	touch "$tmp/.done"
	mv "$tmp" "$dir"
}

# prep_dom0_initrd: sets DOM0_INITRD (busybox + virtio/ext4 modules)
prep_dom0_initrd() {
	local key tmp f
	key=$(cat "$XT_DIR/dom0/init" /bin/busybox | sha256sum | cut -c1-12)
	DOM0_INITRD=$CACHE_DIR/dom0-initrd-$KREL-$(safe_name "$KERNEL_VERSION")-$key.cpio.gz
	[ -s "$DOM0_INITRD" ] && return 0
	tmp=$(mktemp -d "$CACHE_DIR/.initrd.XXXXXX")
	mkdir -p "$tmp"/{bin,dev,proc,sys,newroot,lib/mods}
	cp /bin/busybox "$tmp/bin/busybox"
	install -m 755 "$XT_DIR/dom0/init" "$tmp/init"
	for f in $(mod_deps crc32c_generic virtio_pci virtio_blk ext4); do
		cp "$f" "$tmp/lib/mods/"
		basename "$f" >>"$tmp/lib/mods/order"
	done
	(cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		gzip -6 >"$tmp.cpio.gz"
	rm -rf "$tmp"
	mv "$tmp.cpio.gz" "$DOM0_INITRD"
}

# prepare_cache: everything the run needs that does not change per run
prepare_cache() {
	mkdir -p "$CACHE_DIR"
	exec {cache_lock}>"$CACHE_DIR/.lock"
	flock "$cache_lock"
	find_kdir
	prep_xen
	prep_kernel
	prep_rootfs
	prep_dom0_initrd
	prep_tools_disk
	prep_guest_tools
	flock -u "$cache_lock"
	log "kernel $KREL $KERNEL_VERSION; xen $XEN_VERSION; rootfs $ROOTFS_IMG"
}
