# guest: dut
# timeout: 300
# xenpv-netfront's two ways to send. trusted=0 with tx_in_place=1: the
# backend is not trusted, so every packet sent is copied into the slot
# pages the backend owns, none is sent in place; the message, pings up to
# 65000 bytes, downloads and uploads with checksums, iperf3 both ways.
# Then tx_in_place=1 alone: packets are sent in place (none copied), the
# uploads check out, and every grant reference comes back when the
# frontends unload (the refs that sent in place included). The default
# (copy) is what the other scenarios run.
. /etc/xentb/lib.sh

reload() { # <netfront args...>
	frontends_remove
	for ko in $(frontends); do
		case $ko in
		*netfront*) insmod "/lib/xenpv/$ko" "$@" || fail "insmod $ko $*" ;;
		*) insmod "/lib/xenpv/$ko" || fail "insmod $ko" ;;
		esac
	done
	wait_for 30 test -e /sys/class/net/eth0 || fail "no eth0 after reload"
	net_up || fail "eth0 carrier not up"
}
# txstats: "<packets> <copied>" sent, summed over the queues, from one
# ethtool -S (the link sends packets of its own between two reads). A
# packet is counted copied before it is counted sent, so "all copied"
# reads as copied >= sent.
txstats() {
	tools_mount >/dev/null || fail "no tools disk for ethtool"
	ethtool -S eth0 | awk '$1 ~ /_tx_packets:/ {p += $2} $1 ~ /_tx_copied:/ {c += $2} END {print p + 0, c + 0}'
}

# The kernel log from here on (not cleared: other scenarios read it too).
mark() { mark=$(dmesg | wc -l); }
since() { dmesg | tail -n +$((mark + 1)); }

mark
reload trusted=0 tx_in_place=1
msg=$(since | grep 'backend not trusted' | sed 's/^\[[^]]*\] //')
[ -n "$msg" ] || fail "no 'backend not trusted' message"
echo "$msg"
for s in 56 1472 8000 65000; do
	ping -c 2 -W 5 -s "$s" 10.99.0.1 >/dev/null || fail "ping -s $s failed"
done
echo "pings of 56 to 65000 bytes answered"
want=$(head -c 16777216 /dev/zero | md5sum)
for i in 1 2; do
	[ "$(wget -q -O - http://10.99.0.1/blob | md5sum)" = "$want" ] ||
		fail "download $i: checksum differs"
done
echo "2 x 16 MB downloaded, checksums match"
upload_check 8 || fail "upload with checksum (copied)"
if tools_mount; then
	for mode in "" "-R"; do
		out=$(iperf3 -c 10.99.0.1 -t 3 $mode -f m 2>&1) || { echo "$out" | tail -n 3; fail "iperf3 $mode failed"; }
		echo "iperf3 ${mode:-tx}: $(echo "$out" | grep receiver | tail -n 1 |
			awk '{for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1); print v}') Mbit/s"
	done
else
	fail "no tools disk for iperf3"
fi
read -r sent copied <<EOF
$(txstats)
EOF
echo "sent $sent packets, $copied of them copied"
[ "$sent" -gt 1000 ] && [ "$copied" -ge "$sent" ] || fail "not every packet sent was copied"
tools_umount
# In place.
mark
reload tx_in_place=1
since | grep -q 'backend not trusted' && fail "trusted by default, yet not trusted"
since | grep 'send in place' && fail "no refs to send in place"
upload_check 8 || fail "upload with checksum (in place)"
read -r sent copied <<EOF
$(txstats)
EOF
echo "in place: sent $sent packets, $copied of them copied"
[ "$sent" -gt 1000 ] && [ "$copied" -lt $((sent / 10)) ] || fail "most packets sent were copied"
tools_umount
p=$(pci_find 0x5853 0x0001) || fail "no platform device"
field() { echo "$2" | sed -n "s/.* $1 \([0-9]*\).*/\1/p"; }
idle() {
	g=$(cat "$p/xen/grant")
	[ "$(field in_use "$g")" = 0 ] && [ "$(field deferred "$g")" = 0 ]
}
frontends_remove
wait_for 150 idle || fail "references still held after unload: $(cat "$p/xen/grant")"
[ "$(field leaked "$(cat "$p/xen/grant")")" = 0 ] || fail "references leaked: $(cat "$p/xen/grant")"
echo "after unload: $(cat "$p/xen/grant")"
# Back to the default, as the other scenarios expect.
frontends_load
wait_for 30 test -e /sys/class/net/eth0 || fail "no eth0 after reload"
net_up || fail "eth0 carrier not up after reload"
ping -c 5 -i 0.2 -W 3 10.99.0.1 >/dev/null || fail "no ping with the default"
read -r sent copied <<EOF
$(txstats)
EOF
tools_umount
echo "default: sent $sent packets, $copied of them copied"
[ "$sent" -gt 0 ] && [ "$copied" -ge "$sent" ] || fail "the default sent some packets in place"
bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
