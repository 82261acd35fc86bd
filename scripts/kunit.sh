#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Run xenpv's KUnit suites under UML with kunit.py, the tree linked in as
# drivers/xenpv of Debian's 6.12 source. The build directory stays in the
# cache, so a rerun only rebuilds what changed.
#
# Prints kunit.py's output, then one line "N passed, N failed" counted from
# the JSON report (errors and crashes count as failed). Exit 0 only if
# every case passed and at least one ran.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

series=${XENPV_KUNIT_KERNEL:-6.12}
mkdir -p "$XENPV_CACHE"
# One UML build at a time: the source tree and build dir are shared.
exec 9>"$XENPV_CACHE/kunit-$series.lock"
flock 9
src=$(ksrc_of "$series")
build=$XENPV_CACHE/kunit-$series-$(xenpv_tree_key)
json=$build.json
# A new checkout starts from another checkout's UML build, less xenpv's
# objects, so only xenpv itself is built again.
if [ ! -d "$build" ]; then
	seed=$(ls -dt "$XENPV_CACHE/kunit-$series" "$XENPV_CACHE/kunit-$series"-???????? \
		2>/dev/null | head -n 1 || true)
	if [ -n "$seed" ]; then
		cp -a "$seed" "$build.tmp"
		# The seed's xenpv objects came from the other checkout's
		# sources and may be newer than ours: build ours from scratch.
		rm -rf "$build.tmp/drivers/xenpv"
		mv "$build.tmp" "$build"
	fi
fi

"$XENPV_ROOT/scripts/link-intree.sh" "$src"

mkdir -p "$build"
rm -f "$json"
set +e
(cd "$src" && python3 tools/testing/kunit/kunit.py run \
	--kunitconfig="$XENPV_ROOT" --build_dir="$build" \
	--jobs="$(nproc)" --timeout=300 --json="$json") 2>&1 |
	grep -v -e 'missing .note.GNU-stack' -e 'LOAD segment with RWX' \
		-e "stty: 'standard input'"
rc=${PIPESTATUS[0]}
set -e

[ -s "$json" ] || { echo "0 passed, 1 failed"; die "kunit.py wrote no report (exit $rc)"; }
python3 - "$json" <<'PY'
import json, sys
counts = {"PASS": 0, "FAIL": 0, "SKIP": 0, "ERROR": 0}
def walk(g):
    for c in g.get("test_cases", []):
        counts[c.get("status", "ERROR")] = counts.get(c.get("status", "ERROR"), 0) + 1
    for s in g.get("sub_groups", []):
        walk(s)
walk(json.load(open(sys.argv[1])))
failed = counts["FAIL"] + counts["ERROR"]
print(f"kunit: {counts['PASS']} passed, {failed} failed, {counts['SKIP']} skipped")
open(sys.argv[1] + ".counts", "w").write(f"{counts['PASS']} {failed}\n")
PY
read -r passed failed < "$json.counts"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
