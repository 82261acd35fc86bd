# guest: ref
# timeout: 120
# Mainline xen-blkfront's negotiated features, checked against the rules
# dut-blkfront-features.sh holds xenpv-blkfront to (the same lines in both
# scripts): queue limits in /sys/block/xvda from the backend's xenstore
# keys, and persistent grants / indirect descriptors from dmesg. This one
# passing shows the rules are mainline's; the dut one, that we follow them.
. /etc/xentb/lib.sh

blkfront_rules

line=$(dmesg | grep -m1 'blkfront: xvda:' | sed 's/^\[[^]]*\] //')
echo "$line"
p=disabled
[ "$pers" = 1 ] && p=enabled
i=disabled
[ "$ind" -gt 0 ] && i=enabled
chk persistent "$p" "$(echo "$line" | sed -n 's/.*persistent grants: \([a-z]*\);.*/\1/p')"
chk indirect "$i" "$(echo "$line" | sed -n 's/.*indirect descriptors: \([a-z]*\);.*/\1/p')"

[ -z "$bad" ] || fail "mainline differs from the rules:$bad"
echo "mainline: $segs segs, $wc, fua $fua, discard $disc gran $gran, $nq queue(s), persistent $p, indirect $i"
exit 0
