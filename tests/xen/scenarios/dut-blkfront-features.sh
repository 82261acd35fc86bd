# guest: dut
# timeout: 120
# xenpv-blkfront negotiates what mainline does: queue limits in
# /sys/block/xvda from the backend's xenstore keys, and persistent grants /
# indirect descriptors from dmesg, by the rules ref-blkfront-features.sh
# checks mainline against (the same lines in both scripts). The guest has
# one queue per vCPU, up to the backend's offer and max_queues (4).
. /etc/xentb/lib.sh

blkfront_rules

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
