# guest: dut
# timeout: 240
# xenpv-netfront through ethtool: the offloads follow the same rules as
# mainline's (netfront_rules, checked against mainline by
# ref-netfront-ethtool), the driver names itself, the per-queue counters
# count, and TSO switched off and on again keeps TCP working.
. /etc/xentb/lib.sh

tools_mount || fail "no tools disk for ethtool"
netfront_rules
[ -z "$bad" ] || fail "xenpv-netfront differs from mainline's rules:$bad"
drv=$(ethtool -i eth0 | sed -n 's/^driver: //p')
echo "driver: $drv"
[ "$drv" = xenpv-netfront ] || fail "ethtool -i names driver '$drv'"

# The backend spreads received packets over the queues (one per vCPU, up
# to its limit): count them all.
rxp() { ethtool -S eth0 | awk '/q[0-9]*_rx_packets:/ {n += $2; q++} END {if (q) print n}'; }
before=$(rxp)
ping -c 5 -i 0.2 -W 3 10.99.0.1 >/dev/null || fail "no ping"
after=$(rxp)
echo "ethtool -S q*_rx_packets: $before -> $after ($(ethtool -S eth0 | grep -c '_rx_packets:') queue(s))"
[ -n "$before" ] && [ "$after" -ge $((before + 5)) ] || fail "q*_rx_packets did not count 5 replies"

for tso in off on; do
	ethtool -K eth0 tso "$tso" || fail "ethtool -K eth0 tso $tso refused"
	k=$(ethtool -k eth0 | sed -n 's/^tcp-segmentation-offload: \([a-z]*\).*/\1/p')
	[ "$k" = "$tso" ] || fail "tso $tso asked, ethtool -k says '$k'"
	out=$(iperf3 -c 10.99.0.1 -t 3 -f m 2>&1) || { echo "$out" | tail -n 3; fail "iperf3 with tso $tso failed"; }
	echo "tso $tso: iperf3 $(echo "$out" | awk '/receiver/ {print $(NF-2)}' | tail -n 1) Mbit/s"
done
tools_umount
bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
