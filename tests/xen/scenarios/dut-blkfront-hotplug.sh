# guest: dut
# timeout: 600
# Disks attached and detached at run time (xl block-attach, block-detach
# from dom0) through xenpv-blkfront: a new xvdb carries a file system;
# detached while idle it goes away cleanly; attached again and detached
# while mounted, its I/O fails with errors and nothing hangs.
. /etc/xentb/lib.sh

grep -q '^xenpv_blkfront ' /proc/modules || fail "xenpv-blkfront is not loaded"

dom0 block-attach
wait_for 60 test -b /dev/xvdb || fail "no /dev/xvdb 60 s after xl block-attach"
echo "attached: xvdb $(($(cat /sys/block/xvdb/size) / 2048)) MiB"
mkfs.ext4 -q -F /dev/xvdb || fail "mkfs on xvdb failed"
mkdir -p /mnt/b
mount -t ext4 /dev/xvdb /mnt/b || fail "mount xvdb failed"
dd if=/dev/urandom of=/mnt/b/f bs=64k count=32 2>/dev/null
sum=$(md5sum </mnt/b/f)
umount /mnt/b
mount -t ext4 /dev/xvdb /mnt/b && [ "$(md5sum </mnt/b/f)" = "$sum" ] || fail "data on xvdb differs"
umount /mnt/b

t0=$(now)
dom0 block-detach xvdb
wait_for 60 sh -c '! test -b /dev/xvdb' || fail "xvdb still there 60 s after xl block-detach"
echo "detached while idle in $(elapsed "$t0") s"

# Again, and away while mounted and busy.
dom0 block-attach
wait_for 60 test -b /dev/xvdb || fail "no /dev/xvdb after the second attach"
mount -t ext4 /dev/xvdb /mnt/b || fail "mount xvdb (second) failed"
(while :; do dd if=/dev/zero of=/mnt/b/busy bs=64k count=16 conv=fsync 2>/dev/null; done) &
writer=$!
sleep 1
t0=$(now)
dom0 block-detach xvdb
wait_for 60 sh -c '! test -b /dev/xvdb' || fail "xvdb still there 60 s after detaching it mounted"
echo "detached while mounted in $(elapsed "$t0") s"
kill "$writer" 2>/dev/null
wait "$writer" 2>/dev/null
dd if=/dev/zero of=/mnt/b/after bs=4k count=1 conv=fsync 2>/dev/null &&
	fail "a write to the detached disk succeeded"
umount /mnt/b 2>/dev/null || umount -l /mnt/b
echo "I/O failed after the detach, umount done"
bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
