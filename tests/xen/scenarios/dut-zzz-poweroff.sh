# guest: dut
# timeout: 60
# ends-guest: poweroff
# end-log: xenpv: power off: SCHEDOP_shutdown(poweroff)
# `poweroff` in the guest ends the domain through xenpv's power-off
# handler (SCHEDOP_shutdown), not the emulated ACPI path. This scenario
# never returns: the host judges it from dom0's report of why the domain
# ended and from the handler's line on the console. It runs last.
. /etc/xentb/lib.sh

grep -q '^xenpv ' /proc/modules || insmod /lib/xenpv/xenpv.ko || fail "cannot load xenpv.ko"
# The handler logs at KERN_INFO: let the console show it.
echo 7 >/proc/sys/kernel/printk
sync
poweroff -f
sleep 10
fail "still running 10 s after poweroff -f"
