#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# build-for.sh KDIR OUTDIR [make args...]
#
# Copy the source tree to OUTDIR and build every xenpv module there against
# the kernel tree or headers in KDIR, so that builds for several kernels
# never share objects (kbuild's M= builds write next to the sources).
# Extra arguments go to kbuild (e.g. W=1 C=2). On success prints the
# absolute path of each .ko, one a line; the build log goes to stderr.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || die "usage: build-for.sh KDIR OUTDIR [make args...]"
kdir=$1 out=$2
shift 2
[ -f "$kdir/Makefile" ] || die "$kdir: not a kernel tree or headers"

mkdir -p "$out"
rsync -a --delete --exclude=.git --exclude=/build/ \
	--include='*/' --include='Kbuild' --include='Kconfig' \
	--include='*.c' --include='*.h' --exclude='*' \
	"$XENPV_ROOT/" "$out/"
out=$(cd "$out" && pwd)
make -C "$kdir" M="$out" CONFIG_XENPV=m CONFIG_XENPV_BLKFRONT=m \
	CONFIG_XENPV_NETFRONT=m "$@" modules >&2
find "$out" -name '*.ko' | sort
