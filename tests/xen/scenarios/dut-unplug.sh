# guest: dut
# timeout: 120
# The emulated-device unplug protocol with the device model: by default
# xenpv unplugs nothing; with xenpv.unplug=nics it checks the magic, gives
# its product and build numbers, is not blacklisted, and writes the mask.
# The dut has no emulated NIC (type=vif), so this changes nothing else.
. /etc/xentb/lib.sh

frontends_remove

dmesg | grep -q 'xenpv: asked the device model to unplug' &&
	fail "xenpv unplugged something by default"
rmmod xenpv || fail "rmmod xenpv"
insmod /lib/xenpv/xenpv.ko unplug=nics || fail "insmod xenpv.ko unplug=nics"
line=$(dmesg | grep -E 'xenpv: (asked the device model to unplug|the device model)' | tail -n 1)
echo "$line"
case $line in
*"unplug: nics (mask 0x2)"*) ;;
*) fail "unplug=nics did not complete the protocol" ;;
esac

rmmod xenpv || fail "rmmod xenpv"
if insmod /lib/xenpv/xenpv.ko unplug=floppies 2>/dev/null; then
	fail "an unknown unplug class was accepted"
fi
dmesg | tail -n 3 | grep -q 'unplug=floppies: unknown device class' ||
	fail "no message for an unknown unplug class"
insmod /lib/xenpv/xenpv.ko || fail "reload xenpv.ko"
frontends_load
bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
