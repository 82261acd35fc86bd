# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree entry point (kbuild itself reads Kbuild). `make` builds the
# modules against the running kernel, or KDIR=<kernel tree or headers>.
#

KDIR ?= /lib/modules/$(shell uname -r)/build
XENPV_MODULES := CONFIG_XENPV=m CONFIG_XENPV_BLKFRONT=m CONFIG_XENPV_NETFRONT=m

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(XENPV_MODULES) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) $(XENPV_MODULES) modules_install

clean:
	$(MAKE) -C $(KDIR) M=$(CURDIR) clean

# Install what the builds, checks and testbed need (apt, idempotent).
deps:
	scripts/deps.sh

# Builds against every supported kernel, lint, KUnit: "N passed, N failed".
check:
	scripts/check.sh

kunit:
	scripts/kunit.sh

# The nested-Xen testbed: the demo report, and the integration scenarios.
demo:
	tests/xen/testbed demo

check-xen:
	tests/xen/testbed check

bench:
	tests/xen/testbed bench

# Link this tree into a kernel source tree as drivers/xenpv.
intree:
	scripts/link-intree.sh $(KSRC)

.PHONY: all modules modules_install clean deps check kunit demo check-xen \
	bench intree
