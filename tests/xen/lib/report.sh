# shellcheck shell=bash
# Results: the PASS/FAIL lines, build/xen/report.json, the demo report.

# item_names: every selected item as "name guest"
item_names() {
	local item n f t
	for item in "${ITEMS_dut[@]}"; do read -r n f t <<<"$item"; echo "$n dut"; done
	for item in "${ITEMS_ref[@]}"; do read -r n f t <<<"$item"; echo "$n ref"; done
	for item in "${ITEMS_bare[@]}"; do read -r n f t <<<"$item"; echo "$n bare"; done
}

# why_missing <guest>: why a scenario of this guest has no result
why_missing() {
	local g=$1
	if [ -n "${G_NOTE[$g]:-}" ]; then
		echo "guest $g: ${G_NOTE[$g]}"
	elif [ -n "$BROKEN" ]; then
		echo "testbed: $BROKEN"
	elif [ -z "${G_CREATED[$g]:-}" ]; then
		echo "guest $g was never created"
	elif [ -z "${G_INIT[$g]:-}" ]; then
		echo "guest $g died before PID 1 (see build/xen/logs/console.log)"
	else
		echo "guest $g stopped in stage '${G_STAGE[$g]:-?}'"
	fi
}

# evaluate: fills RESULT[name] (pass/fail), REASON[name]; NPASS/NFAIL
evaluate() {
	local n g rc msg
	declare -gA RESULT=() REASON=()
	NPASS=0
	NFAIL=0
	while read -r n g; do
		rc=${S_RC[$n]:-}
		if [ -z "$rc" ]; then
			RESULT[$n]=fail
			REASON[$n]="no result: $(why_missing "$g")"
		elif [ "$rc" = 0 ]; then
			RESULT[$n]=pass
		elif [ "$rc" = 137 ]; then
			RESULT[$n]=fail
			REASON[$n]="killed after its $(scenario_timeout "$n")s timeout"
		else
			RESULT[$n]=fail
			msg=$(grep -m1 "^FAIL:" "$LOG_DIR/scenarios/$n.log" 2>/dev/null | cut -c1-160 || true)
			REASON[$n]="exit status $rc${msg:+; $msg}"
		fi
		if [ "${RESULT[$n]}" = pass ]; then
			NPASS=$((NPASS + 1))
		else
			NFAIL=$((NFAIL + 1))
		fi
	done < <(item_names)
}

print_check_summary() {
	local n g
	echo
	if [ "$MODULE_BUILD" != ok ]; then
		echo "NOTE module build: $MODULE_BUILD"
	fi
	for r in "${RETRIES[@]}"; do echo "NOTE retried: $r"; done
	[ -n "$BROKEN" ] && echo "BROKEN $BROKEN"
	while read -r n g; do
		if [ "${RESULT[$n]}" = pass ]; then
			echo "PASS $n (${S_DUR[$n]}s)"
		else
			echo "FAIL $n [$g] ${REASON[$n]}${S_DUR[$n]:+ (${S_DUR[$n]}s)}"
			[ -s "$LOG_DIR/scenarios/$n.log" ] && echo "     log: build/xen/logs/scenarios/$n.log"
		fi
	done < <(item_names)
	echo "$NPASS passed, $NFAIL failed"
}

# figures_json <name>: {"k": v, ...}
figures_json() {
	local sep="" kv
	printf '{'
	while IFS= read -r kv; do
		[ -n "$kv" ] || continue
		printf '%s%s: %s' "$sep" "$(json_str "${kv%%=*}")" "$(json_val "${kv%%=*}" "${kv#*=}")"
		sep=", "
	done <<<"${S_FIG[$1]:-}"
	printf '}'
}

write_report_json() {
	local f=$OUT_DIR/report.json n g sep="" s k
	{
		printf '{\n'
		printf '  "mode": %s,\n' "$(json_str "$MODE")"
		printf '  "result": %s,\n' "$(json_str "$OVERALL")"
		printf '  "broken": %s,\n' "$(json_str "$BROKEN")"
		printf '  "kernel": %s,\n' "$(json_str "$KREL ${KERNEL_VERSION:-}")"
		printf '  "xen_package": %s,\n' "$(json_str "${XEN_VERSION:-}")"
		printf '  "xen_version": %s,\n' "$(json_str "${INFO[xen_version]:-}")"
		printf '  "virt_caps": %s,\n' "$(json_str "${INFO[virt_caps]:-}")"
		printf '  "module_build": %s,\n' "$(json_str "$MODULE_BUILD")"
		printf '  "modules": ['
		sep=""
		for k in "${XENPV_KOS[@]}"; do printf '%s%s' "$sep" "$(json_str "${k##*/}")"; sep=", "; done
		printf '],\n'
		printf '  "retries": ['
		sep=""
		for k in "${RETRIES[@]}"; do printf '%s%s' "$sep" "$(json_str "$k")"; sep=", "; done
		printf '],\n'
		printf '  "guest_boot_seconds": {'
		sep=""
		for g in dut ref; do
			[ -n "${INFO[boot_$g]:-}" ] || continue
			printf '%s"%s": %s' "$sep" "$g" "${INFO[boot_$g]}"
			sep=", "
		done
		printf '},\n'
		printf '  "stages": ['
		sep=""
		for s in "${STAGES[@]}"; do
			printf '%s\n    {"stage": %s, "at_seconds": %s}' "$sep" "$(json_str "${s% *}")" "${s##* }"
			sep=","
		done
		printf '\n  ],\n'
		printf '  "total_seconds": %s,\n' "$(now_s)"
		printf '  "scenarios": ['
		sep=""
		while read -r n g; do
			printf '%s\n    {"name": %s, "guest": %s, "result": %s, ' "$sep" \
				"$(json_str "$n")" "$(json_str "$g")" "$(json_str "${RESULT[$n]}")"
			printf '"duration_seconds": %s, ' "${S_DUR[$n]:-null}"
			printf '"exit_status": %s, ' "${S_RC[$n]:-null}"
			printf '"reason": %s, ' "$(json_str "${REASON[$n]:-}")"
			printf '"log": %s, ' "$(json_str "build/xen/logs/scenarios/$n.log")"
			printf '"figures": %s}' "$(figures_json "$n")"
			sep=","
		done < <(item_names)
		printf '\n  ],\n'
		printf '  "passed": %s,\n  "failed": %s\n' "$NPASS" "$NFAIL"
		printf '}\n'
	} >"$f.tmp"
	mv "$f.tmp" "$f"
}

# stage_at <name>: when a stage was reached ("-" if never)
stage_at() {
	local s
	for s in "${STAGES[@]}"; do
		[ "${s% *}" = "$1" ] && { echo "${s##* }"; return; }
	done
	echo -
}

# span <from> <to>: seconds between two stages
span() {
	local a b
	a=$(stage_at "$1")
	b=$(stage_at "$2")
	if [ "$a" = - ] || [ "$b" = - ]; then echo "-"; return; fi
	awk -v a="$a" -v b="$b" 'BEGIN{printf "%.1fs", b-a}'
}

d() { echo "${DINFO[$1]:-${2:-?}}"; }

print_demo_report() {
	local bar=================================================================
	echo
	echo "$bar"
	echo " xenpv testbed demo                       $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "$bar"
	echo "Host: QEMU TCG (no KVM), $(nproc) host CPUs; L1: Xen, PV dom0, 2 HVM guests"
	echo
	echo "Xen"
	echo "  version         ${INFO[xen_version]:-?} (Debian package ${XEN_VERSION:-?})"
	echo "  capabilities    ${INFO[xen_caps]:-?}"
	echo "  virt_caps       ${INFO[virt_caps]:-?}"
	echo "  scheduler       ${INFO[xen_scheduler]:-?}, ${INFO[nr_cpus]:-?} pCPUs, ${INFO[total_memory]:-?} MiB"
	echo "  guest kernel    Debian $KREL ($KERNEL_VERSION), same ABI as the headers xenpv builds against"
	echo
	echo "dut guest (xen_nopv: the kernel's own Xen support off; xenpv modules)"
	echo "  Xen seen by guest  CPUID signature: $(d dut.cpuid_signature) at $(d dut.cpuid_base), version $(d dut.cpuid_xen_version)"
	echo "  platform PCI dev   $(d dut.platform_pci 'not found')"
	echo "  kernel's Xen init  $(d dut.kernel_xen_hvm)"
	if [ "$MODULE_BUILD" = ok ]; then
		echo "  xenpv modules      built: ${XENPV_KOS[*]##*/}"
	else
		echo "  xenpv modules      NOT AVAILABLE: $MODULE_BUILD"
	fi
	echo "  loaded             $(d dut.modules_loaded none)"
	echo "  xenpv sysfs        $(d dut.xenpv_sysfs none)"
	echo "  xenpv bound to     $(d dut.xenpv_driver 'nothing')"
	echo "  xenpv dmesg        $(d dut.xenpv_dmesg '(no lines)')"
	echo "  disk (xvda)        $(d dut.disk 'not there yet (no xenpv block frontend)')"
	echo "  network (eth0)     $(d dut.net 'not there yet (no xenpv net frontend)')"
	echo "  kernel warnings    $(d dut.dmesg_bad '?')"
	echo
	echo "ref guest (mainline xen-blkfront / xen-netfront: the reference)"
	echo "  disk               $(d ref.disk_name) $(d ref.disk_size), features: $(d ref.disk_features)"
	echo "  disk throughput    write $(d ref.disk_write_mbs) MB/s, read $(d ref.disk_read_mbs) MB/s ($(d ref.disk_test_mb) MiB, O_DIRECT)"
	echo "  disk data check    $(d ref.disk_md5)"
	echo "  network            $(d ref.net_if) MAC $(d ref.net_mac), link $(d ref.net_link), MTU $(d ref.net_mtu), $(d ref.net_features)"
	echo "  ping dom0          $(d ref.ping)"
	echo "  net throughput     $(d ref.net_rx_mbs) MB/s dom0 -> guest (HTTP, $(d ref.net_rx_mb) MiB)"
	echo
	echo "Timing (seconds since start)"
	printf '  %-34s %s\n' "cache + module build" "$(stage_at qemu-start)s"
	printf '  %-34s %s\n' "QEMU start -> Xen banner" "$(span qemu-start xen-start)"
	printf '  %-34s %s\n' "Xen banner -> dom0 initramfs" "$(span xen-start dom0-kernel)"
	printf '  %-34s %s\n' "dom0 initramfs -> xen tools up" "$(span dom0-kernel xen-tools-up)"
	for g in dut ref; do
		printf '  %-34s %s\n' "$g: xl create -> PID 1" "$(span "$g-created" "$g-init")"
		printf '  %-34s %s\n' "$g: PID 1 -> done" "$(span "$g-init" "$g-done")"
	done
	printf '  %-34s %s\n' "whole run" "$(now_s)s"
	[ ${#RETRIES[@]} -gt 0 ] && echo "  retries: ${RETRIES[*]}"
	[ -n "$BROKEN" ] && echo "BROKEN: $BROKEN"
	echo "Logs: build/xen/logs/   Report: build/xen/report.json"
	echo "$bar"
}

# fig <item> <key>: one figure of one item ("-" if not measured)
fig() {
	local kv
	while IFS= read -r kv; do
		[ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return; }
	done <<<"${S_FIG[$1]:-}"
	echo -
}

# figs <item> <key>: every value of one figure (one per round), on one line
figs() {
	local kv v=""
	while IFS= read -r kv; do
		[ "${kv%%=*}" = "$2" ] && v+="${kv#*=} "
	done <<<"${S_FIG[$1]:-}"
	echo "$v"
}

# bench_stats <metric> <ref values> <dut values>: one line
# "<ref median> <dut median> <median round ratio> <lowest round ratio>
# <highest round ratio> <ratio of medians> <pairs xenpv won>/<pairs>".
# A ratio is xenpv's speed relative to mainline's, > 1 when xenpv is
# faster: dut/ref, or ref/dut for times and costs (_ms, _us, _per_io).
# Round i of one guest is paired with round i of the other; "-" where
# nothing is numeric.
bench_stats() {
	awk -v k="$1" -v rs="$2" -v ds="$3" '
	function med(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function num(x) { return x ~ /^[0-9]+(\.[0-9]+)?$/ }
	function ratio(r, d) {
		if (!num(r) || !num(d) || r + 0 == 0 || d + 0 == 0) return ""
		return k ~ /_(ms|us|per_io)$/ ? r / d : d / r
	}
	function fmt(x) { return x == int(x) && x >= 100 ? sprintf("%d", x) : sprintf("%.3g", x) }
	BEGIN {
		nr = split(rs, r, " "); nd = split(ds, d, " ")
		for (i = 1; i <= nr; i++) if (num(r[i])) rv[++a] = r[i] + 0
		for (i = 1; i <= nd; i++) if (num(d[i])) dv[++b] = d[i] + 0
		rm = a ? med(rv, a) : "-"; dm = b ? med(dv, b) : "-"
		if (!a) rm = nr ? r[1] : "-"
		if (!b) dm = nd ? d[1] : "-"
		qm = ratio(rm, dm)
		lo = hi = ""
		np = 0
		won = 0
		for (i = 1; i <= nr && i <= nd; i++) {
			x = ratio(r[i], d[i])
			if (x == "") continue
			pr[++np] = x
			if (x > 1) won++
			if (lo == "" || x < lo) lo = x
			if (hi == "" || x > hi) hi = x
		}
		# The ratio: the median of the paired rounds ratios (each pair is
		# taken seconds apart, so the drift of the host cancels in it); the
		# ratio of the medians mixes rounds minutes apart.
		q = np ? med(pr, np) : qm
		printf "%s %s %s %s %s %s %s\n", (a ? fmt(rm) : rm), (b ? fmt(dm) : dm),
			(q == "" ? "-" : sprintf("%.2f", q)),
			(lo == "" ? "-" : sprintf("%.2f", lo)), (hi == "" ? "-" : sprintf("%.2f", hi)),
			(qm == "" ? "-" : sprintf("%.2f", qm)), (np ? won "/" np : "-")
	}'
}

# json_list <values>: a JSON array of strings
json_list() {
	local v out="" sep=""
	for v in $1; do
		out+="$sep\"$v\""
		sep=", "
	done
	echo "[$out]"
}

# print_bench_report: the table (medians of the rounds), and
# build/xen/bench.json (every round's figure too)
print_bench_report() {
	local k keys rv dv r d q lo hi qm won g json=$OUT_DIR/bench.json sep=""
	keys=$(printf '%s' "${S_FIG[bench-ref]:-}${S_FIG[bench-dut]:-}" | cut -d= -f1 | awk 'NF && $0 != "round_s" && $0 != "bench_steps" && !s[$0]++')
	echo
	echo "Benchmark: same dom0 backends, ref = mainline frontends, dut = xenpv;"
	echo "median of $BENCH_ROUNDS rounds; the guests take turns job by job (the other one paused);"
	echo "ratio: the median of the rounds' paired ratios"
	printf '  %-30s %10s %10s %7s  %-11s %s\n' metric mainline xenpv ratio "round ratios" "xenpv faster"
	printf '{\n  "ratio": "median of the rounds xenpv speed / mainline speed (times: mainline / xenpv), each pair taken seconds apart; > 1 = xenpv faster",\n' >"$json"
	printf '  "rounds": %s,\n  "metrics": {' "$BENCH_ROUNDS" >>"$json"
	for k in $keys; do
		rv=$(figs bench-ref "$k")
		dv=$(figs bench-dut "$k")
		read -r r d q lo hi qm won <<<"$(bench_stats "$k" "$rv" "$dv")"
		printf '  %-30s %10s %10s %7s  %-11s %s\n' "$k" "$r" "$d" "$q" "$lo-$hi" "$won"
		printf '%s\n    "%s": {"mainline": "%s", "xenpv": "%s", "ratio": "%s", "ratio_of_medians": "%s", "round_ratio_min": "%s", "round_ratio_max": "%s", "pairs_xenpv_faster": "%s", "mainline_rounds": %s, "xenpv_rounds": %s}' \
			"$sep" "$k" "$r" "$d" "$q" "$qm" "$lo" "$hi" "$won" "$(json_list "$rv")" "$(json_list "$dv")" >>"$json"
		sep=,
	done
	printf '\n  }\n}\n' >>"$json"
	[ -n "$keys" ] || echo "  (no figures: see build/xen/logs/)"
	echo "  (ratio > 1: xenpv faster; times and costs (_ms, _us, _per_io) compare the other way."
	echo "   Nested TCG: compare the columns, not with real hardware.)"
	# The guests measure their own rates: their clocks must agree with dom0's.
	# dom0 times a step from unpause (or the previous step's end) to the
	# "@@B done" it sees, so its sum has most of the guest's 3 s sleeps
	# between steps in it as well.
	local steps active
	for g in ref dut; do
		steps=$(figs "bench-$g" bench_steps)
		steps=${steps%% *}
		active=$(echo $(figs "bench-$g" round_s) | awk '{for (i = 1; i <= NF; i++) s += $i; printf "%.0f", s}')
		echo "  $g: clocksource $(d "$g.clocksource"); ${steps:-0} steps: ${active}s by its clock, ${BENCH_DOM0_S[$g]:-0}s by dom0's (with the sleeps between steps)"
	done
	[ -n "$BROKEN" ] && echo "BROKEN: $BROKEN"
	echo "Logs: build/xen/logs/   Report: build/xen/report.json, build/xen/bench.json"
}
