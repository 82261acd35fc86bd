# guest: dut
# timeout: 120
# xenpv's xenbus in the real guest: the guest's vbd and vif are devices on
# the xenpv bus with their backends' state, grant counters are idle (with
# no frontend loaded), and
# xenstore answers a raw XS_READ through /dev/xen/xenbus.
. /etc/xentb/lib.sh

b=/sys/bus/xenpv/devices
[ -d "$b" ] || fail "no $b (bus not registered)"
n=0
for d in "$b"/vbd-* "$b"/vif-*; do
	[ -e "$d" ] || fail "no ${d##*/} on the xenpv bus: $(ls "$b")"
	echo "${d##*/}: $(cat "$d/nodename"), ours $(cat "$d/state"), backend $(cat "$d/otherend_state"), alias $(cat "$d/modalias")"
	n=$((n + 1))
done
figure xenbus_devices "$n"

p=$(pci_find 0x5853 0x0001) || fail "no platform device"
g=$(cat "$p/xen/grant")
echo "grant: $g"
# With frontends loaded, references are in use (dut-grant-release checks
# they come back).
if [ -z "$(frontends)" ]; then
	case $g in *"in_use 0 "*) ;; *) fail "grant references in use with no frontend: $g" ;; esac
fi

[ -c /dev/xen/xenbus ] || fail "no /dev/xen/xenbus"
# XS_READ (2), req_id 7, tx 0, len 5, "name\0": the domain's name.
exec 3<>/dev/xen/xenbus
printf '\002\000\000\000\007\000\000\000\000\000\000\000\005\000\000\000name\000' >&3
reply=$(dd bs=256 count=1 <&3 2>/dev/null | od -An -tu1 | tr -s ' \n' ' ')
exec 3<&-
echo "reply bytes: $reply"
set -- $reply
[ "$1" = 2 ] || fail "reply type $1, not XS_READ (16 = XS_ERROR)"
[ "$5" = 7 ] || fail "reply req_id $5, not 7"
[ "$13" -gt 0 ] || fail "empty name"
exit 0
