# The benchmark run, in both guests: every script of tests/xen/bench
# (copied to /etc/xentb/bench), in name order, each in its own shell.
# Their FIGURE lines are collected; the host prints ref and dut side by side
# with ratios. A script that fails is reported and the others still run.
. /etc/xentb/lib.sh

rc=0
for b in /etc/xentb/bench/*.sh; do
	[ -f "$b" ] || continue
	echo "bench: ${b##*/}"
	sh "$b" </dev/null || { echo "bench ${b##*/} failed"; rc=1; }
done
exit $rc
