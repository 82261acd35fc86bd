# guest: dut
# timeout: 600
# xenpv-blkfront against the real blkback: xvda appears with the features
# negotiated; raw O_DIRECT data reads back identical; then ext4: mkfs,
# mount, ~90 MB of varied files (the disk has 128 MB), umount, a clean
# fsck, mount again and every checksum matches.
. /etc/xentb/lib.sh

wait_for 30 test -b /dev/xvda || fail "no /dev/xvda after 30 s: $(dmesg | grep -i xenpv-vbd | tail -n 3)"
line=$(dmesg | grep 'xvda: [0-9]* sectors' | tail -n 1 | sed 's/^\[[^]]*\] //')
echo "$line"
[ -n "$line" ] || fail "no connect line from xenpv-blkfront"
q=/sys/block/xvda/queue
echo "queue: max_hw_sectors_kb $(cat $q/max_hw_sectors_kb), logical $(cat $q/logical_block_size), write_cache $(cat $q/write_cache), discard_max $(cat $q/discard_max_bytes), nr_hw_queues $(ls -d /sys/block/xvda/mq/* | wc -l)"
figure disk_mib "$(($(cat /sys/block/xvda/size) / 2048))"
# The same keys as ref-blkfront-features prints for mainline's driver.
for k in max_hw_sectors_kb max_segments logical_block_size physical_block_size write_cache fua discard_max_bytes discard_granularity rotational; do
	figure "queue_$k" "$(cat $q/$k | tr ' ' _)"
done

# Raw: 16 MiB of random data, O_DIRECT, read back.
MB=16
dd if=/dev/urandom of=/tmp/pattern bs=1M count=$MB 2>/dev/null || fail "cannot make test data"
sum=$(md5sum </tmp/pattern)
t0=$(now)
dd if=/tmp/pattern of=/dev/xvda bs=1M oflag=direct conv=fsync 2>/dev/null || fail "raw write failed"
tw=$(elapsed "$t0")
t0=$(now)
dd if=/dev/xvda of=/tmp/back bs=1M count=$MB iflag=direct 2>/dev/null || fail "raw read failed"
tr=$(elapsed "$t0")
[ "$(md5sum </tmp/back)" = "$sum" ] || fail "raw data read back differs"
echo "raw $MB MiB O_DIRECT: write ${tw}s, read ${tr}s, identical"
figure raw_write_mb_s "$(awk -v m=$MB -v t="$tw" 'BEGIN{printf "%.1f", (t > 0 ? m / t : 0)}')"
figure raw_read_mb_s "$(awk -v m=$MB -v t="$tr" 'BEGIN{printf "%.1f", (t > 0 ? m / t : 0)}')"
rm -f /tmp/back

# ext4 with varied files: large ones cut from the pattern at odd offsets,
# and many small ones.
mkfs.ext4 -q -F /dev/xvda || fail "mkfs.ext4 failed"
mkdir -p /mnt/x
mount -t ext4 /dev/xvda /mnt/x || fail "mount failed"
t0=$(now)
i=0
while [ $i -lt 10 ]; do
	dd if=/tmp/pattern of=/mnt/x/big$i bs=4k skip=$((i * 97)) count=$((256 + i * 100)) 2>/dev/null ||
		fail "writing big$i failed"
	head -c $((6 << 20)) /tmp/pattern >>/mnt/x/big$i || fail "writing big$i failed"
	i=$((i + 1))
done
mkdir /mnt/x/small
i=0
while [ $i -lt 300 ]; do
	dd if=/tmp/pattern of=/mnt/x/small/f$i bs=$((512 + i * 37)) skip=$i count=1 2>/dev/null
	i=$((i + 1))
done
sync
tf=$(elapsed "$t0")
used=$(du -sm /mnt/x | cut -f1)
echo "wrote ${used} MB in 310 files in ${tf}s"
figure fs_written_mb "$used"
(cd /mnt/x && find . -type f | sort | xargs md5sum) >/tmp/sums
umount /mnt/x || fail "umount failed"
e2fsck -f -n /dev/xvda >/tmp/fsck.out 2>&1 || { tail -n 5 /tmp/fsck.out; fail "fsck found problems"; }
tail -n 1 /tmp/fsck.out
mount -t ext4 /dev/xvda /mnt/x || fail "second mount failed"
(cd /mnt/x && md5sum -c -s /tmp/sums) || fail "checksums differ after remount"
echo "remount: $(wc -l </tmp/sums) checksums match"
umount /mnt/x
bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
