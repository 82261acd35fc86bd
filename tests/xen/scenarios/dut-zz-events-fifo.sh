# guest: dut
# timeout: 120
# The FIFO event ABI over real Xen: reload xenpv with event_abi=fifo; the
# self-test passes over FIFO and the module is pinned (FIFO cannot be
# undone by a module). Scenarios run in file-name order: this one pins
# xenpv, so it must stay the last dut scenario but dut-zzz-poweroff.
. /etc/xentb/lib.sh

frontends_remove
rmmod xenpv || fail "rmmod xenpv"
insmod /lib/xenpv/xenpv.ko event_abi=fifo || fail "insmod xenpv.ko event_abi=fifo"

d=$(pci_find 0x5853 0x0001) || fail "no platform device"
abi=$(cat "$d/xen/event_abi")
echo "event_abi: $abi"
[ "$abi" = fifo ] || fail "event_abi is '$abi', not fifo"
line=$(dmesg | grep 'xenpv: events: selftest over fifo' | tail -n 1)
echo "$line"
case $line in *"16/16 events delivered"*) ;; *) fail "FIFO self-test did not pass" ;; esac
lat=$(echo "$line" | sed -n 's/.*latency avg \([0-9]*\) ns.*/\1/p')
[ -n "$lat" ] && figure fifo_event_latency_avg_ns "$lat"
dmesg | grep 'xenpv: events: lateeoi storm over fifo' | tail -n 1 | grep -q 'port recovered' ||
	fail "the lateeoi storm test did not pass over FIFO"
[ -d /sys/bus/xenpv/devices/vbd-51712 ] || fail "xenbus did not come back over FIFO"

if rmmod xenpv 2>/dev/null; then
	fail "xenpv unloaded while FIFO is active"
fi
echo "rmmod refused while FIFO is active, as designed"
frontends_load
bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
