# guest: ref
# timeout: 180
# Mainline xen-blkfront (the reference): xvda appears, data written with
# O_DIRECT reads back identical.
. /etc/xentb/lib.sh
MB=16

i=0
while [ ! -b /dev/xvda ]; do
	i=$((i + 1))
	[ "$i" -gt 100 ] && fail "no /dev/xvda after 20 s"
	sleep 0.2
done
mib=$(($(cat /sys/block/xvda/size) / 2048))
echo "xvda: $mib MiB"
dmesg | grep -m1 'blkfront: xvda' | sed 's/^\[[^]]*\] //'
figure disk_mib "$mib"

dd if=/dev/urandom of=/tmp/pattern bs=1M count=$MB 2>/dev/null || fail "cannot make test data"
sum=$(md5sum </tmp/pattern)

t0=$(now)
dd if=/tmp/pattern of=/dev/xvda bs=1M oflag=direct conv=fsync 2>/dev/null || fail "write to xvda failed"
tw=$(elapsed "$t0")
t0=$(now)
dd if=/dev/xvda of=/tmp/back bs=1M count=$MB iflag=direct 2>/dev/null || fail "read from xvda failed"
tr=$(elapsed "$t0")
back=$(md5sum </tmp/back)
[ "$sum" = "$back" ] || fail "data read back differs: ${sum%% *} vs ${back%% *}"
echo "$MB MiB O_DIRECT: write ${tw}s, read ${tr}s, md5 ${sum%% *} matches"
figure write_mb_s "$(awk -v m=$MB -v t="$tw" 'BEGIN{printf "%.1f", (t > 0 ? m / t : 0)}')"
figure read_mb_s "$(awk -v m=$MB -v t="$tr" 'BEGIN{printf "%.1f", (t > 0 ? m / t : 0)}')"
exit 0
