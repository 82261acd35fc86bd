#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# link-intree.sh KSRC: make xenpv part of a kernel source tree as
# drivers/xenpv, with one `source` line in drivers/Kconfig and one `obj-y`
# line in drivers/Makefile. Idempotent. Then enable CONFIG_XENPV (and the
# frontends) in the kernel's configuration and build as usual.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -eq 1 ] || die "usage: link-intree.sh KSRC"
src=$1
[ -f "$src/drivers/Kconfig" ] || die "$src: not a kernel source tree"

ln -sfn "$XENPV_ROOT" "$src/drivers/xenpv"
grep -q 'drivers/xenpv/Kconfig' "$src/drivers/Kconfig" ||
	sed -i '$i source "drivers/xenpv/Kconfig"' "$src/drivers/Kconfig"
grep -q '^obj-y += xenpv/' "$src/drivers/Makefile" ||
	echo 'obj-y += xenpv/' >> "$src/drivers/Makefile"
log "linked $XENPV_ROOT as $src/drivers/xenpv"
