# guest: dut
# timeout: 150
# The toolstack's requests through control/, from dom0: xl shutdown and
# xl reboot reach the kernel's orderly power-off and reboot (the guest's
# /sbin/poweroff and /sbin/reboot are stand-ins for a distribution's
# init that record the request), and xl sysrq runs a SysRq key.
. /etc/xentb/lib.sh

[ -d /sys/bus/xenpv ] || fail "xenpv is not loaded"
orderly() { [ "$(cat /tmp/xentb-orderly 2>/dev/null)" = "$1" ]; }

for req in shutdown:poweroff reboot:reboot; do
	rm -f /tmp/xentb-orderly
	t0=$(now)
	dom0 "${req%%:*}"
	wait_for 40 orderly "${req#*:}" ||
		fail "xl ${req%%:*}: no orderly ${req#*:} within 40 s"
	d=$(elapsed "$t0")
	echo "xl ${req%%:*} -> orderly ${req#*:} in $d s"
	figure "xl_${req%%:*}_s" "$d"
done

# SysRq 'h' prints the help line.
n0=$(dmesg | grep -c 'sysrq: HELP')
dom0 sysrq h
sysrq_seen() { [ "$(dmesg | grep -c 'sysrq: HELP')" -gt "$n0" ]; }
wait_for 40 sysrq_seen || fail "xl sysrq h: no 'sysrq: HELP' in the kernel log"
echo "xl sysrq h: $(dmesg | grep 'sysrq: HELP' | tail -n 1 | cut -c1-60)"

bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
