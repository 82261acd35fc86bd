# guest: dut
# timeout: 420
# xenpv-blkfront with multi-page rings (max_ring_page_order=2: 4 pages,
# 128 requests in flight) against the real blkback: the order is written
# to xenstore and used, and fio at queue depth 64 verifies. Then online
# resize: dom0 grows the backing disk of a hot-plugged xvdb, blkback
# rewrites "sectors", and the new size reaches the block layer while the
# disk is open; the new end is readable and writable.
. /etc/xentb/lib.sh
export XENSTORED_PATH=/dev/xen/xenbus

frontends_remove
insmod /lib/xenpv/xenpv-blkfront.ko max_ring_page_order=2 ||
	fail "insmod xenpv-blkfront.ko max_ring_page_order=2"
wait_for 30 test -b /dev/xvda || fail "no /dev/xvda after the reload"
order=$(xenstore-read device/vbd/51712/ring-page-order) || fail "no ring-page-order in xenstore"
tags=$(cat /sys/block/xvda/mq/0/nr_tags)
echo "xvda: ring-page-order $order, $tags requests"
[ "$order" = 2 ] && [ "$tags" = 128 ] || fail "want order 2 and 128 requests"

dom0 block-attach
wait_for 60 test -b /dev/xvdb || fail "no /dev/xvdb 60 s after xl block-attach"
tools_mount || fail "cannot mount the tools disk"
out=$(fio --name=deep --filename=/dev/xvdb --direct=1 --ioengine=libaio \
	--rw=randwrite --bs=4k --size=32M --iodepth=64 --verify=crc32c \
	--verify_fatal=1 --do_verify=1 --minimal 2>&1)
rc=$?
set -- $(echo "$out" | tail -n 1 | awk -F';' '{print $5, $8, $49}')
echo "fio qd64 on xvdb: exit $rc, errors $1, verify read ${2} IOPS, write ${3} IOPS"
[ "$rc" = 0 ] && [ "$1" = 0 ] || { echo "$out" | tail -n 5; fail "fio at queue depth 64 failed"; }
tools_umount

# Online resize, with xvdb held open by a reader.
old=$(cat /sys/block/xvdb/size)
exec 3</dev/xvdb
dom0 block-grow xvdb
# blkback looks at the size when it has work: give it some.
grown() {
	dd if=/dev/xvdb of=/dev/null bs=4k count=1 iflag=direct 2>/dev/null
	[ "$(cat /sys/block/xvdb/size)" -gt "$old" ]
}
wait_for 60 grown || fail "xvdb still $old sectors 60 s after growing it"
new=$(cat /sys/block/xvdb/size)
echo "xvdb resized online: $old -> $new sectors"
[ "$new" = $((old + 65536)) ] || fail "want $((old + 65536)) sectors"
dd if=/dev/urandom of=/tmp/tail bs=4k count=16 2>/dev/null
dd if=/tmp/tail of=/dev/xvdb bs=4k seek=$((new / 8 - 16)) oflag=direct conv=notrunc 2>/dev/null ||
	fail "cannot write the new end of xvdb"
dd if=/dev/xvdb of=/tmp/back bs=4k skip=$((new / 8 - 16)) count=16 iflag=direct 2>/dev/null
cmp -s /tmp/tail /tmp/back || fail "the new end of xvdb reads back wrong"
exec 3<&-

dom0 block-detach xvdb
wait_for 60 sh -c '! test -b /dev/xvdb' || fail "xvdb still there 60 s after xl block-detach"
frontends_remove
frontends_load
wait_for 30 test -b /dev/xvda || fail "no /dev/xvda with the default parameters"
[ "$(cat /sys/block/xvda/mq/0/nr_tags)" = 32 ] || fail "not back to one ring page"
bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
