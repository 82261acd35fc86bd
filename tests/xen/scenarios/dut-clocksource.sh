# guest: dut
# timeout: 120
# The xenpv clocksource is registered, can be selected, and time read
# through it keeps moving forward: many back-to-back reads never go
# backwards, and it agrees with the previous clocksource over a sleep.
. /etc/xentb/lib.sh

cs=/sys/devices/system/clocksource/clocksource0
grep -qw xenpv "$cs/available_clocksource" || fail "xenpv not in available_clocksource: $(cat "$cs/available_clocksource")"
old=$(cat "$cs/current_clocksource")
echo "available: $(cat "$cs/available_clocksource"), current: $old"

echo xenpv > "$cs/current_clocksource" || fail "cannot select xenpv"
[ "$(cat "$cs/current_clocksource")" = xenpv ] || fail "xenpv not current after selecting it"

# ktime_get() in ns, read through the current clocksource ("now at N nsecs").
# (busybox date has no %N; /proc/uptime has 10 ms resolution.)
mono_ns() { sed -n 's/^now at \([0-9]*\) nsecs.*/\1/p;/^now at/q' /proc/timer_list; }
[ -n "$(mono_ns)" ] || fail "cannot read ktime from /proc/timer_list"

prev=0 i=0 backwards=0
while [ $i -lt 300 ]; do
	t=$(mono_ns)
	[ "$t" -lt "$prev" ] && backwards=$((backwards + 1))
	prev=$t i=$((i + 1))
done
[ $backwards -eq 0 ] || fail "time went backwards $backwards times in 300 reads"

a=$(mono_ns); sleep 1; b=$(mono_ns)
ms=$(( (b - a) / 1000000 ))
echo "sleep 1 took $ms ms by the xenpv clock"
[ $ms -ge 950 ] && [ $ms -le 3000 ] || fail "sleep 1 measured $ms ms"
figure sleep1_ms "$ms"

echo "$old" > "$cs/current_clocksource"
exit 0
