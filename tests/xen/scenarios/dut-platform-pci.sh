# guest: dut
# timeout: 60
# The dut sees Xen the way xenpv will: the Xen platform PCI device 5853:0001
# and Xen's CPUID leaves, while the kernel itself (xen_nopv) left Xen alone.
. /etc/xentb/lib.sh

grep -qw xen_nopv /proc/cmdline || fail "xen_nopv is not on the kernel command line"

d=$(pci_find 0x5853 0x0001) || fail "no PCI device 5853:0001 in /sys/bus/pci/devices"
echo "platform device ${d##*/}: class $(cat "$d/class") irq $(cat "$d/irq")"
# BAR0 is I/O, BAR1 memory (flags bit 0x100 = IORESOURCE_IO, 0x200 = MEM)
head -n 2 "$d/resource" | sed 's/^/  bar: /'
figure platform_pci_slot "${d##*/}"

grep -qw hypervisor /proc/cpuinfo || fail "CPUID hypervisor bit is not set"
[ -e /dev/cpu/0/cpuid ] || fail "/dev/cpu/0/cpuid missing (cpuid.ko not loaded)"
base=$(xen_cpuid_base) || fail "no XenVMMXenVMM signature at CPUID 0x40000000-0x4000ff00"
set -- $(cpuid_leaf "$base")
echo "CPUID $(printf 0x%x "$base"): XenVMMXenVMM, max leaf 0x$1"
set -- $(cpuid_leaf $((base + 1)))
ver=$((0x$1 >> 16)).$((0x$1 & 0xffff))
echo "Xen version from CPUID: $ver"
figure cpuid_base "$(printf 0x%x "$base")"
figure xen_version "$ver"

# With xen_nopv the kernel still names the hypervisor ("Hypervisor
# detected: Xen HVM") but does not become a Xen guest: xen_domain() stays
# false, so /sys/hypervisor/type (set up only for Xen domains) is absent.
if [ "$(cat /sys/hypervisor/type 2>/dev/null)" = xen ]; then
	fail "the kernel set itself up as a Xen guest; xen_nopv not in effect"
fi
echo "kernel Xen support off: no /sys/hypervisor/type"
exit 0
