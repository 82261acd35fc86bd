# Demo, ref side: the mainline drivers' view of the same backends.
. /etc/xentb/lib.sh
info() { echo "INFO $1=$2"; }
MB=16

i=0
while [ ! -b /dev/xvda ] && [ "$i" -lt 100 ]; do i=$((i + 1)); sleep 0.2; done
if [ -b /dev/xvda ]; then
	info disk_name xvda
	info disk_size "$(($(cat /sys/block/xvda/size) / 2048)) MiB"
	f=$(dmesg | grep -m1 'blkfront: xvda' | sed 's/.*blkfront: xvda: //')
	info disk_features "${f:-?}"
	dd if=/dev/urandom of=/tmp/p bs=1M count=$MB 2>/dev/null
	t0=$(now)
	dd if=/tmp/p of=/dev/xvda bs=1M oflag=direct conv=fsync 2>/dev/null
	tw=$(elapsed "$t0")
	t0=$(now)
	dd if=/dev/xvda of=/tmp/b bs=1M count=$MB iflag=direct 2>/dev/null
	tr=$(elapsed "$t0")
	info disk_test_mb $MB
	info disk_write_mbs "$(awk -v m=$MB -v t="$tw" 'BEGIN{printf "%.1f", (t > 0 ? m / t : 0)}')"
	info disk_read_mbs "$(awk -v m=$MB -v t="$tr" 'BEGIN{printf "%.1f", (t > 0 ? m / t : 0)}')"
	if [ "$(md5sum </tmp/p)" = "$(md5sum </tmp/b)" ]; then
		info disk_md5 "$MB MiB written and read back: identical"
	else
		info disk_md5 "MISMATCH"
	fi
	rm -f /tmp/p /tmp/b
else
	info disk_name "no xvda"
fi

if [ -e /sys/class/net/eth0 ]; then
	i=0
	while [ "$(cat /sys/class/net/eth0/operstate)" != up ] && [ "$i" -lt 50 ]; do
		i=$((i + 1)); sleep 0.2
	done
	info net_if eth0
	info net_mac "$(cat /sys/class/net/eth0/address)"
	info net_link "$(cat /sys/class/net/eth0/operstate)"
	info net_mtu "$(cat /sys/class/net/eth0/mtu)"
	info net_features "$(ls -d /sys/class/net/eth0/queues/rx-* | wc -l) rx queue(s)"
	p=$(ping -c 3 -W 3 10.99.0.1 2>&1 | tail -n 2 | tr '\n' ' ')
	info ping "${p:-failed}"
	t0=$(now)
	if wget -q -O /dev/null http://10.99.0.1/blob; then
		t=$(elapsed "$t0")
		info net_rx_mb 16
		info net_rx_mbs "$(awk -v t="$t" 'BEGIN{printf "%.1f", (t > 0 ? 16 / t : 0)}')"
	else
		info net_rx_mbs "wget failed"
	fi
else
	info net_if "no eth0"
fi
exit 0
