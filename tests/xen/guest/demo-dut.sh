# Demo, dut side: what the xen_nopv guest sees and what xenpv made of it.
# Prints "INFO key=value" lines that the host turns into the report.
. /etc/xentb/lib.sh

info() { echo "INFO $1=$2"; }

if base=$(xen_cpuid_base); then
	set -- $(cpuid_leaf $((base + 1)))
	info cpuid_signature XenVMMXenVMM
	info cpuid_base "$(printf 0x%x "$base")"
	info cpuid_xen_version "$((0x$1 >> 16)).$((0x$1 & 0xffff))"
else
	info cpuid_signature "not found"
fi

if d=$(pci_find 0x5853 0x0001); then
	bars=$(head -n 2 "$d/resource" | while read -r a b _; do printf '0x%x-0x%x ' "$a" "$b"; done)
	info platform_pci "${d##*/} (5853:0001) irq $(cat "$d/irq"), BARs $bars"
fi

if [ "$(cat /sys/hypervisor/type 2>/dev/null)" = xen ]; then
	info kernel_xen_hvm "kernel set itself up as a Xen guest (xen_nopv ignored?)"
else
	info kernel_xen_hvm "off (xen_nopv): no /sys/hypervisor/type, mainline Xen drivers inactive"
fi

mods=""
for ko in $(cat /lib/xenpv/order 2>/dev/null); do
	n=$(basename "$ko" .ko | tr - _)
	grep -q "^$n " /proc/modules && mods="$mods $n"
done
mods=${mods# }
info modules_loaded "${mods:-none}"
if [ -d /sys/module/xenpv ]; then
	info xenpv_sysfs "/sys/module/xenpv: $(ls /sys/module/xenpv | tr '\n' ' ')"
fi
for drv in /sys/bus/pci/drivers/xenpv*; do
	[ -d "$drv" ] || continue
	devs=$(ls "$drv" | grep ':' | tr '\n' ' ')
	info xenpv_driver "driver $(basename "$drv"): ${devs:-no device bound}"
done
lines=$(dmesg | grep -i 'xenpv' | grep -v 'taints kernel' | tail -n 4 |
	sed 's/^\[[^]]*\] //' | tr '\n' '|' | sed 's/|$//; s/|/ | /g')
[ -n "$lines" ] && info xenpv_dmesg "$lines"

if [ -b /dev/xvda ]; then
	info disk "xvda $(($(cat /sys/block/xvda/size) / 2048)) MiB"
fi
if [ -e /sys/class/net/eth0 ]; then
	st=$(cat /sys/class/net/eth0/operstate)
	p=$(ping -c 2 -W 3 10.99.0.1 2>&1 | grep 'packets received')
	info net "eth0 $(cat /sys/class/net/eth0/address) $st; ping: ${p:-failed}"
fi

bad=$(dmesg_bad | wc -l)
if [ "$bad" = 0 ]; then info dmesg_bad none; else info dmesg_bad "$bad suspicious line(s)"; fi
exit 0
