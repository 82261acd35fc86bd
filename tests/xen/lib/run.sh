# shellcheck shell=bash
# Boot QEMU (L0) -> Xen -> dom0 -> guests, and follow the console: progress
# lines, stage timeouts, scenario results. Everything of interest reaches the
# host on one stream: Xen's com1, which carries dom0's console, which
# carries the guests' serial output prefixed "@<guest>|".

# XENPV_TB_VCPUS=2: dom0 and the guests get two vCPUs each, sharing the
# two CPUs (multi-queue backends, an SMP guest); default one each, dom0
# pinned to CPU 0 and the guests to CPU 1.
TB_VCPUS=${XENPV_TB_VCPUS:-1}
if [ "$TB_VCPUS" = 1 ]; then
	XEN_CMDLINE="dom0_mem=1024M,max:1024M dom0_max_vcpus=1 dom0_vcpus_pin"
else
	XEN_CMDLINE="dom0_mem=1024M,max:1024M dom0_max_vcpus=$TB_VCPUS"
fi
XEN_CMDLINE+=" console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all noreboot"
DOM0_CMDLINE="console=hvc0 earlyprintk=xen"

# Stage allowances in seconds (no progress for this long = hang).
T_XEN_BOOT=${XENPV_TB_T_BOOT:-240}  # QEMU start -> dom0 initramfs
T_DOM0=${XENPV_TB_T_DOM0:-180}      # dom0 initramfs -> Xen tools up
T_GUEST_BOOT=${XENPV_TB_T_GUEST:-300} # xl create -> guest PID 1
BENCH_ROUNDS=${XENPV_BENCH_ROUNDS:-3} # make bench: rounds per guest
# dom0 ends a guest whose serial output stays silent for GUEST_IDLE seconds
# (payload.sh); the host's own per-guest limits are that plus GRACE, a
# backstop in case dom0 itself is stuck.
GRACE=60
T_FINISH=${XENPV_TB_T_FINISH:-120}  # last guest gone -> dom0 done
T_TOTAL=${XENPV_TB_TIMEOUT:-3000}   # whole QEMU run

QEMU_PID=
TAIL_PID=

# Results (global): scenario name -> rc / duration / figures / note
declare -A S_RC=() S_DUR=() S_FIG=()
# Guest state
declare -A G_STAGE=() G_DEADLINE=() G_ACTIVE=() G_CREATED=() G_INIT=() G_CUR=()
declare -A G_NOTE=() G_MODS=() G_ENDED=() INFO=() DINFO=()
declare -A BENCH_DOM0_S=()
STAGES=()      # "name seconds" in order, for the timing table
BROKEN=""      # why the testbed itself failed, if it did
RETRIES=()

stage_done() { # <name>: record when a stage was reached
	STAGES+=("$1 $(now_s)")
}

kill_qemu() {
	if [ -n "$QEMU_PID" ] && kill -0 "$QEMU_PID" 2>/dev/null; then
		kill "$QEMU_PID" 2>/dev/null || true
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$QEMU_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -9 "$QEMU_PID" 2>/dev/null || true
		wait "$QEMU_PID" 2>/dev/null || true
	fi
	QEMU_PID=
	if [ -n "$TAIL_PID" ]; then
		kill "$TAIL_PID" 2>/dev/null || true
		TAIL_PID=
	fi
}

start_qemu() {
	local console=$LOG_DIR/console.log
	: >"$console"
	# snapshot=on: dom0 may write to its root, the cached image stays clean
	qemu-system-x86_64 \
		-accel tcg,thread=multi -smp 2 -m 3072 -machine q35 \
		-cpu qemu64,+svm,+npt \
		-display none -vga none -monitor none -nic none -no-reboot \
		-serial "file:$console" \
		-kernel "$XEN_BIN" -append "$XEN_CMDLINE" \
		-initrd "$VMLINUZ $DOM0_CMDLINE,$DOM0_INITRD" \
		-drive "file=$ROOTFS_IMG,if=virtio,format=raw,snapshot=on" \
		-drive "file=$PAYLOAD_IMG,if=virtio,format=raw" \
		-drive "file=$TOOLS_IMG,if=virtio,format=raw,readonly=on" \
		>"$LOG_DIR/qemu.log" 2>&1 &
	QEMU_PID=$!
	log "qemu pid $QEMU_PID"
	stage_done "qemu-start"
}

set_guest_stage() { # <guest> <stage text> <allowance>
	G_STAGE[$1]=$2
	G_DEADLINE[$1]=$(($(now_i) + $3))
}

# scenario_timeout <name>: the per-scenario limit from the item lists
scenario_timeout() {
	local item n f t
	for item in "${ITEMS_dut[@]}" "${ITEMS_ref[@]}" "${ITEMS_bare[@]}"; do
		read -r n f t <<<"$item"
		[ "$n" = "$1" ] && { echo "$t"; return; }
	done
	echo 120
}

# scenario_file <name>: the scenario's file from the item lists
scenario_file() {
	local item n f t
	for item in "${ITEMS_dut[@]}" "${ITEMS_ref[@]}" "${ITEMS_bare[@]}"; do
		read -r n f t <<<"$item"
		[ "$n" = "$1" ] && { echo "$f"; return; }
	done
}

# guest_ended_in_scenario <guest> <reason>: a scenario that ends its guest
# ("# ends-guest: <reason>") passes when the domain shut down for that
# reason and, with "# end-log: <text>", its output contains the text.
guest_ended_in_scenario() {
	local g=$1 why=$2 n f want text log
	n=${G_CUR[$g]:-}
	[ -n "$n" ] || return 0
	f=$(scenario_file "$n")
	want=$(scenario_header "$f" ends-guest "")
	[ -n "$want" ] || return 0
	text=$(sed -n 's/^# *end-log: *//p' "$f" | head -n 1)
	log=$LOG_DIR/scenarios/$n.log
	S_DUR[$n]=0
	if [ "$why" != "$want" ]; then
		S_RC[$n]=1
		echo "FAIL: the domain ended by $why, not $want" >>"$log"
	elif [ -n "$text" ] && ! grep -qF -- "$text" "$log"; then
		S_RC[$n]=1
		echo "FAIL: ended by $why, but no '$text' in the guest's output" >>"$log"
	else
		S_RC[$n]=0
		echo "ended by $why${text:+, with '$text'}" >>"$log"
	fi
	G_CUR[$g]=
	[ "$MODE" = check ] && progress "$g: $([ "${S_RC[$n]}" = 0 ] && echo PASS || echo FAIL) $n (domain ended: $why)"
}

# on_guest_line <guest> <line>: one line of a guest's serial output
on_guest_line() {
	local g=$1 l=$2 cur=${G_CUR[$1]:-} a b c d
	echo "$l" >>"$LOG_DIR/guest-$g.log"
	case "$l" in
	"@@G init"*)
		G_INIT[$g]=$(now_s)
		local bt
		bt=$(awk -v a="${G_CREATED[$g]}" -v b="${G_INIT[$g]}" 'BEGIN{printf "%.1f", b-a}')
		INFO[boot_$g]=$bt
		stage_done "$g-init"
		progress "$g: PID 1 running ($([ "$g" = bare ] && echo "QEMU start" || echo "xl create") -> init ${bt}s)"
		set_guest_stage "$g" "module loading / setup" $((GUEST_IDLE + GRACE))
		;;
	"@@G mod "*)
		read -r _ _ a b c <<<"$l"
		G_MODS[$g]+="$a $b${c:+ $c}"$'\n'
		if [ "$b" = ok ]; then
			progress "$g: insmod $a ok"
		else
			progress "$g: insmod $a FAILED: $c"
		fi
		;;
	"@@S begin "*)
		# A console message may share the marker's line: the name is
		# the first word, up to the first character names do not use.
		read -r _ _ a _ <<<"$l"
		a=${a%%[!A-Za-z0-9._-]*}
		G_CUR[$g]=$a
		: >"$LOG_DIR/scenarios/$a.log"
		set_guest_stage "$g" "scenario $a" $(($(scenario_timeout "$a") + GUEST_IDLE + GRACE))
		log "$g: scenario $a started"
		;;
	"@@S end "*)
		read -r _ _ a b c _ <<<"$l"
		a=${a%%[!A-Za-z0-9._-]*}
		b=${b%%[!0-9]*}
		c=${c%%[!0-9.]*}
		S_RC[$a]=$b
		S_DUR[$a]=$c
		G_CUR[$g]=
		if [ "$b" = 0 ]; then d=PASS; else d=FAIL; fi
		[ "$MODE" = check ] && progress "$g: $d $a (${c}s)"
		set_guest_stage "$g" "after scenario $a" $((GUEST_IDLE + GRACE))
		;;
	"@@G done"*)
		set_guest_stage "$g" "power off" $((GUEST_IDLE + GRACE))
		stage_done "$g-done"
		;;
	*)
		if [ -n "$cur" ]; then
			echo "$l" >>"$LOG_DIR/scenarios/$cur.log"
			case "$l" in
			"FIGURE "*=*)
				a=${l#FIGURE }
				S_FIG[$cur]+="$a"$'\n'
				;;
			"INFO "*=*)
				a=${l#INFO }
				DINFO[$g.${a%%=*}]=${a#*=}
				;;
			esac
			# The user's script: show its output as it comes.
			[ "$cur" = user-script ] && printf '%s\n' "$l"
		fi
		;;
	esac
	return 0
}

# on_dom0_marker <line after "@@TB ">
on_dom0_marker() {
	local a b
	read -r a b <<<"$1"
	case "$a" in
	stage)
		case "$b" in
		dom0-initramfs)
			stage_done "dom0-kernel"
			progress "dom0 kernel running (initramfs)"
			GSTAGE="dom0 boot"; GDEADLINE=$(($(now_i) + T_DOM0))
			;;
		dom0-up)
			stage_done "dom0-up"
			progress "dom0 up"
			;;
		xen-tools-up)
			stage_done "xen-tools-up"
			progress "dom0: xenstored, xenconsoled up; Xen ${INFO[xen_version]:-?}, virt_caps: ${INFO[virt_caps]:-?}"
			GSTAGE="guests"; GDEADLINE=0
			;;
		esac
		;;
	guest-created)
		read -r a _ <<<"$b"
		G_ACTIVE[$a]=1
		GSTAGE=guests
		GDEADLINE=0
		G_CREATED[$a]=$(now_s)
		stage_done "$a-created"
		progress "$a: domain created, booting (${CMDL[$a]})"
		set_guest_stage "$a" "boot (xl create -> PID 1)" $((T_GUEST_BOOT + GRACE))
		;;
	guest-retry)
		read -r a _ <<<"$b"
		RETRIES+=("$b")
		progress "$a: $b"
		log "RETRY: guest $b"
		;;
	guest-timeout)
		read -r a _ <<<"$b"
		G_NOTE[$a]="ended by dom0 (${b#* }) in stage '${G_STAGE[$a]:-?}'"
		progress "$a: TIMEOUT, ${G_NOTE[$a]}"
		unset "G_ACTIVE[$a]"
		G_ENDED[$a]=1
		;;
	guest-fail)
		read -r a _ <<<"$b"
		G_NOTE[$a]=$b
		progress "$a: FAILED: $b"
		unset "G_ACTIVE[$a]"
		G_ENDED[$a]=1
		;;
	guest-gone)
		read -r a c <<<"$b"
		progress "$a: domain gone (${c:-?})"
		stage_done "$a-gone"
		unset "G_ACTIVE[$a]"
		G_ENDED[$a]=1
		guest_ended_in_scenario "$a" "${c:-unknown}"
		;;
	bench-turn)
		read -r a c d <<<"$b"
		BENCH_DOM0_S[$a]=$((${BENCH_DOM0_S[$a]:-0} + d))
		log "bench: $a finished step $c (${d}s by dom0's clock)"
		[ $((c % 10)) != 0 ] || progress "bench: $a at step $c"
		;;
	bench-released)
		log "dom0: bench guests released: $b"
		;;
	dom0-request)
		log "dom0: request $b"
		read -r a c <<<"$b"
		[ -n "${G_CUR[$a]:-}" ] && echo "dom0: $c" >>"$LOG_DIR/scenarios/${G_CUR[$a]}.log"
		;;
	fatal)
		BROKEN="dom0: $b"
		progress "BROKEN: $b"
		;;
	done)
		stage_done "dom0-done"
		DOM0_DONE=1
		;;
	esac
	# Between guests (they run one after another) and after the last one,
	# dom0 itself must make progress.
	if [ "$a" != stage ] && [ ${#G_ACTIVE[@]} -eq 0 ] && [ "$GSTAGE" = guests ]; then
		if [ ${#G_ENDED[@]} -lt ${#GUESTS[@]} ]; then
			GSTAGE="dom0 starting the next guest"
		else
			GSTAGE="dom0 collecting logs"
		fi
		GDEADLINE=$(($(now_i) + T_FINISH))
	fi
	return 0
}

# on_console_line <line>
on_console_line() {
	local l=$1 g
	case "$l" in
	@dut\|* | @ref\|*)
		g=${l%%|*}
		g=${g#@}
		on_guest_line "$g" "${l#*|}"
		;;
	"@@TB "*) on_dom0_marker "${l#@@TB }" ;;
	"@@INFO "*)
		l=${l#@@INFO }
		g=${l%%:*}
		g=${g%%[[:space:]]*}
		l=${l#*: }
		INFO[$g]=$l
		;;
	*"(XEN) Xen version"*)
		stage_done "xen-start"
		progress "Xen starting: ${l#*(XEN) }"
		;;
	*"(XEN) Panic on CPU"* | *"Kernel panic - not syncing"*)
		BROKEN="panic on the console: $l"
		progress "BROKEN: $l"
		;;
	esac
	return 0
}

# check_deadlines: end the run if a stage hangs
check_deadlines() {
	local now g
	now=$(now_i)
	if [ "$now" -gt "$T_TOTAL" ]; then
		BROKEN="timeout: whole run exceeded ${T_TOTAL}s (stage '$GSTAGE')"
		return
	fi
	if [ "$GDEADLINE" -gt 0 ] && [ "$now" -gt "$GDEADLINE" ]; then
		BROKEN="timeout: stage '$GSTAGE' hung"
		return
	fi
	for g in "${!G_ACTIVE[@]}"; do
		if [ "$now" -gt "${G_DEADLINE[$g]}" ]; then
			G_NOTE[$g]="hung in stage '${G_STAGE[$g]}'"
			progress "$g: TIMEOUT: ${G_NOTE[$g]}"
			unset "G_ACTIVE[$g]"
			BROKEN="timeout: guest $g hung in stage '${G_STAGE[$g]}' and dom0 did not end it"
		fi
	done
}

# run_boot: start QEMU and follow the console until dom0 is done, a stage
# hangs or QEMU dies.
run_boot() {
	local fd tsfd line part="" rc us
	GSTAGE="Xen and dom0 kernel boot"
	GDEADLINE=$(($(now_i) + T_XEN_BOOT))
	DOM0_DONE=
	mkdir -p "$LOG_DIR/scenarios"
	start_qemu
	progress "qemu started (TCG, 2 vCPUs, 3 GiB); waiting for Xen"
	exec {fd}< <(exec tail -n +1 -F "$LOG_DIR/console.log" 2>/dev/null)
	TAIL_PID=$!
	# The same lines with arrival times (seconds since start), for finding
	# where time goes; bash arithmetic only, no forks per line.
	exec {tsfd}>"$LOG_DIR/console-timed.log"
	while [ -z "$DOM0_DONE" ] && [ -z "$BROKEN" ]; do
		if IFS= read -r -t 1 -u "$fd" line; then
			line="$part$line"
			part=""
			us=$((${EPOCHREALTIME/[.,]/} - T0_US))
			printf '%5d.%d %s\n' $((us / 1000000)) $((us / 100000 % 10)) "${line//$'\r'/}" >&"$tsfd"
			on_console_line "${line//$'\r'/}"
			continue
		else
			rc=$?
			# timed out: keep a partial line for the next read
			[ "$rc" -gt 128 ] && part+=$line
		fi
		if ! kill -0 "$QEMU_PID" 2>/dev/null; then
			BROKEN="qemu exited unexpectedly (see build/xen/logs/qemu.log)"
			progress "BROKEN: $BROKEN"
			break
		fi
		check_deadlines
	done
	# Drain what is left (a final marker may be in flight).
	while IFS= read -r -t 0.5 -u "$fd" line; do
		on_console_line "${line//$'\r'/}"
	done
	exec {fd}<&- {tsfd}>&-
	[ -n "$BROKEN" ] && [ -z "$DOM0_DONE" ] && progress "stopping: $BROKEN"
	kill_qemu
	stage_done "qemu-stopped"
	progress "qemu stopped"
}

# collect_payload: copy dom0's output (logs) out of the payload image
collect_payload() {
	rm -rf "$LOG_DIR/dom0"
	mkdir -p "$LOG_DIR/dom0"
	debugfs -R "rdump /out $LOG_DIR/dom0" "$PAYLOAD_IMG" >/dev/null 2>&1 || true
	if [ -d "$LOG_DIR/dom0/out" ]; then
		mv "$LOG_DIR/dom0/out"/* "$LOG_DIR/dom0/" 2>/dev/null || true
		rmdir "$LOG_DIR/dom0/out" 2>/dev/null || true
	fi
}

# run_bare: the "bare" guest, the same kernel and init in plain QEMU with
# no Xen underneath (scenarios with "# guest: bare"), before the Xen boot.
# Its serial output goes through on_guest_line like the Xen guests'.
run_bare() {
	local initrd=$OUT_DIR/bare-initrd serial=$LOG_DIR/bare.serial fd line t_end pid
	[ ${#ITEMS_bare[@]} -gt 0 ] || return 0
	mkdir -p "$LOG_DIR/scenarios"
	make_guest_initrd bare "$initrd"
	: >"$serial"
	G_CREATED[bare]=$(now_s)
	progress "bare: plain QEMU guest (no Xen) booting"
	qemu-system-x86_64 -accel tcg -m 512 -cpu qemu64 -display none -vga none \
		-monitor none -nic none -no-reboot -serial "file:$serial" \
		-kernel "$VMLINUZ" -initrd "$initrd" \
		-append "console=ttyS0 quiet pci=noearly panic=-1" >"$LOG_DIR/qemu-bare.log" 2>&1 &
	pid=$!
	t_end=$(($(now_i) + T_GUEST_BOOT + ${#ITEMS_bare[@]} * 120))
	exec {fd}< <(exec tail -n +1 -F "$serial" 2>/dev/null)
	while kill -0 "$pid" 2>/dev/null; do
		if IFS= read -r -t 1 -u "$fd" line; then
			on_guest_line bare "${line//$'\r'/}"
		elif [ "$(now_i)" -gt "$t_end" ]; then
			G_NOTE[bare]="killed after $((T_GUEST_BOOT + ${#ITEMS_bare[@]} * 120))s in stage '${G_STAGE[bare]:-boot}'"
			progress "bare: TIMEOUT, ${G_NOTE[bare]}"
			kill -9 "$pid" 2>/dev/null
			break
		fi
	done
	wait "$pid" 2>/dev/null || true
	while IFS= read -r -t 0.5 -u "$fd" line; do
		on_guest_line bare "${line//$'\r'/}"
	done
	exec {fd}<&-
	progress "bare: done"
}
