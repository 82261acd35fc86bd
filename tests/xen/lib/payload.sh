# shellcheck shell=bash
# Per-run inputs: our modules, the scenario lists, the guest initramfs
# images and the payload disk that carries them (and dom0's scripts) into
# dom0. The payload is rebuilt on every run; it is small.

# build_modules: sets XENPV_KOS (array of .ko paths, xenpv.ko first) and
# MODULE_BUILD ("ok" or a reason it failed).
build_modules() {
	local script=$REPO_ROOT/scripts/build-for.sh out=$OUT_DIR/modules line
	local -a kos=()
	XENPV_KOS=()
	if [ ! -x "$script" ]; then
		MODULE_BUILD="scripts/build-for.sh does not exist yet"
		[ -f "$script" ] && MODULE_BUILD="scripts/build-for.sh is not executable"
		progress "modules: NOT BUILT ($MODULE_BUILD)"
		return 0
	fi
	progress "modules: building against $KDIR"
	# Keep the objects for an incremental build, but no stale .ko: a module
	# removed from the tree must not be loaded from an old build.
	[ -d "$out" ] && find "$out" -name '*.ko' -delete
	if ! timeout 900 "$script" "$KDIR" "$out" >"$LOG_DIR/module-build.out" \
		2>"$LOG_DIR/module-build.log"; then
		MODULE_BUILD="scripts/build-for.sh failed (see build/xen/logs/module-build.log)"
		progress "modules: BUILD FAILED ($MODULE_BUILD)"
		tail -n 5 "$LOG_DIR/module-build.log" | sed 's/^/    /'
		return 0
	fi
	while IFS= read -r line; do
		[[ $line == *.ko && -f $line ]] && kos+=("$line")
	done <"$LOG_DIR/module-build.out"
	if [ ${#kos[@]} -eq 0 ]; then
		MODULE_BUILD="scripts/build-for.sh printed no .ko paths"
		progress "modules: BUILD FAILED ($MODULE_BUILD)"
		return 0
	fi
	# xenpv.ko (the core) must be loaded before the others.
	for line in "${kos[@]}"; do
		[ "${line##*/}" = xenpv.ko ] && XENPV_KOS+=("$line")
	done
	for line in "${kos[@]}"; do
		[ "${line##*/}" = xenpv.ko ] || XENPV_KOS+=("$line")
	done
	MODULE_BUILD=ok
	progress "modules: built ${#XENPV_KOS[@]}: $(for line in "${XENPV_KOS[@]}"; do printf '%s ' "${line##*/}"; done)"
}

# scenario_header <file> <key> <default>: value of a "# key: value" line
scenario_header() {
	local v
	v=$(sed -n "s/^# *$2: *\\([^ ]*\\).*/\\1/p" "$1" | head -n 1)
	echo "${v:-$3}"
}

# select_items <mode>: fills ITEMS_dut / ITEMS_ref / ITEMS_bare (arrays of "name file
# timeout") and ITEM_GUEST[name]
select_items() {
	local mode=$1 f name guest tmo want
	ITEMS_dut=()
	ITEMS_ref=()
	ITEMS_bare=()
	declare -gA ITEM_GUEST=()
	if [ "$mode" = demo ]; then
		ITEMS_dut=("demo-dut $XT_DIR/guest/demo-dut.sh 300")
		ITEMS_ref=("demo-ref $XT_DIR/guest/demo-ref.sh 300")
		ITEM_GUEST[demo-dut]=dut
		ITEM_GUEST[demo-ref]=ref
		return 0
	fi
	if [ "$mode" = bench ]; then
		# Each guest waits, paused, while the other runs its rounds.
		tmo=${XENPV_BENCH_TIMEOUT:-$((BENCH_ROUNDS * 500 + 300))}
		ITEMS_dut=("bench-dut $XT_DIR/guest/bench.sh $tmo")
		ITEMS_ref=("bench-ref $XT_DIR/guest/bench.sh $tmo")
		return 0
	fi
	want=${XENPV_SCENARIOS-}
	if [ -z "$want" ]; then
		if [ -n "${XENPV_GUEST_SCRIPT:-}" ]; then want=none; else want=all; fi
	fi
	want=" ${want//,/ } "
	for f in "$XT_DIR"/scenarios/*.sh; do
		[ -f "$f" ] || continue
		name=$(basename "$f" .sh)
		if [ "$want" != " all " ] && [[ $want != *" $name "* ]]; then
			continue
		fi
		guest=$(scenario_header "$f" guest dut)
		tmo=$(scenario_header "$f" timeout 120)
		case "$guest" in
		dut) ITEMS_dut+=("$name $f $tmo") ;;
		ref) ITEMS_ref+=("$name $f $tmo") ;;
		bare) ITEMS_bare+=("$name $f $tmo") ;;
		*) die "$f: unknown guest '$guest' (dut, ref or bare)" ;;
		esac
		ITEM_GUEST[$name]=$guest
	done
	if [ -n "${XENPV_GUEST_SCRIPT:-}" ]; then
		[ -f "$XENPV_GUEST_SCRIPT" ] || die "XENPV_GUEST_SCRIPT=$XENPV_GUEST_SCRIPT: no such file"
		case ${XENPV_GUEST_SCRIPT_IN:=dut} in
		dut) ITEMS_dut+=("user-script $(realpath "$XENPV_GUEST_SCRIPT") ${XENPV_GUEST_TIMEOUT:-300}") ;;
		ref) ITEMS_ref+=("user-script $(realpath "$XENPV_GUEST_SCRIPT") ${XENPV_GUEST_TIMEOUT:-300}") ;;
		*) die "XENPV_GUEST_SCRIPT_IN=$XENPV_GUEST_SCRIPT_IN: dut or ref" ;;
		esac
		ITEM_GUEST[user-script]=$XENPV_GUEST_SCRIPT_IN
	fi
	[ ${#ITEMS_dut[@]} -gt 0 ] || [ ${#ITEMS_ref[@]} -gt 0 ] || [ ${#ITEMS_bare[@]} -gt 0 ] ||
		die "no scenarios selected (XENPV_SCENARIOS='${XENPV_SCENARIOS-}')"
}

# cp_ko <module> <dir>: copy without debug information (the guest reads
# its initramfs at ~0.3 MB/s; the symbols stay for stack traces)
cp_ko() {
	strip --strip-debug -o "$2/${1##*/}" "$1"
}

# make_guest_initrd <guest> <dest>: busybox, modules, scenario scripts
make_guest_initrd() {
	local g=$1 dest=$2 tmp f item name file tmo
	local -n items=ITEMS_$g
	tmp=$(mktemp -d "$OUT_DIR/.initrd.XXXXXX")
	mkdir -p "$tmp"/{bin,dev,proc,sys,tmp,lib/mods,lib/xenpv,etc/xentb/scenarios}
	cp /bin/busybox "$tmp/bin/busybox"
	install -m 755 "$XT_DIR/guest/init" "$tmp/init"
	cp "$XT_DIR/guest/lib.sh" "$tmp/etc/xentb/lib.sh"
	# xenstore-utils, mke2fs and e2fsck with their libraries; the modules
	# ext4 needs, loaded first.
	cp -a "$GUEST_TOOLS/." "$tmp/"
	mv "$tmp/lib/mods/order.tools" "$tmp/lib/mods/order"
	# What the kernel runs for an orderly power-off or reboot (control/
	# shutdown): stand-ins for a distribution's init that record the
	# request; the scenario that asked checks it.
	mkdir -p "$tmp/sbin"
	for f in poweroff reboot; do
		printf '#!/bin/busybox sh\necho %s >/tmp/xentb-orderly\necho "@@G orderly %s requested" >/dev/console\n' \
			"$f" "$f" >"$tmp/sbin/$f"
		chmod 755 "$tmp/sbin/$f"
	done
	: >"$tmp/lib/xenpv/order"
	if [ "$g" = dut ]; then
		# cpuid.ko gives scenarios /dev/cpu/0/cpuid
		for f in $(mod_deps cpuid); do
			cp "$f" "$tmp/lib/mods/" && basename "$f" >>"$tmp/lib/mods/order"
		done
		awk '!seen[$0]++' "$tmp/lib/mods/order" >"$tmp/order" && mv "$tmp/order" "$tmp/lib/mods/order"
		for f in "${XENPV_KOS[@]}"; do
			cp_ko "$f" "$tmp/lib/xenpv/" && basename "$f" >>"$tmp/lib/xenpv/order"
		done
		cat >"$tmp/etc/xentb/conf" <<-EOF
			ROLE=dut
			GUEST_IP=10.99.0.2
			NET_WAIT=$([[ " ${XENPV_KOS[*]##*/} " == *net* ]] && echo 50 || echo 0)
			MODULE_BUILD="$MODULE_BUILD"
		EOF
	elif [ "$g" = bare ]; then
		# Plain QEMU, no Xen: our modules must refuse to load.
		mkdir -p "$tmp/lib/xenpv-refused"
		for f in "${XENPV_KOS[@]}"; do cp_ko "$f" "$tmp/lib/xenpv-refused/"; done
		printf 'ROLE=bare\nNET_WAIT=0\n' >"$tmp/etc/xentb/conf"
	else
		for f in $(mod_deps xen-blkfront xen-netfront); do
			cp "$f" "$tmp/lib/mods/" && basename "$f" >>"$tmp/lib/mods/order"
		done
		awk '!seen[$0]++' "$tmp/lib/mods/order" >"$tmp/order" && mv "$tmp/order" "$tmp/lib/mods/order"
		# Not loaded by init: a scenario checks that xenpv refuses to
		# load where the kernel's own Xen support runs.
		mkdir -p "$tmp/lib/xenpv-refused"
		for f in "${XENPV_KOS[@]}"; do
			[ "${f##*/}" = xenpv.ko ] && cp_ko "$f" "$tmp/lib/xenpv-refused/"
		done
		cat >"$tmp/etc/xentb/conf" <<-EOF
			ROLE=ref
			GUEST_IP=10.99.0.3
			NET_WAIT=50
		EOF
	fi
	if [ "$MODE" = bench ]; then
		mkdir -p "$tmp/etc/xentb/bench"
		local b
		for b in "$XT_DIR"/bench/*.sh; do
			# XENPV_BENCH_SCRIPTS="net basic": only those scripts.
			case " ${XENPV_BENCH_SCRIPTS:-all} " in
			*" all "* | *" $(basename "$b" .sh) "*) cp "$b" "$tmp/etc/xentb/bench/" ;;
			esac
		done
		echo "$BENCH_ROUNDS" >"$tmp/etc/xentb/bench/rounds"
	fi
	: >"$tmp/etc/xentb/list"
	for item in "${items[@]}"; do
		read -r name file tmo <<<"$item"
		cp "$file" "$tmp/etc/xentb/scenarios/$name.sh"
		echo "$name $tmo" >>"$tmp/etc/xentb/list"
	done
	# xz with crc32: the kernel's decompressor does not do crc64. Small
	# matters: the guest's direct kernel boot reads it at ~0.3 MB/s.
	(cd "$tmp" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
		xz --check=crc32 -9 >"$dest"
	rm -rf "$tmp"
	log "initrd for $g: $(stat -c %s "$dest") bytes, items: ${items[*]}"
}

# guest_timeout <guest>: dom0's overall limit for one guest
guest_timeout() {
	local -n items=ITEMS_$1
	local t=$T_GUEST_BOOT item name file tmo
	for item in "${items[@]}"; do
		read -r name file tmo <<<"$item"
		t=$((t + tmo + 10))
	done
	echo $((t + 60))
}

# make_payload: sets PAYLOAD_IMG and GUESTS
make_payload() {
	local dir=$OUT_DIR/payload g gt=0 t item name file tmo
	local parallel=${XENPV_TB_PARALLEL:-0} rounds=0
	# Benchmark guests boot together, then take turns (dom0/run.sh).
	[ "$MODE" = bench ] && parallel=1 rounds=$BENCH_ROUNDS
	GUESTS=()
	[ ${#ITEMS_dut[@]} -gt 0 ] && GUESTS+=(dut)
	[ ${#ITEMS_ref[@]} -gt 0 ] && GUESTS+=(ref)
	rm -rf "$dir" "$OUT_DIR/payload.img"
	mkdir -p "$dir/dom0" "$dir/out"
	install -m 755 "$XT_DIR/dom0/run.sh" "$XT_DIR/dom0/block" "$XT_DIR/dom0/vif" "$dir/dom0/"
	for g in "${GUESTS[@]}"; do
		mkdir -p "$dir/guests/$g"
		make_guest_initrd "$g" "$dir/guests/$g/initrd"
		t=$(guest_timeout "$g")
		[ "$t" -gt "$gt" ] && gt=$t
	done
	# A guest silent for longer than the longest scenario timeout (which
	# the guest enforces itself) plus slack has a hung kernel.
	MAX_TMO=60
	for item in "${ITEMS_dut[@]}" "${ITEMS_ref[@]}"; do
		read -r name file tmo <<<"$item"
		[ "$tmo" -gt "$MAX_TMO" ] && MAX_TMO=$tmo
	done
	GUEST_IDLE=$((MAX_TMO + 30))
	cat >"$dir/run.conf" <<-EOF
		GUESTS="${GUESTS[*]}"
		GUEST_BOOT_LIMIT=$T_GUEST_BOOT
		GUEST_IDLE=$GUEST_IDLE
		PARALLEL=$parallel
		BENCH_ROUNDS=$rounds
		GUEST_TIMEOUT=$gt
		GUEST_MEM=${XENPV_TB_GUEST_MEM:-512}
		GUEST_VCPUS=${XENPV_TB_VCPUS:-1}
		DISK_MB=128
		BLOB_MB=16
		CMDLINE_dut="console=ttyS0 quiet pci=noearly panic=-1 xen_nopv"
		CMDLINE_ref="console=ttyS0 quiet pci=noearly panic=-1"
	EOF
	PAYLOAD_IMG=$OUT_DIR/payload.img
	mke2fs -q -F -t ext2 -L xentb-payload -d "$dir" "$PAYLOAD_IMG" 64M >>"$LOG_DIR/cache.log" 2>&1 ||
		die "mke2fs of the payload failed"
}
