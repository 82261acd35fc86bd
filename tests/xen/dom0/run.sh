#!/bin/sh
# dom0's PID 1 after switch_root (run by dash from the cached Debian root).
# Starts the minimum Xen userspace, creates the bridge and the guests'
# disks, boots the guests listed in /payload/run.conf, forwards their serial
# output to the console (prefixed "@<guest>|"), copies logs to
# /payload/out and prints "@@TB done". The host kills QEMU after that.
#
# Fork-heavy shell is slow in a PV dom0 under TCG: keep loops built-in.
export PATH=/usr/lib/xen-4.17/bin:/usr/sbin:/usr/bin:/sbin:/bin
XTB=/run/xentb
OUT=/payload/out

mark() { echo "@@TB $*"; }

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620 devpts /dev/pts
mount -t tmpfs run /run
mount -t tmpfs tmp /tmp
exec </dev/console >/dev/console 2>&1
mark "stage dom0-up"

. /payload/run.conf
mkdir -p "$OUT" "$XTB" /run/xen /run/xenstored /var/lib/xen /var/lib/xenstored \
	/var/log/xen /var/run

finish() { # <rc>
	xl dmesg >"$OUT/xen-dmesg.txt" 2>&1
	xl info >"$OUT/xl-info.txt" 2>&1
	dmesg >"$OUT/dom0-dmesg.txt" 2>&1
	mkdir -p "$OUT/var-log-xen"
	cp /var/log/xen/* "$OUT/var-log-xen/" 2>/dev/null
	cp "$XTB"/*.serial "$OUT/" 2>/dev/null
	sync
	cd /
	# dash keeps this script open, so /payload may be busy: then at least
	# make it read-only, which flushes it.
	umount /payload 2>/dev/null || mount -o remount,ro /payload
	mark "done $1"
	poweroff -f
	while :; do sleep 1000; done
}

fatal() {
	mark "fatal $*"
	finish 1
}

modprobe -a tun loop xen-evtchn xen-gntdev xen-gntalloc xen-privcmd xenfs \
	xen-blkback xen-netback bridge || fatal "dom0: modprobe failed"
mount -t xenfs xenfs /proc/xen || fatal "dom0: cannot mount xenfs"

xenstored --pid-file /run/xenstored.pid || fatal "dom0: xenstored failed"
xen-init-dom0 >"$OUT/xen-init-dom0.log" 2>&1 || fatal "dom0: xen-init-dom0 failed"
xenconsoled --pid-file=/run/xenconsoled.pid || fatal "dom0: xenconsoled failed"
# Facts for the report.
xl info >"$XTB/xl-info" 2>&1
while IFS= read -r l; do
	case "$l" in
	xen_version* | xen_caps* | virt_caps* | xen_commandline* | nr_cpus* | \
		total_memory* | xen_scheduler* | cpu_mhz* | xen_extra* | xen_major* | \
		xen_minor*)
		echo "@@INFO $l"
		;;
	esac
done <"$XTB/xl-info"
mark "stage xen-tools-up"

ip link add xenbr0 type bridge stp_state 0 forward_delay 0
ip addr add 10.99.0.1/24 dev xenbr0
ip link set xenbr0 up
ip link set lo up

# A file for the guests to download (network throughput figure).
mkdir -p /run/www
dd if=/dev/zero of=/run/www/blob bs=1M count="${BLOB_MB:-16}" 2>/dev/null
# And a CGI that answers the md5 of what a guest uploads (POST), for the
# transmit checksum checks.
mkdir -p /run/www/cgi-bin
cat >/run/www/cgi-bin/md5 <<'CGI'
#!/bin/sh
printf 'Content-Type: text/plain\r\n\r\n'
head -c "${CONTENT_LENGTH:-0}" | md5sum
CGI
chmod 755 /run/www/cgi-bin/md5
busybox httpd -p 80 -h /run/www
# Network throughput against dom0 (tests/xen/bench, netfront scenarios).
iperf3 -s -D -B 10.99.0.1 >/dev/null 2>&1

# The guests' tools disk (vdc, read-only), when the host attached one.
TOOLS_DISK=
[ -b /dev/vdc ] && TOOLS_DISK=", \"format=raw,vdev=xvdt,access=ro,script=/payload/dom0/block,target=/dev/vdc\""

# guest_cfg <name> <loopdev> <mac>: write the xl config for one guest.
guest_cfg() {
	eval "cmdline=\$CMDLINE_$1"
	cat >"$XTB/$1.cfg" <<EOF
name = "$1"
type = "hvm"
memory = ${GUEST_MEM:-512}
vcpus = ${GUEST_VCPUS:-1}
cpus = "$([ "${GUEST_VCPUS:-1}" = 1 ] && echo 1 || echo all)"
kernel = "/boot/vmlinuz-guest"
ramdisk = "/payload/guests/$1/initrd"
cmdline = "$cmdline"
serial = "file:$XTB/$1.serial"
vnc = 0
sdl = 0
vga = "none"
on_poweroff = "destroy"
on_reboot = "destroy"
on_crash = "destroy"
disk = [ "format=raw,vdev=xvda,access=rw,script=/payload/dom0/block,target=$2"$TOOLS_DISK ]
vif = [ "bridge=xenbr0,mac=$3,script=/payload/dom0/vif,type=vif" ]
EOF
}

n=0
for g in $GUESTS; do
	truncate -s "${DISK_MB:-128}M" "$XTB/$g.img"
	losetup "/dev/loop$n" "$XTB/$g.img" || fatal "dom0: losetup failed"
	guest_cfg "$g" "/dev/loop$n" "00:16:3e:00:00:0$((n + 2))"
	n=$((n + 1))
done

# The guests' serial lines end in CR LF.
CR=$(printf '\r')

# dom0_request <guest> <request> [arg] [force]: what a guest asked for with
# "@@D <request>" on its serial port (guest lib.sh: dom0). Only these
# requests, only against the asking guest; the result goes to the log as
# "@@TB dom0-request".
dom0_request() {
	g=$1 req=$2 arg=${3:-} f=
	[ "${4:-}" = force ] && f=-f
	case "$req" in
	block-attach)
		truncate -s 64M "$XTB/$g-${arg:-xvdb}.img"
		lo=$(losetup -f --show "$XTB/$g-${arg:-xvdb}.img") &&
			xl block-attach "$g" "format=raw,vdev=${arg:-xvdb},access=rw,script=/payload/dom0/block,target=$lo"
		;;
	block-detach) xl block-detach $f "$g" "${arg:-xvdb}" ;;
	block-grow)
		# 32 MB more; blkback notices at its next request.
		img="$XTB/$g-${arg:-xvdb}.img"
		# Every loop device on the file (earlier attaches left some).
		lo=$(losetup -j "$img" | cut -d: -f1) && [ -n "$lo" ] &&
			truncate -s +32M "$img" && {
			ok=0
			for l in $lo; do losetup -c "$l" || ok=1; done
			[ "$ok" = 0 ]
		}
		;;
	network-attach)
		xl network-attach "$g" bridge=xenbr0 script=/payload/dom0/vif type=vif \
			"mac=00:16:3e:00:01:$(printf %02x "$(cat "$XTB/$g.domid")")"
		;;
	network-detach) xl network-detach "$g" "${arg:-1}" ;;
	sysrq) xl sysrq "$g" "${arg:-h}" ;;
	xen-diag)
		# Xen's recent messages, then its view of the guest's event
		# channels (debug key 'e'), and dom0's backend interrupts.
		d=$(cat "$XTB/$g.domid")
		xl dmesg | tail -n 8
		xl dmesg -c >/dev/null
		xl debug-keys e
		xl dmesg | sed -n "/information for domain $d:/,/information for domain/p" | head -n 16
		grep -E "blkif|vif" /proc/interrupts | tr -s ' '
		;;
	shutdown) xl shutdown "$g" ;;
	reboot) xl reboot "$g" ;;
	*) false ;;
	esac >"$XTB/$g.request.log" 2>&1
	rc=$?
	if [ "$req" = xen-diag ]; then
		while IFS= read -r l; do mark "dom0-request $g xen-diag: $l"; done <"$XTB/$g.request.log"
		return
	fi
	mark "dom0-request $g $req $arg $f rc=$rc $(head -c 200 "$XTB/$g.request.log" | tr '\n' ' ')"
}

# end_reason <name>: how the domain last shut down, from xl's log
end_reason() {
	r=$(sed -n 's/.*has shut down, reason code \([0-9]*\).*/\1/p' "/var/log/xen/xl-$1.log" 2>/dev/null | tail -n 1)
	case "$r" in
	0) echo poweroff ;;
	1) echo reboot ;;
	2) echo suspend ;;
	3) echo crash ;;
	4) echo watchdog ;;
	5) echo soft_reset ;;
	*) echo unknown ;;
	esac
}

# start_guest <name>: create the domain and start its serial forwarder.
start_guest() {
	: >"$XTB/$1.serial"
	if ! xl create "$XTB/$1.cfg" >"$XTB/$1.create.log" 2>&1; then
		while IFS= read -r l; do echo "@$1|xl: $l"; done <"$XTB/$1.create.log"
		mark "guest-fail $1 xl create failed"
		return 1
	fi
	xl domid "$1" >"$XTB/$1.domid" 2>/dev/null
	(
		tail -n +1 -F -s 0.2 "$XTB/$1.serial" 2>/dev/null &
		echo $! >"$XTB/$1.tailpid"
		wait
	) | while IFS= read -r l; do
		echo "@$1|$l"
		case "$l" in "@@D "*)
			l=${l%"$CR"}
			dom0_request "$1" ${l#@@D } &
			;;
		esac
	done &
	t=$(cut -d. -f1 /proc/uptime)
	eval "start_$1=$t seen_$1=$t size_$1=0 init_$1="
	mark "guest-created $1 $(cat "$XTB/$1.domid")"
	return 0
}

# stop_forwarder <name>
stop_forwarder() {
	sleep 1
	[ -f "$XTB/$1.tailpid" ] && kill "$(cat "$XTB/$1.tailpid")" 2>/dev/null
	rm -f "$XTB/$1.tailpid"
}

# early_triple_fault <name>: true if the guest died before its PID 1 ran
# and Xen logged a triple fault for it (a rare TCG flake worth one retry).
early_triple_fault() {
	grep -q '@@G init' "$XTB/$1.serial" && return 1
	d=$(cat "$XTB/$1.domid" 2>/dev/null)
	[ -n "$d" ] || return 1
	xl dmesg 2>/dev/null | grep -qi "d${d}v[0-9]* triple fault"
}

# guest_overdue <name> <now>: set $why if the guest must be ended (no
# command substitution: it keeps per-guest state in variables).
# Limits: GUEST_BOOT_LIMIT until PID 1 runs, then GUEST_IDLE seconds without
# serial output (a hung kernel; scenarios are killed in the guest earlier),
# and GUEST_TIMEOUT overall.
guest_overdue() {
	why=""
	eval "t0=\$start_$1 seen=\$seen_$1 last=\$size_$1 up=\$init_$1"
	size=$(stat -c %s "$XTB/$1.serial" 2>/dev/null)
	if [ "$size" != "$last" ]; then
		eval "size_$1=\$size seen_$1=$2"
		seen=$2
	fi
	if [ -z "$up" ] && grep -q '@@G init' "$XTB/$1.serial"; then
		eval "init_$1=1"
		up=1
	fi
	if [ "$2" -gt $((t0 + GUEST_TIMEOUT)) ]; then
		why="overall limit ${GUEST_TIMEOUT}s"
	elif [ -z "$up" ] && [ "$2" -gt $((t0 + GUEST_BOOT_LIMIT)) ]; then
		why="no PID 1 after ${GUEST_BOOT_LIMIT}s"
	elif [ -n "$up" ] && [ "$2" -gt $((seen + GUEST_IDLE)) ]; then
		why="no output for ${GUEST_IDLE}s"
	fi
}

# make bench (BENCH_ROUNDS > 0): the guests boot together, then take
# turns step by step. A guest ends a step (one measured job; the first
# step is "booted and ready") by printing "@@B done <n>" and sleeping
# (guest lib.sh bench_turn); dom0 pauses it there while a guest that is
# behind runs the same step, and lets it go on when both are level, so the
# order is dut ref, ref dut, dut ref, ... and no step shares the CPU. If a
# guest goes away, the others are let go.
bench_cur=

# bench_done <guest>: how many "@@B done" lines it printed
bench_done() {
	grep -c '@@B done' "$XTB/$1.serial" 2>/dev/null
}

bench_release() { # <why>: stop scheduling, let every guest run to its end
	bench_cur=released
	for g in $GUESTS; do xl unpause "$g" 2>/dev/null; done
	mark "bench-released $1"
}

bench_run() { # <guest> <steps done> [running]: let it run its next step
	bench_cur=$1 bench_seen=$2
	bench_t0=$(cut -d. -f1 /proc/uptime)
	[ -n "${3:-}" ] || xl unpause "$1"
}

# bench_step <running guests>: called every second while guests run. No
# xl here but pause/unpause: every xl run costs dom0, the backends' CPU.
bench_step() {
	local g n h hn behind="" behind_n
	[ "${BENCH_ROUNDS:-0}" -gt 0 ] && [ "$bench_cur" != released ] || return 0
	for g in $GUESTS; do
		case " $* " in
		*" $g "*) ;;
		*) bench_release "$g is gone"; return ;;
		esac
	done
	if [ -z "$bench_cur" ]; then
		ready=0
		for g in $GUESTS; do
			[ "$(bench_done "$g")" -ge 1 ] || continue
			eval "p=\${paused_$g:-}"
			[ -n "$p" ] || { xl pause "$g"; eval "paused_$g=1"; }
			ready=$((ready + 1))
		done
		set -- $GUESTS
		[ "$ready" = $# ] && bench_run "$1" 1
		return 0
	fi
	g=$bench_cur
	n=$(bench_done "$g")
	[ "$n" -gt "$bench_seen" ] || return 0
	mark "bench-turn $g $n $(($(cut -d. -f1 /proc/uptime) - bench_t0))"
	behind_n=$n
	for h in $GUESTS; do
		hn=$(bench_done "$h")
		[ "$hn" -lt "$behind_n" ] && behind=$h behind_n=$hn
	done
	if [ -n "$behind" ]; then
		xl pause "$g"
		bench_run "$behind" "$behind_n"
	else
		bench_run "$g" "$n" running	# level: it goes first next
	fi
}

# Run guests (all at once if PARALLEL=1, else one after another) and wait.
run_guests() { # <names...>
	running="" tick=0
	for g in "$@"; do
		eval "retried_$g=0"
		start_guest "$g" && running="$running $g"
	done
	while [ -n "$running" ]; do
		sleep 1
		still=""
		t=$(cut -d. -f1 /proc/uptime)
		tick=$((tick + 1))
		for g in $running; do
			# Benchmarks: xl (heavy for dom0) every 5 s only.
			if [ "${BENCH_ROUNDS:-0}" -gt 0 ] && [ $((tick % 5)) != 0 ] &&
				[ "$bench_cur" != released ]; then
				still="$still $g"
				continue
			fi
			if xl domid "$g" >/dev/null 2>&1; then
				guest_overdue "$g" "$t"
				if [ -n "$why" ]; then
					mark "guest-timeout $g $why"
					xl destroy "$g"
					stop_forwarder "$g"
					continue
				fi
				still="$still $g"
				continue
			fi
			stop_forwarder "$g"
			eval "r=\$retried_$g"
			if [ "$r" = 0 ] && early_triple_fault "$g"; then
				eval "retried_$g=1"
				cp "$XTB/$g.serial" "$OUT/$g.serial.first-attempt" 2>/dev/null
				mark "guest-retry $g early triple fault, retrying once"
				start_guest "$g" && still="$still $g"
				continue
			fi
			mark "guest-gone $g $(end_reason "$g")"
		done
		running=$still
		bench_step $running
	done
}

if [ "${PARALLEL:-0}" = 1 ]; then
	run_guests $GUESTS
else
	for g in $GUESTS; do run_guests "$g"; done
fi
finish 0
