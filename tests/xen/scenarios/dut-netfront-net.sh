# guest: dut
# timeout: 420
# xenpv-netfront against the real netback, over dom0's bridge: carrier,
# pings from 56 to 65000 bytes, 208 MB downloaded and 3 x 8 MB uploaded
# with checksum checks, iperf3 TCP both ways and UDP, four iperf3 streams
# filling the tx ring (the queue stops and wakes again), and an MTU of
# 9000 accepted.
. /etc/xentb/lib.sh

[ -e /sys/class/net/eth0 ] || fail "no eth0: $(dmesg | grep -i xenpv-vif | tail -n 3)"
net_up || fail "eth0 carrier not up: $(cat /sys/class/net/eth0/operstate)"
dmesg | grep 'xenpv-vif.*connected' | tail -n 1 | sed 's/^\[[^]]*\] //'
echo "driver: $(basename "$(readlink /sys/class/net/eth0/device/driver)")"

for s in 56 1472 8000 30000 65000; do
	out=$(ping -c 3 -W 5 -s "$s" 10.99.0.1 2>&1) || { echo "$out" | tail -n 2; fail "ping -s $s failed"; }
	echo "ping -s $s: $(echo "$out" | sed -n 's/.*= \([0-9.]*\/[0-9.]*\)\/.*/\1 ms/p')"
done
figure ping_avg_ms "$(ping -c 10 -i 0.2 10.99.0.1 | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')"

want=$(head -c 16777216 /dev/zero | md5sum)
t0=$(now)
i=0
while [ $i -lt 13 ]; do
	got=$(wget -q -O - http://10.99.0.1/blob | md5sum)
	[ "$got" = "$want" ] || fail "download $i: checksum differs"
	i=$((i + 1))
done
t=$(elapsed "$t0")
echo "208 MB downloaded in ${t}s, checksums match"
figure http_rx_mb_s "$(awk -v t="$t" 'BEGIN{printf "%.1f", (t > 0 ? 208 / t : 0)}')"
upload_check 8 || fail "upload with checksum"

if tools_mount; then
	for mode in "" "-R" "-u -b 100M"; do
		out=$(iperf3 -c 10.99.0.1 -t 4 $mode -f m 2>&1) || { echo "$out" | tail -n 3; fail "iperf3 $mode failed"; }
		echo "iperf3 ${mode:-tx}: $(echo "$out" | grep receiver | tail -n 1 |
			awk '{for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1); print v}') Mbit/s"
	done
	# A sender faster than netback fills the ring and stops the queue;
	# the tx event is asked for only then, and must wake it every time.
	stops() { ethtool -S eth0 | awk '/q[0-9]*_tx_stops:/ {n += $2} END {print n + 0}'; }
	s0=$(stops)
	out=$(iperf3 -c 10.99.0.1 -t 4 -P 4 -f m 2>&1) || { echo "$out" | tail -n 3; fail "iperf3 -P 4 failed"; }
	s1=$(stops)
	echo "iperf3 tx, 4 streams: $(echo "$out" | grep 'SUM.*receiver' | tail -n 1 |
		awk '{for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1); print v}') Mbit/s; the queue stopped $((s1 - s0)) times"
	[ $((s1 - s0)) -gt 0 ] || fail "4 streams never filled the tx ring: the wake after a stop went untested"
	ping -c 3 -i 0.2 -W 3 10.99.0.1 >/dev/null || fail "no ping after the queue stopped"
	tools_umount
else
	fail "no tools disk for iperf3"
fi

ip link set eth0 mtu 9000 || fail "ip link set mtu 9000 refused"
[ "$(cat /sys/class/net/eth0/mtu)" = 9000 ] || fail "mtu is $(cat /sys/class/net/eth0/mtu)"
ip link set eth0 mtu 1500
ping -c 2 -W 5 10.99.0.1 >/dev/null || fail "no ping after the MTU changes"
echo "mtu 9000 accepted; stats: rx $(cat /sys/class/net/eth0/statistics/rx_packets) tx $(cat /sys/class/net/eth0/statistics/tx_packets) rx_errors $(cat /sys/class/net/eth0/statistics/rx_errors)"
bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
