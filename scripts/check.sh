#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: the first test tier.
#  1. build every module against each supported kernel with W=1 and sparse
#     (C=2) and a full modpost; any warning fails, naming the kernel;
#  2. checkpatch --strict on every C file and header (6.12's, pinned);
#  3. the KUnit suites under UML (scripts/kunit.sh).
# Ends with "N passed, N failed" counting KUnit cases; exits non-zero if
# any stage failed.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

failed_stages=()
stage_fail() { failed_stages+=("$1"); log "FAILED: $1"; }

# The kernels: Debian 12's 6.1 and 6.12 headers, and the newest kernel
# Debian has, prepared by scripts/newest-kernel.sh.
declare -A kernels
kernels[6.1]=$(kdir_of 6.1)
kernels[6.12]=$(kdir_of 6.12)
if [ -x "$XENPV_ROOT/scripts/newest-kernel.sh" ]; then
	if newest=$("$XENPV_ROOT/scripts/newest-kernel.sh"); then
		kernels[newest]=$newest
	else
		stage_fail "preparing the newest kernel (scripts/newest-kernel.sh)"
	fi
fi

for k in 6.1 6.12 newest; do
	kdir=${kernels[$k]:-}
	[ -n "$kdir" ] || { [ "$k" = newest ] || stage_fail "build $k: no headers (make deps)"; continue; }
	name=$(basename "$kdir")
	out=$XENPV_CACHE/build/$(xenpv_tree_key)/$name
	logf=$out.log
	mkdir -p "$XENPV_CACHE/build/$(xenpv_tree_key)"
	log "build: $k ($name) W=1 C=2"
	if ! "$XENPV_ROOT/scripts/build-for.sh" "$kdir" "$out" W=1 C=2 \
		> "$logf.ko" 2> "$logf"; then
		grep -E 'error|Error' "$logf" | head -20 >&2
		stage_fail "build $k ($name)"
		continue
	fi
	# sparse exits 0 when it warns: the log is the verdict.
	if grep -E 'warning:|error:|WARNING:' "$logf" |
		grep -v 'Skipping BTF generation' > "$logf.warn"; then
		cat "$logf.warn" >&2
		stage_fail "build $k ($name): warnings"
		continue
	fi
	log "build: $k ok: $(wc -l < "$logf.ko") modules"
done

# Options (--strict, --no-tree, ...) come from .checkpatch.conf, which
# checkpatch reads from the working directory.
log "checkpatch --strict"
checkpatch=$(ksrc_of 6.12)/scripts/checkpatch.pl
cp_out=$(cd "$XENPV_ROOT" &&
	git ls-files --cached --others --exclude-standard -- '*.c' '*.h' |
	while read -r f; do
		perl "$checkpatch" --quiet -f "$f"
	done)
if [ -n "$cp_out" ]; then
	printf '%s\n' "$cp_out" >&2
	stage_fail checkpatch
fi

log "KUnit under UML"
"$XENPV_ROOT/scripts/kunit.sh" || stage_fail kunit

counts=$XENPV_CACHE/kunit-${XENPV_KUNIT_KERNEL:-6.12}-$(xenpv_tree_key).json.counts
read -r passed failed < "$counts" 2>/dev/null || { passed=0; failed=1; }
if [ ${#failed_stages[@]} -gt 0 ]; then
	log "failed stages: ${failed_stages[*]}"
fi
echo "$passed passed, $failed failed"
[ ${#failed_stages[@]} -eq 0 ] && [ "$failed" -eq 0 ]
