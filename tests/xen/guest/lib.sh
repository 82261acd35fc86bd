# Helpers for scenario scripts; source with:  . /etc/xentb/lib.sh
# Scenarios run under busybox sh inside the guest. Exit 0 = pass.
# Keep output short: the guest's serial port is very slow.

# figure <key> <value>: a measurement collected into build/xen/report.json
figure() { echo "FIGURE $1=$2"; }

# fail <message>: end the scenario as failed
fail() {
	echo "FAIL: $*"
	exit 1
}

# pci_find <vendor> <device>: print the sysfs dir of the first match
pci_find() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ] &&
			{ echo "$d"; return 0; }
	done
	return 1
}

# cpuid_leaf <leaf as decimal or 0x..>: print eax ebx ecx edx in hex
# (needs cpuid.ko, which the guest init loads).
cpuid_leaf() {
	dd if=/dev/cpu/0/cpuid bs=16 count=1 skip=$(($1)) iflag=skip_bytes 2>/dev/null |
		hexdump -v -e '4/4 "%08x " "\n"'
}

# le32_str <hex>: the 4 bytes of a little-endian register as text
le32_str() {
	printf "\\x${1:6:2}\\x${1:4:2}\\x${1:2:2}\\x${1:0:2}"
}

# xen_cpuid_base: print the Xen CPUID base leaf (decimal), as the kernel
# searches it: 0x40000000..0x4000ff00 in steps of 0x100.
xen_cpuid_base() {
	b=$((0x40000000))
	while [ "$b" -lt $((0x40010000)) ]; do
		set -- $(cpuid_leaf "$b")
		if [ "$(le32_str "$2")$(le32_str "$3")$(le32_str "$4")" = XenVMMXenVMM ]; then
			echo "$b"
			return 0
		fi
		b=$((b + 0x100))
	done
	return 1
}

# bench_turn: end one benchmark step (make bench only; a no-op elsewhere).
# The guest prints "@@B done <n>" and sleeps; dom0 pauses it there while
# the other guest runs the same step, so each pair of figures is taken
# seconds apart, not a whole round apart (the host's speed drifts by tens
# of percent over minutes). Adds the step's own time to /tmp/bench.active.
bench_turn() {
	[ -f /etc/xentb/bench/rounds ] || return 0
	n=$(($(cat /tmp/bench.steps 2>/dev/null || echo 0) + 1))
	echo "$n" >/tmp/bench.steps
	[ -f /tmp/bench.t0 ] && awk -v a="$(cat /tmp/bench.t0)" -v b="$(now)" \
		-v s="$(cat /tmp/bench.active 2>/dev/null || echo 0)" \
		'BEGIN{printf "%.2f\n", s + b - a}' >/tmp/bench.active
	echo "@@B done $n"
	sleep 3		# dom0 pauses us here (it polls every second)
	now >/tmp/bench.t0
}

# dmesg_bad: print kernel log lines that indicate a kernel bug (or a
# page pool whose pages never all came back)
dmesg_bad() {
	dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection|kernel panic|event was lost|stalled pool shutdown'
}

# elapsed <start>: seconds since <start> (a value of $(now))
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }

# frontends_remove: unload our frontend modules (everything but xenpv.ko),
# newest first; frontends_load: load them again.
frontends() { grep -v '^xenpv.ko$' /lib/xenpv/order; }
frontends_remove() {
	# A mounted tools disk (an earlier scenario that failed) pins blkfront.
	grep -q " /tools " /proc/mounts && umount /tools
	for ko in $(frontends | sed '1!G;h;$!d'); do
		m=$(basename "$ko" .ko | tr - _)
		grep -q "^$m " /proc/modules || continue
		rmmod "$m" || fail "rmmod $m"
	done
}
frontends_load() {
	for ko in $(frontends); do
		insmod "/lib/xenpv/$ko" || fail "insmod $ko"
	done
}

# dom0 <request> [arg]: ask dom0 to act on this guest through the serial
# console (one way: poll for the effect). Requests, run by dom0/run.sh:
#   block-attach [vdev]   a new 64 MB disk (default xvdb)
#   block-detach [vdev [force]]   (default xvdb; force: xl -f, for a
#                         device no frontend will close)
#   block-grow [vdev]     32 MB more for a disk block-attach made
#   network-attach        a second vif on the bridge
#   network-detach [idx]  (default 1; xl 4.17 has no -f here)
#   sysrq <key>           xl sysrq
#   shutdown | reboot     xl shutdown / xl reboot (through control/)
dom0() { echo "@@D $*"; }

# wait_for <seconds> <command...>: poll every 0.2 s until the command
# succeeds; false on timeout
wait_for() {
	_w=$(($1 * 5))
	shift
	while [ "$_w" -gt 0 ]; do
		"$@" && return 0
		sleep 0.2
		_w=$((_w - 1))
	done
	return 1
}

# The tools disk (xvdt, read-only ext4): fio and iperf3 with their
# libraries, run through the disk's own dynamic loader. tools_mount waits
# for the disk (it needs a block frontend); tools_umount before unloading
# the frontend.
TOOLS=/tools
tools_mount() {
	grep -q " $TOOLS " /proc/mounts && return 0
	wait_for 30 test -b /dev/xvdt || { echo "no /dev/xvdt (tools disk)"; return 1; }
	mkdir -p "$TOOLS"
	mount -t ext4 -o ro /dev/xvdt "$TOOLS"
}
tools_umount() { grep -q " $TOOLS " /proc/mounts && umount "$TOOLS"; return 0; }
tools_run() { # <program> <args...>
	_p=$1
	shift
	# The loader itself, not the absolute links to it (merged /usr).
	"$TOOLS/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
		--library-path "$TOOLS/usr/lib/x86_64-linux-gnu:$TOOLS/usr/lib/x86_64-linux-gnu/ceph" \
		"$TOOLS/usr/bin/$_p" "$@"
}
fio() { tools_run fio "$@"; }
iperf3() { tools_run iperf3 "$@"; }
ethtool() { tools_run ../sbin/ethtool "$@"; }
# perf (Debian's linux-perf for the guest's 6.1): software-clock samples
# only (no PMU under TCG), e.g. perf record -a -e cpu-clock -F 499 ...
perf() { tools_run perf "$@"; }

# net_up: eth0 up with the guest's address (init does it at boot; a
# scenario that reloaded the frontends gets a new eth0). False if none.
net_up() {
	[ -e /sys/class/net/eth0 ] || return 1
	. /etc/xentb/conf
	ip link set lo up
	ip link set eth0 up
	ip addr show dev eth0 | grep -q "inet $GUEST_IP/" ||
		ip addr add "$GUEST_IP/24" dev eth0
	wait_for 30 sh -c '[ "$(cat /sys/class/net/eth0/operstate)" = up ]'
}

# upload_check <MB>: send MB of random bytes to dom0 (HTTP POST to its md5
# CGI) three times and compare the md5 dom0 computed with ours. busybox
# wget posts the file as a string, so the data has no NUL bytes.
upload_check() {
	head -c $(($1 * 1048576)) /dev/urandom | tr '\0' '\1' >/tmp/up.bin
	_want=$(md5sum </tmp/up.bin)
	for _i in 1 2 3; do
		_got=$(wget -q -O - --post-file=/tmp/up.bin http://10.99.0.1/cgi-bin/md5) ||
			{ rm -f /tmp/up.bin; echo "upload $_i failed"; return 1; }
		[ "$_got" = "$_want" ] ||
			{ rm -f /tmp/up.bin; echo "upload $_i: dom0 got $_got, sent $_want"; return 1; }
	done
	rm -f /tmp/up.bin
	echo "3 x $1 MB uploaded, checksums match"
}

# blkfront_rules: what mainline's blkfront makes of xvda's backend keys with its
# default parameters, checked against /sys/block/xvda with chk (mismatches
# gather in $bad). Sets segs, wc, fua, disc, gran, nq, pers, ind for the
# caller's driver-specific checks. Shared by dut- and ref-blkfront-features.
blkfront_rules() {
	wait_for 30 test -b /dev/xvda || fail "no /dev/xvda"
	# libxenstore looks for a socket first; a guest has /dev/xen/xenbus.
	export XENSTORED_PATH=/dev/xen/xenbus
	be=$(xenstore-read device/vbd/51712/backend) || fail "cannot read xvda's backend path"
	bk() { xenstore-read "$be/$1" 2>/dev/null || echo "$2"; }
	min() { [ "$1" -lt "$2" ] && echo "$1" || echo "$2"; }

	# The backend's offer.
	ss=$(bk sector-size 512)
	pss=$(bk physical-sector-size "$ss")
	ind=$(bk feature-max-indirect-segments 0)
	flush=$(bk feature-flush-cache 0)
	bar=$(bk feature-barrier 0)
	disc=$(bk feature-discard 0)
	pers=$(bk feature-persistent 0)
	mq=$(bk multi-queue-max-queues 1)
	echo "backend: sector $ss/$pss indirect $ind flush $flush barrier $bar discard $disc persistent $pers queues $mq"

	# What mainline makes of it with its default parameters (max_queues=4,
	# max_ring_page_order=0, max_indirect_segments=32, feature_persistent=1).
	segs=11
	[ "$ind" -gt 0 ] && segs=$(min "$ind" 32)
	wc="write through"
	[ "$flush" = 1 ] || [ "$bar" = 1 ] && wc="write back"
	# A cache flush is preferred to a barrier; FUA only with a barrier alone.
	fua=0
	[ "$bar" = 1 ] && [ "$flush" != 1 ] && fua=1
	gran=0
	if [ "$disc" = 1 ]; then
		gran=$(bk discard-granularity 0)
		[ "$gran" -gt 0 ] || gran=$pss
	fi
	nq=$(min "$(min "$mq" 4)" "$(grep -c ^processor /proc/cpuinfo)")

	q=/sys/block/xvda/queue
	bad=""
	chk() { # <key> <expected> <actual>
		[ "$2" = "$3" ] || bad="$bad $1(want '$2' got '$3')"
	}
	chk logical_block_size "$ss" "$(cat $q/logical_block_size)"
	chk physical_block_size "$pss" "$(cat $q/physical_block_size)"
	chk max_hw_sectors_kb $((segs * 4)) "$(cat $q/max_hw_sectors_kb)"
	chk write_cache "$wc" "$(cat $q/write_cache)"
	chk fua "$fua" "$(cat $q/fua)"
	chk rotational 0 "$(cat $q/rotational)"
	chk discard_granularity "$gran" "$(cat $q/discard_granularity)"
	chk discard "$disc" "$([ "$(cat $q/discard_max_hw_bytes)" -gt 0 ] && echo 1 || echo 0)"
	chk hw_queues "$nq" "$(ls -d /sys/block/xvda/mq/*/ | wc -l)"
	chk ring_slots 32 "$(cat /sys/block/xvda/mq/0/nr_tags)"
	chk read_only 0 "$(cat /sys/block/xvda/ro)"
}

# netfront_rules: what mainline's netfront makes of eth0's backend keys,
# as ethtool -k shows it, checked with chk (mismatches gather in $bad).
# Shared by dut- and ref-netfront-ethtool. Needs the tools disk mounted.
netfront_rules() {
	net_up || fail "eth0 is not up"
	export XENSTORED_PATH=/dev/xen/xenbus
	be=$(xenstore-read device/vif/0/backend) || fail "cannot read eth0's backend path"
	bk() { xenstore-read "$be/$1" 2>/dev/null || echo "$2"; }
	onoff() { [ "$1" = 1 ] && echo on || echo off; }
	sg=$(bk feature-sg 0)
	t4=$(bk feature-gso-tcpv4 0)
	t6=$(bk feature-gso-tcpv6 0)
	c6=$(bk feature-ipv6-csum-offload 0)
	echo "backend: sg $sg gso-tcpv4 $t4 gso-tcpv6 $t6 ipv6-csum $c6"
	k=$(ethtool -k eth0) || fail "ethtool -k eth0 failed"
	kf() { echo "$k" | sed -n "s/^[[:space:]]*$1: \([a-z]*\).*/\1/p" | head -n 1; }
	bad=""
	chk() { # <key> <expected> <actual>
		[ "$2" = "$3" ] || bad="$bad $1(want '$2' got '$3')"
	}
	# The kernel drops TSO without scatter-gather or the checksum offload.
	chk scatter-gather "$(onoff "$sg")" "$(kf scatter-gather)"
	chk tx-checksum-ipv4 on "$(kf tx-checksum-ipv4)"
	chk tx-checksum-ipv6 "$(onoff "$c6")" "$(kf tx-checksum-ipv6)"
	chk rx-checksumming on "$(kf rx-checksumming)"
	chk tx-tcp-segmentation "$(onoff $((sg && t4)))" "$(kf tx-tcp-segmentation)"
	chk tx-tcp6-segmentation "$(onoff $((sg && t6 && c6)))" "$(kf tx-tcp6-segmentation)"
	chk generic-receive-offload on "$(kf generic-receive-offload)"
	chk link yes "$(ethtool eth0 | sed -n 's/.*Link detected: //p')"
}

# blk_diag <disk>: what a disk that stopped answering looks like, for the
# log: requests in flight, our ring indexes (xenpv-blkfront's debugfs),
# interrupt counts, the block layer's view.
blk_diag() {
	grep -q " /sys/kernel/debug " /proc/mounts ||
		mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
	echo "diag: $1 inflight $(cat "/sys/block/$1/inflight")"
	[ -f "/sys/kernel/debug/xenpv/blkfront/$1" ] &&
		sed 's/^/diag: /' "/sys/kernel/debug/xenpv/blkfront/$1"
	grep -E "xvd|blkif|xenpv" /proc/interrupts | tr -s ' ' | sed 's/^/diag: /'
	[ -f /sys/kernel/debug/xenpv/events ] &&
		sed 's/^/diag: /' /sys/kernel/debug/xenpv/events
	for f in state busy dispatch; do
		echo "diag: hctx0/$f: $(head -c 300 "/sys/kernel/debug/block/$1/hctx0/$f" 2>/dev/null | tr '\n' ' ')"
	done
	dmesg | tail -n 5 | sed 's/^/diag: /'
}

# stuck_diag: kernel stacks of xenpv's threads, of rmmod and of workers
# running xenpv code, for a step that stopped making progress.
stuck_diag() {
	for _p in /proc/[0-9]*; do
		_n=$(cat "$_p/comm" 2>/dev/null)
		_s=$(cat "$_p/stack" 2>/dev/null)
		case "$_n" in
		xenpv* | rmmod | insmod) ;;
		*) echo "$_s" | grep -q xenpv || continue ;;
		esac
		echo "stack: $_n (${_p#/proc/}, $(sed -n 's/^State:[[:space:]]*//p' "$_p/status")):"
		echo "$_s" | head -n 14 | sed 's/^/stack:   /'
	done
}
