# guest: dut
# timeout: 420
# fio with verification against the real blkback, through xenpv-blkfront:
# random 4 KiB writes at queue depth 16 then 1 MiB sequential writes, each
# read back and checked (crc32c); the data path must not lose, reorder or
# corrupt a block. fio comes from the tools disk (xvdt), itself read
# through xenpv-blkfront.
. /etc/xentb/lib.sh

wait_for 30 test -b /dev/xvda || fail "no /dev/xvda"
tools_mount || fail "cannot mount the tools disk"
run() { # <name> <fio args...>
	n=$1
	shift
	t0=$(now)
	out=$(fio --name="$n" --filename=/dev/xvda --direct=1 --ioengine=libaio \
		--verify=crc32c --verify_fatal=1 --do_verify=1 --minimal "$@" 2>&1)
	rc=$?
	set -- $(echo "$out" | tail -n 1 | awk -F';' '{print $5, $7, $48}')
	echo "$n: exit $rc, errors $1, verify read ${2} KiB/s, write ${3} KiB/s, $(elapsed "$t0") s"
	[ "$rc" = 0 ] && [ "$1" = 0 ] || { echo "$out" | tail -n 5; fail "fio $n failed verification"; }
}
run randwrite-4k --rw=randwrite --bs=4k --size=16M --iodepth=16
run seqwrite-1m --rw=write --bs=1M --size=96M --iodepth=4
tools_umount
bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
