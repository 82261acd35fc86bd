# Block benchmark, the same in both guests: fio on xvda (direct I/O,
# libaio), 1 MiB sequential and 4 KiB random reads and writes at queue
# depth 1 and 32, 5 s each. fio comes from the tools disk.
. /etc/xentb/lib.sh

wait_for 30 test -b /dev/xvda || { figure fio absent; exit 0; }
tools_mount || { figure fio absent; exit 0; }
echo "blk: tools mounted"
# Reads need written blocks.
fio --name=fill --filename=/dev/xvda --direct=1 --rw=write --bs=1M --size=96M \
	--ioengine=libaio --iodepth=4 --minimal >/dev/null 2>&1
job() { # <name> <rw> <bs> <qd> <field: 7 read, 48 write> <unit: bw|iops>
	f=$5
	echo "blk: $1"
	[ "$6" = iops ] && f=$(($5 + 1))
	fio --name="$1" --filename=/dev/xvda --direct=1 --ioengine=libaio \
		--rw="$2" --bs="$3" --iodepth="$4" --size=96M --runtime=5 --time_based \
		--minimal >/tmp/fio.out 2>/dev/null &
	pid=$!
	# A job that has not ended well after its 5 s: say what the disk does.
	wait_for 60 sh -c "! kill -0 $pid 2>/dev/null" ||
		{ blk_diag xvda; sleep 20; blk_diag xvda; }
	wait "$pid"
	v=$(awk -F';' -v f="$f" '{print $f}' /tmp/fio.out)
	figure "$1" "${v:-0}"
	bench_turn
}
job fio_seq_read_1m_qd1_kib_s read 1M 1 7 bw
job fio_seq_write_1m_qd1_kib_s write 1M 1 48 bw
job fio_seq_read_1m_qd32_kib_s read 1M 32 7 bw
job fio_seq_write_1m_qd32_kib_s write 1M 32 48 bw
# xenpv counts its upcalls in sysfs: every interrupt of the vector route,
# and those of the INTx route that found an event pending (the
# interrupts beyond those were spurious: the line re-raised after EOI).
upcalls() { cat /sys/bus/pci/devices/*/xen/upcalls 2>/dev/null || echo 0; }
# Upcall interrupts per I/O, from this job: xenpv's (the vector route has
# its own flow handler, which /proc/interrupts does not count; the INTx
# route is xenpv-platform there) and mainline's (the HYP line).
upcall_irqs() {
	if grep -qs '^vector' /sys/bus/pci/devices/*/xen/upcall; then
		upcalls
		return
	fi
	awk '/xenpv-platform|^ *HYP:/ {for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i} END {print n + 0}' /proc/interrupts
}
i0=$(upcall_irqs) u0=$(upcalls)
job fio_rand_read_4k_qd1_iops randread 4k 1 7 iops
i1=$(upcall_irqs) u1=$(upcalls)
ios=$(awk -F';' '{print int($6 / 4)}' /tmp/fio.out)
per_io() { awk -v n="$1" -v d="$ios" 'BEGIN{printf "%.2f", n / d}'; }
if [ "${ios:-0}" -gt 0 ]; then
	figure upcall_irqs_per_io "$(per_io $((i1 - i0)))"
	[ "$u1" -gt 0 ] && figure upcall_spurious_per_io "$(per_io $((i1 - i0 - u1 + u0)))"
fi
job fio_rand_write_4k_qd1_iops randwrite 4k 1 48 iops
job fio_rand_read_4k_qd32_iops randread 4k 32 7 iops
job fio_rand_write_4k_qd32_iops randwrite 4k 32 48 iops
# xenpv-blkfront: completions whose event never came, taken by a request
# timeout instead (must stay 0; mainline has no such count).
grep -q " /sys/kernel/debug " /proc/mounts ||
	mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
r=$(sed -n 's/.* rescued \([0-9]*\);.*/\1/p' /sys/kernel/debug/xenpv/blkfront/xvda 2>/dev/null)
[ -n "$r" ] && figure blk_events_lost "$r"
tools_umount
exit 0
