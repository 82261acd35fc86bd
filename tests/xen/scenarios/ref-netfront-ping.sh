# guest: ref
# timeout: 120
# Mainline xen-netfront (the reference): eth0 comes up on the bridge and
# dom0 (10.99.0.1) answers pings, also 8000-byte ones (IP fragments).
. /etc/xentb/lib.sh

[ -e /sys/class/net/eth0 ] || fail "no eth0 (xen-netfront did not attach)"
i=0
while [ "$(cat /sys/class/net/eth0/operstate)" != up ]; do
	i=$((i + 1))
	[ "$i" -gt 50 ] && fail "eth0 not up after 10 s (operstate $(cat /sys/class/net/eth0/operstate))"
	sleep 0.2
done
echo "eth0 $(cat /sys/class/net/eth0/address) up, mtu $(cat /sys/class/net/eth0/mtu)"

out=$(ping -c 3 -W 3 10.99.0.1 2>&1)
echo "$out" | tail -n 2
echo "$out" | grep -q ' 3 packets received' || fail "ping to dom0 lost packets"
figure ping_avg_ms "$(echo "$out" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')"

out=$(ping -c 2 -W 3 -s 8000 10.99.0.1 2>&1)
echo "$out" | grep -q ' 2 packets received' || { echo "$out" | tail -n 2; fail "8000-byte ping failed"; }
echo "8000-byte ping ok"
exit 0
