# guest: ref
# timeout: 120
# Mainline xen-netfront's offloads as ethtool shows them, checked against
# the rules dut-netfront-ethtool.sh holds xenpv-netfront to (netfront_rules
# in lib.sh). This one passing shows the rules are mainline's.
. /etc/xentb/lib.sh

tools_mount || fail "no tools disk for ethtool"
netfront_rules
echo "driver: $(ethtool -i eth0 | sed -n 's/^driver: //p')"
tools_umount
[ -z "$bad" ] || fail "mainline differs from the rules:$bad"
exit 0
