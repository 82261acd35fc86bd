# guest: dut
# timeout: 120
# Debian's xenstore-utils, unmodified, talk to xenstored through xenpv's
# /dev/xen/xenbus: list the guest's own tree, write, read back, watch and
# remove under data/ (the part of the tree a guest may write).
. /etc/xentb/lib.sh

[ -c /dev/xen/xenbus ] || fail "no /dev/xen/xenbus"
command -v xenstore-ls >/dev/null || fail "no xenstore-ls in the guest"
# libxenstore looks for the socket first; there is none in a guest.
export XENSTORED_PATH=/dev/xen/xenbus

name=$(xenstore-read name) || fail "xenstore-read name failed"
[ "$name" = dut ] || fail "xenstore-read name: '$name', not dut"
tree=$(xenstore-ls -f "$(xenstore-read domid | sed 's|^|/local/domain/|')" 2>&1) ||
	fail "xenstore-ls failed: $(echo "$tree" | head -n 2)"
echo "$tree" | grep -q '/device/vbd/[0-9]*/backend = ' || fail "no device/vbd in xenstore-ls output"
echo "xenstore-ls: $(echo "$tree" | wc -l) nodes"
figure xenstore_ls_nodes "$(echo "$tree" | wc -l)"

xenstore-write data/xentb/a hello data/xentb/b world || fail "xenstore-write failed"
[ "$(xenstore-read data/xentb/a)" = hello ] || fail "read back data/xentb/a"
[ "$(xenstore-list data/xentb | tr '\n' ' ')" = "a b " ] || fail "xenstore-list data/xentb"

# A watch fires once when set, then for our write.
xenstore-watch -n 2 data/xentb/c >/tmp/watch.out 2>&1 &
wpid=$!
sleep 1
xenstore-write data/xentb/c fired
wait_for 20 sh -c '[ "$(grep -c data/xentb/c /tmp/watch.out)" -ge 2 ]' ||
	{ kill "$wpid" 2>/dev/null; fail "xenstore-watch saw: $(cat /tmp/watch.out)"; }
wait "$wpid"
echo "xenstore-watch: $(tr '\n' ' ' </tmp/watch.out)"

xenstore-rm data/xentb || fail "xenstore-rm failed"
xenstore-exists data/xentb && fail "data/xentb still exists after xenstore-rm"
exit 0
