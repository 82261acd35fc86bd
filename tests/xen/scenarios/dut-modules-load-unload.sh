# guest: dut
# timeout: 180
# Our modules (already loaded by the guest's init, xenpv.ko first) unload
# and load again cleanly three times, with nothing alarming in dmesg.
. /etc/xentb/lib.sh
. /etc/xentb/conf

[ -s /lib/xenpv/order ] || fail "no xenpv modules in the guest (module build: ${MODULE_BUILD:-?})"

# module name as /proc/modules shows it
modname() { basename "$1" .ko | tr - _; }
loaded() { grep -q "^$(modname "$1") " /proc/modules; }

load_order=$(cat /lib/xenpv/order)
unload_order=$(sed '1!G;h;$!d' /lib/xenpv/order)

for ko in $load_order; do
	loaded "$ko" || fail "$ko was not loaded by init"
done

t0=$(now)
for i in 1 2 3; do
	for ko in $unload_order; do
		rmmod "$(modname "$ko")" || fail "cycle $i: rmmod $(modname "$ko") failed"
		loaded "$ko" && fail "cycle $i: $ko still loaded after rmmod"
	done
	for ko in $load_order; do
		insmod "/lib/xenpv/$ko" || fail "cycle $i: insmod $ko failed"
		loaded "$ko" || fail "cycle $i: $ko not in /proc/modules after insmod"
	done
done
echo "3 unload/load cycles of: $load_order"
figure cycles 3
figure cycles_seconds "$(elapsed "$t0")"

bad=$(dmesg_bad | head -n 5)
if [ -n "$bad" ]; then
	echo "$bad"
	fail "kernel log has warnings/oopses"
fi
exit 0
