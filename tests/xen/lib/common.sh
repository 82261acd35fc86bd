# shellcheck shell=bash
# Shared helpers for tests/xen/testbed: paths, progress output, logging.

XT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
REPO_ROOT=$(cd "$XT_DIR/../.." && pwd)
OUT_DIR=$REPO_ROOT/build/xen
LOG_DIR=$OUT_DIR/logs
CACHE_DIR=${XENPV_CACHE:-$HOME/.cache/xenpv}/xen
T0=${EPOCHREALTIME/,/.}
T0_US=${EPOCHREALTIME/[.,]/}

# now_s: seconds (float) since the testbed started
now_s() {
	local t=${EPOCHREALTIME/,/.}
	awk -v a="$T0" -v b="$t" 'BEGIN{printf "%.1f", b-a}'
}

# Faster integer variant for loops: whole seconds since start.
now_i() {
	local t=${EPOCHREALTIME%[.,]*} s=${T0%[.,]*}
	echo $((t - s))
}

# progress <text>: "[ 12s] text" on stdout and in the testbed log
progress() {
	local line
	line=$(printf '[%3ds] %s' "$(now_i)" "$*")
	echo "$line"
	[ -d "$LOG_DIR" ] && echo "$line" >>"$LOG_DIR/testbed.log"
	return 0
}

# log <text>: only into the testbed log
log() {
	[ -d "$LOG_DIR" ] && printf '[%6ss] %s\n' "$(now_s)" "$*" >>"$LOG_DIR/testbed.log"
	return 0
}

die() {
	progress "ERROR: $*"
	exit 2
}

# json_str <text>: a JSON string literal
json_str() {
	local s=$1
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\t'/\\t}
	s=${s//$'\r'/}
	s=${s//$'\n'/\\n}
	# other control characters are dropped
	s=$(printf '%s' "$s" | tr -d '\000-\010\013\014\016-\037')
	printf '"%s"' "$s"
}

# json_val <key> <text>: a number as is, anything else (and versions,
# where 4.10 is not 4.1) as a string
json_val() {
	if [[ $1 != *version* && $2 =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then
		printf '%s' "$2"
	else
		json_str "$2"
	fi
}

# safe_name <text>: text usable in a file name (versions contain : and +)
safe_name() {
	printf '%s' "$1" | tr -c 'A-Za-z0-9._+-' '_'
}
