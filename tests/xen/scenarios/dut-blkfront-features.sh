# guest: dut
# timeout: 120
# xenpv-blkfront negotiates what mainline does: queue limits in
# /sys/block/xvda from the backend's xenstore keys, and persistent grants /
# indirect descriptors from dmesg, by the rules ref-blkfront-features.sh
# checks mainline against (the same lines in both scripts). The guest has
# one vCPU, so one hardware queue whatever the backend offers.
. /etc/xentb/lib.sh

wait_for 30 test -b /dev/xvda || fail "no /dev/xvda"
# libxenstore looks for a socket first; a guest has /dev/xen/xenbus.
export XENSTORED_PATH=/dev/xen/xenbus
be=$(xenstore-read device/vbd/51712/backend) || fail "cannot read xvda's backend path"
bk() { xenstore-read "$be/$1" 2>/dev/null || echo "$2"; }
min() { [ "$1" -lt "$2" ] && echo "$1" || echo "$2"; }

# The backend's offer.
ss=$(bk sector-size 512)
pss=$(bk physical-sector-size "$ss")
ind=$(bk feature-max-indirect-segments 0)
flush=$(bk feature-flush-cache 0)
bar=$(bk feature-barrier 0)
disc=$(bk feature-discard 0)
pers=$(bk feature-persistent 0)
mq=$(bk multi-queue-max-queues 1)
echo "backend: sector $ss/$pss indirect $ind flush $flush barrier $bar discard $disc persistent $pers queues $mq"

# What mainline makes of it with its default parameters (max_queues=4,
# max_ring_page_order=0, max_indirect_segments=32, feature_persistent=1).
segs=11
[ "$ind" -gt 0 ] && segs=$(min "$ind" 32)
wc="write through"
[ "$flush" = 1 ] || [ "$bar" = 1 ] && wc="write back"
# A cache flush is preferred to a barrier; FUA only with a barrier alone.
fua=0
[ "$bar" = 1 ] && [ "$flush" != 1 ] && fua=1
gran=0
if [ "$disc" = 1 ]; then
	gran=$(bk discard-granularity 0)
	[ "$gran" -gt 0 ] || gran=$pss
fi
nq=$(min "$(min "$mq" 4)" "$(grep -c ^processor /proc/cpuinfo)")

q=/sys/block/xvda/queue
bad=""
chk() { # <key> <expected> <actual>
	[ "$2" = "$3" ] || bad="$bad $1(want '$2' got '$3')"
}
chk logical_block_size "$ss" "$(cat $q/logical_block_size)"
chk physical_block_size "$pss" "$(cat $q/physical_block_size)"
chk max_hw_sectors_kb $((segs * 4)) "$(cat $q/max_hw_sectors_kb)"
chk write_cache "$wc" "$(cat $q/write_cache)"
chk fua "$fua" "$(cat $q/fua)"
chk rotational 0 "$(cat $q/rotational)"
chk discard_granularity "$gran" "$(cat $q/discard_granularity)"
chk discard "$disc" "$([ "$(cat $q/discard_max_hw_bytes)" -gt 0 ] && echo 1 || echo 0)"
chk hw_queues "$nq" "$(ls -d /sys/block/xvda/mq/*/ | wc -l)"
chk ring_slots 32 "$(cat /sys/block/xvda/mq/0/nr_tags)"
chk read_only 0 "$(cat /sys/block/xvda/ro)"

line=$(dmesg | grep -m1 'xvda: [0-9]* sectors of' | sed 's/^\[[^]]*\] //')
echo "$line"
p=0
echo "$line" | grep -q ', persistent grants' && p=1
i=0
echo "$line" | grep -q '(indirect)' && i=1
chk persistent "$pers" "$p"
chk indirect "$([ "$ind" -gt 0 ] && echo 1 || echo 0)" "$i"

[ -z "$bad" ] || fail "xenpv-blkfront differs from mainline's rules:$bad"
echo "xenpv: $segs segs, $wc, fua $fua, discard $disc gran $gran, $nq queue(s), persistent $p, indirect $i"
exit 0
