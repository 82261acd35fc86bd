# guest: ref
# timeout: 60
# What mainline's xen-blkfront negotiated with the same blkback, as queue
# limits (the same FIGUREs dut-blkfront-fs prints for xenpv's, side by
# side in build/xen/report.json) and its own connect line.
. /etc/xentb/lib.sh

wait_for 30 test -b /dev/xvda || fail "no /dev/xvda"
dmesg | grep 'blkfront: xvda' | sed 's/^\[[^]]*\] //'
q=/sys/block/xvda/queue
for k in max_hw_sectors_kb max_segments logical_block_size physical_block_size write_cache fua discard_max_bytes discard_granularity rotational; do
	figure "queue_$k" "$(cat $q/$k | tr ' ' _)"
done
figure nr_hw_queues "$(ls -d /sys/block/xvda/mq/* | wc -l)"
exit 0
