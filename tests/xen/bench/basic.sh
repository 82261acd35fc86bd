# Benchmark, run in both guests: whatever block and network frontend the
# guest has (mainline in ref, xenpv's in dut) against the same dom0
# backends, with busybox tools only (dd, ping, wget). Prints FIGURE lines;
# "absent" when there is no device.
. /etc/xentb/lib.sh

rate() { awk -v m="$1" -v t="$2" 'BEGIN{printf "%.1f", (t > 0 ? m / t : 0)}'; }

# dd_time <args...>: run dd, print its wall time in seconds
dd_time() {
	t0=$(now)
	dd "$@" 2>/dev/null || return 1
	elapsed "$t0"
}

i=0
while [ ! -b /dev/xvda ] && [ "$i" -lt 50 ]; do i=$((i + 1)); sleep 0.2; done
if [ -b /dev/xvda ]; then
	# Long enough (a few seconds each) that the figure is not the noise of
	# one moment: 96 of the disk's 128 MiB, 1024 requests of 4 KiB.
	MB=96
	N=1024
	t=$(dd_time if=/dev/zero of=/dev/xvda bs=1M count=$MB oflag=direct conv=fsync) &&
		figure dd_seq_write_1m_mb_s "$(rate $MB "$t")"
	bench_turn
	t=$(dd_time if=/dev/xvda of=/dev/null bs=1M count=$MB iflag=direct) &&
		figure dd_seq_read_1m_mb_s "$(rate $MB "$t")"
	bench_turn
	# 4 KiB requests: per-request cost (ring round trips, grants)
	t=$(dd_time if=/dev/zero of=/dev/xvda bs=4k count=$N oflag=direct) &&
		figure dd_write_4k_iops "$(awk -v n=$N -v t="$t" 'BEGIN{printf "%d", (t > 0 ? n / t : 0)}')"
	bench_turn
	t=$(dd_time if=/dev/xvda of=/dev/null bs=4k count=$N iflag=direct) &&
		figure dd_read_4k_iops "$(awk -v n=$N -v t="$t" 'BEGIN{printf "%d", (t > 0 ? n / t : 0)}')"
	bench_turn
else
	figure disk absent
fi

if [ -e /sys/class/net/eth0 ]; then
	i=0
	while [ "$(cat /sys/class/net/eth0/operstate)" != up ] && [ "$i" -lt 50 ]; do
		i=$((i + 1)); sleep 0.2
	done
	out=$(ping -c 10 -i 0.2 -W 3 10.99.0.1 2>&1)
	figure ping_avg_ms "$(echo "$out" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')"
	figure ping_received "$(echo "$out" | sed -n 's/.* \([0-9]*\) packets received.*/\1/p')"
	bench_turn
	# The 16 MiB blob four times over (one download is half a second).
	t0=$(now)
	ok=0
	for i in 1 2 3 4; do
		wget -q -O /dev/null http://10.99.0.1/blob && ok=$((ok + 1))
	done
	[ "$ok" = 4 ] && figure net_rx_http_mb_s "$(rate 64 "$(elapsed "$t0")")"
	bench_turn
else
	figure net absent
fi
exit 0
