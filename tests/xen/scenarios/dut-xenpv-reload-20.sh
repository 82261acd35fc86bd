# guest: dut
# timeout: 600
# xenpv.ko alone unloads and loads 20 times in a row: every load binds the
# platform device and passes the event self-test again, and nothing is
# left behind (no warning, no leaked IRQ, the same interrupt count names).
. /etc/xentb/lib.sh

[ -f /lib/xenpv/xenpv.ko ] || fail "no xenpv.ko in the guest"
# Frontends depend on xenpv: take them out first, put them back after.
frontends_remove

d=$(pci_find 0x5853 0x0001) || fail "no PCI device 5853:0001"
irqs_before=$(grep -c . /proc/interrupts)
t0=$(now)
i=1
while [ $i -le 20 ]; do
	rmmod xenpv || fail "cycle $i: rmmod xenpv failed"
	[ -e "$d/driver" ] && fail "cycle $i: platform device still bound after rmmod"
	grep -q xenpv /proc/interrupts && fail "cycle $i: xenpv IRQs left in /proc/interrupts"
	insmod /lib/xenpv/xenpv.ko || fail "cycle $i: insmod failed"
	[ -d "$d/xen" ] || fail "cycle $i: platform device not bound after insmod"
	i=$((i + 1))
done
figure reload_cycles 20
figure reload_seconds "$(elapsed "$t0")"

n=$(dmesg | grep -c 'xenpv: events: selftest over .* delivered')
echo "self-tests passed in this boot: $n"
[ "$n" -ge 21 ] || fail "expected >= 21 passing self-tests (boot + 20 reloads), saw $n"
dmesg | grep -q 'selftest over .* failed' && fail "a self-test failed"
dmesg | grep -q 'lateeoi storm over .* failed' && fail "a lateeoi storm test failed"
[ "$(grep -c . /proc/interrupts)" -eq "$irqs_before" ] || fail "/proc/interrupts changed size: leaked IRQ?"

frontends_load
bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
