# guest: ref
# timeout: 60
# In a guest whose kernel drives Xen itself (no xen_nopv), xenpv.ko must
# refuse to load, with one clear line in the kernel log.
. /etc/xentb/lib.sh

ko=/lib/xenpv-refused/xenpv.ko
[ -f "$ko" ] || fail "no $ko in the ref guest (module build: ${MODULE_BUILD:-?})"
[ -e /sys/hypervisor/type ] || fail "the ref kernel does not run as a Xen guest"
if insmod "$ko" 2>/dev/null; then
	rmmod xenpv
	fail "xenpv.ko loaded beside the kernel's own Xen support"
fi
line=$(dmesg | grep 'xenpv: not loading' | tail -n 1)
echo "$line"
case $line in
*"the kernel's own Xen support is active"*) ;;
*) fail "no refusal message in the kernel log" ;;
esac
grep -q '^xenpv ' /proc/modules && fail "xenpv is loaded"
exit 0
