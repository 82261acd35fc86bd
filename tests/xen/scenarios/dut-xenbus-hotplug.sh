# guest: dut
# timeout: 240
# Hot-plug on the xenpv bus itself, with no frontend bound: a disk and a
# vif attached from dom0 at run time (xl block-attach, xl network-attach)
# appear as devices with their backend's state, and disappear again when
# dom0 detaches them. With no frontend bound nobody answers the backend's
# Closing (as with mainline's bus), so dom0 detaches the disk with xl -f;
# xl 4.17 cannot force a vif off, so the vif goes after the frontends are
# back (netfront closes it), or stays when there is no netfront.
. /etc/xentb/lib.sh

b=/sys/bus/xenpv/devices
[ -d "$b" ] || fail "xenpv is not loaded"
frontends_remove

# appear <dev> <what>: wait for the device, print its backend's state
appear() {
	t0=$(now)
	wait_for 60 test -e "$b/$1" || fail "$2: no $1 on the bus after 60 s: $(ls "$b" | tr '\n' ' ')"
	echo "$2: $1 appeared in $(elapsed "$t0") s, backend $(cat "$b/$1/otherend_state")"
	# The backend may still be setting up (Initialising).
	wait_for 30 backend_ready "$1" || fail "$1: backend state $(cat "$b/$1/otherend_state") after 30 s"
	echo "$2: backend $(cat "$b/$1/otherend_state") after $(elapsed "$t0") s"
}
backend_ready() {
	case $(cat "$b/$1/otherend_state") in InitWait | Initialised | Connected) return 0 ;; esac
	return 1
}
gone() {
	t0=$(now)
	wait_for 60 sh -c "! test -e $b/$1" || fail "$2: $1 still on the bus after 60 s"
	echo "$2: $1 gone in $(elapsed "$t0") s"
}

# xvdc is virtual-device 202:32 = 51744.
dom0 block-attach xvdc
appear vbd-51744 block-attach
dom0 block-detach xvdc force
gone vbd-51744 block-detach

dom0 network-attach
appear vif-1 network-attach

frontends_load
if frontends | grep -q net; then
	dom0 network-detach 1
	gone vif-1 network-detach
else
	echo "vif-1 stays attached: no netfront to close it"
fi
bad=$(dmesg_bad | head -n 5)
[ -z "$bad" ] || { echo "$bad"; fail "kernel log has warnings/oopses"; }
exit 0
