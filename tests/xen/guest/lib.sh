# Helpers for scenario scripts; source with:  . /etc/xentb/lib.sh
# Scenarios run under busybox sh inside the guest. Exit 0 = pass.
# Keep output short: the guest's serial port is very slow.

# figure <key> <value>: a measurement collected into build/xen/report.json
figure() { echo "FIGURE $1=$2"; }

# fail <message>: end the scenario as failed
fail() {
	echo "FAIL: $*"
	exit 1
}

# pci_find <vendor> <device>: print the sysfs dir of the first match
pci_find() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = "$1" ] && [ "$(cat "$d/device")" = "$2" ] &&
			{ echo "$d"; return 0; }
	done
	return 1
}

# cpuid_leaf <leaf as decimal or 0x..>: print eax ebx ecx edx in hex
# (needs cpuid.ko, which the guest init loads).
cpuid_leaf() {
	dd if=/dev/cpu/0/cpuid bs=16 count=1 skip=$(($1)) iflag=skip_bytes 2>/dev/null |
		hexdump -v -e '4/4 "%08x " "\n"'
}

# le32_str <hex>: the 4 bytes of a little-endian register as text
le32_str() {
	printf "\\x${1:6:2}\\x${1:4:2}\\x${1:2:2}\\x${1:0:2}"
}

# xen_cpuid_base: print the Xen CPUID base leaf (decimal), as the kernel
# searches it: 0x40000000..0x4000ff00 in steps of 0x100.
xen_cpuid_base() {
	b=$((0x40000000))
	while [ "$b" -lt $((0x40010000)) ]; do
		set -- $(cpuid_leaf "$b")
		if [ "$(le32_str "$2")$(le32_str "$3")$(le32_str "$4")" = XenVMMXenVMM ]; then
			echo "$b"
			return 0
		fi
		b=$((b + 0x100))
	done
	return 1
}

# dmesg_bad: print kernel log lines that indicate a kernel bug
dmesg_bad() {
	dmesg | grep -E 'WARNING:|BUG:|Oops|Call Trace|general protection|kernel panic'
}

# elapsed <start>: seconds since <start> (a value of $(now))
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
