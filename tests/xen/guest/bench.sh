# The benchmark run, in both guests: every script of tests/xen/bench
# (copied to /etc/xentb/bench), in name order, each in its own shell, once
# per round. Their FIGURE lines are collected; the host prints ref and dut
# side by side, the median of the rounds, with ratios. A script that fails
# is reported and the others still run.
#
# The guests take turns (dom0/run.sh, bench_step): after "@@B done <r>"
# (round 0: booted and ready) a guest waits a few seconds, and dom0 pauses
# it there until its next turn, so no round shares the CPU with the other
# guest. The guest cannot tell it was paused; only its clock jumped.
. /etc/xentb/lib.sh

rounds=$(cat /etc/xentb/bench/rounds 2>/dev/null || echo 1)
cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource)
echo "INFO clocksource=$cs"
rc=0
r=0
while :; do
	echo "@@B done $r"
	sleep 4		# dom0 pauses us here (it polls every second)
	[ "$r" -lt "$rounds" ] || break
	r=$((r + 1))
	t0=$(now)
	for b in /etc/xentb/bench/*.sh; do
		[ -f "$b" ] || continue
		echo "bench: round $r ${b##*/}"
		sh "$b" </dev/null || { echo "bench ${b##*/} failed"; rc=1; }
	done
	figure round_s "$(elapsed "$t0")"
done
exit $rc
