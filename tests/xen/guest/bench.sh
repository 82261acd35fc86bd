# The benchmark run, in both guests: every script of tests/xen/bench
# (copied to /etc/xentb/bench), in name order, each in its own shell, once
# per round. Their FIGURE lines are collected; the host prints ref and dut
# side by side, the median of the rounds, with ratios. A script that fails
# is reported and the others still run.
#
# The guests take turns step by step (lib.sh bench_turn, dom0/run.sh
# bench_step): a script ends each measured job with bench_turn, and dom0
# pauses the guest there until the other guest has run the same job, in
# the order dut ref, ref dut, dut ref, ... so neither always goes first
# and no job shares the CPU. The guest cannot tell it was paused; only its
# clock jumped, so round_s sums the guest's own steps.
. /etc/xentb/lib.sh

rounds=$(cat /etc/xentb/bench/rounds 2>/dev/null || echo 1)
cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
echo "INFO clocksource=$cs"
active() { cat /tmp/bench.active 2>/dev/null || echo 0; }
rm -f /tmp/bench.steps /tmp/bench.active /tmp/bench.t0
bench_turn	# booted and ready
rc=0
r=0
while [ "$r" -lt "$rounds" ]; do
	r=$((r + 1))
	a0=$(active)
	for b in /etc/xentb/bench/*.sh; do
		[ -f "$b" ] || continue
		echo "bench: round $r ${b##*/}"
		sh "$b" </dev/null || { echo "bench ${b##*/} failed"; rc=1; }
	done
	figure round_s "$(awk -v a="$a0" -v b="$(active)" 'BEGIN{printf "%.2f", b - a}')"
done
figure bench_steps "$(cat /tmp/bench.steps)"
exit $rc
