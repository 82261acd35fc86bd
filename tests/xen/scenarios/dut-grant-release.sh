# guest: dut
# timeout: 200
# Grant references come back when devices close: with our frontends
# connected to the real backends some references are in use; after the
# frontends unload (their devices close, the backends unmap) every
# reference is free again, none deferred or leaked; and the frontends
# connect again after a reload.
. /etc/xentb/lib.sh

p=$(pci_find 0x5853 0x0001) || fail "no platform device"
[ -n "$(frontends)" ] || fail "no frontend modules in the guest (module build: ${MODULE_BUILD:-?})"
field() { echo "$2" | sed -n "s/.* $1 \([0-9]*\).*/\1/p"; }

g=$(cat "$p/xen/grant")
echo "with frontends: $g"
[ "$(field in_use "$g")" -gt 0 ] || fail "no grant references in use with the frontends connected"
figure grant_refs_in_use_connected "$(field in_use "$g")"

frontends_remove
idle() {
	g=$(cat "$p/xen/grant")
	[ "$(field in_use "$g")" = 0 ] && [ "$(field deferred "$g")" = 0 ]
}
t0=$(now)
wait_for 150 idle || fail "references still held after the frontends closed: $(cat "$p/xen/grant")"
echo "after the frontends closed ($(elapsed "$t0") s): $(cat "$p/xen/grant")"
[ "$(field leaked "$(cat "$p/xen/grant")")" = 0 ] || fail "references leaked: $(cat "$p/xen/grant")"

frontends_load
bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
