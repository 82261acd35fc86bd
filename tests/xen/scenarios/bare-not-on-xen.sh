# guest: bare
# timeout: 60
# The same kernel in plain QEMU, with no hypervisor underneath: xenpv.ko
# refuses to load with one clear line, and the frontends cannot load
# without it.
. /etc/xentb/lib.sh

ko=/lib/xenpv-refused/xenpv.ko
[ -f "$ko" ] || fail "no xenpv.ko in the guest"
if insmod "$ko" 2>/dev/null; then
	fail "xenpv.ko loaded without Xen"
fi
line=$(dmesg | grep 'xenpv: not loading' | tail -n 1)
echo "$line"
case $line in
*"not running on Xen"*) ;;
*) fail "no 'not running on Xen' line in the kernel log" ;;
esac
# Nothing else from xenpv but the kernel's taint notes (busybox insmod
# tries finit_module, then init_module: the line may appear twice).
other=$(dmesg | grep xenpv | grep -v -e 'taints kernel' -e 'module verification' \
	-e 'not loading: not running on Xen')
[ -z "$other" ] || fail "other xenpv lines: $other"
for ko in /lib/xenpv-refused/*.ko; do
	[ "${ko##*/}" = xenpv.ko ] && continue
	insmod "$ko" 2>/dev/null && fail "${ko##*/} loaded without xenpv"
	echo "${ko##*/}: refused (no xenpv)"
done
grep -q xenpv /proc/modules && fail "a xenpv module is loaded"
exit 0
