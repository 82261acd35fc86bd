# guest: dut
# timeout: 120
# The FIFO event ABI over real Xen, the default: the boot's load switched
# the domain to FIFO and passed the self-test over it (2-level on real Xen
# is the fallback, covered by KUnit: a domain cannot go back). xenpv
# still unloads: a reload asking for 2-level adopts the control block and
# event array the first load left in the platform BAR, and events flow.
. /etc/xentb/lib.sh

d=$(pci_find 0x5853 0x0001) || fail "no platform device"
abi=$(cat "$d/xen/event_abi")
echo "event_abi at boot: $abi"
[ "$abi" = fifo ] || fail "event_abi is '$abi', not fifo (the default)"
line=$(dmesg | grep 'xenpv: events: FIFO ABI active' | head -n 1)
echo "$line"
[ -n "$line" ] || fail "no 'FIFO ABI active' line from the first load"
line=$(dmesg | grep 'xenpv: events: selftest over fifo' | head -n 1)
case $line in *"16/16 events delivered"*) ;; *) fail "FIFO self-test did not pass" ;; esac
lat=$(echo "$line" | sed -n 's/.*latency avg \([0-9]*\) ns.*/\1/p')
[ -n "$lat" ] && figure fifo_event_latency_avg_ns "$lat"

frontends_remove
rmmod xenpv || fail "rmmod xenpv refused over FIFO"
insmod /lib/xenpv/xenpv.ko event_abi=2l || fail "insmod xenpv.ko event_abi=2l"
abi=$(cat "$d/xen/event_abi")
echo "event_abi after a reload asking for 2l: $abi"
[ "$abi" = fifo ] || fail "event_abi is '$abi': FIFO was not adopted"
dmesg | tail -n 30 | grep 'FIFO ABI adopted from an earlier load' ||
	fail "no 'adopted' line"
dmesg | grep 'xenpv: events: selftest over fifo' | tail -n 1 | grep -q '16/16 events delivered' ||
	fail "self-test over the adopted FIFO did not pass"
dmesg | grep 'xenpv: events: lateeoi storm over fifo' | tail -n 1 | grep -q 'port recovered' ||
	fail "the lateeoi storm test did not pass over FIFO"
[ -d /sys/bus/xenpv/devices/vbd-51712 ] || fail "xenbus did not come back over FIFO"
rmmod xenpv || fail "rmmod xenpv"
insmod /lib/xenpv/xenpv.ko || fail "reload xenpv.ko"
frontends_load
bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
