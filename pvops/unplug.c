// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: the emulated-device unplug protocol (Xen's
 * docs/misc/hvm-emulated-unplug.pandoc).
 *
 * Asking the device model to unplug emulated disks or NICs makes their
 * PV counterparts the only path to the same backing storage or network,
 * and avoids two drivers writing one disk. Unplugging a disk that holds
 * the root filesystem after boot pulls it away under the running system,
 * so xenpv unplugs nothing unless the user names it (xenpv.unplug=).
 */

#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/printk.h>
#include <linux/string.h>

#include "pvops.h"

#define XENPV_UNPLUG_PORT_MAGIC		0x10	/* u16 magic; u32 build; u16 mask */
#define XENPV_UNPLUG_PORT_VERSION	0x12	/* u8 version; u16 product */
#define XENPV_UNPLUG_MAGIC		0x49d2
#define XENPV_UNPLUG_BLACKLISTED	0xd249
/* Product number from Xen's public/hvm/pvdrivers.h: "linux". */
#define XENPV_UNPLUG_PRODUCT		3
#define XENPV_UNPLUG_BUILD		1

static const struct {
	const char *name;
	u16 mask;
} xenpv_unplug_targets[] = {
	{ "ide-disks", BIT(0) },	/* all IDE and SCSI disks, not CD */
	{ "nics", BIT(1) },
	{ "aux-ide-disks", BIT(2) },
	{ "nvme", BIT(3) },
	{ "all", BIT(0) | BIT(1) | BIT(3) },
};

static int xenpv_unplug_parse(const char *what, u16 *mask)
{
	char buf[64], *s = buf, *tok;
	unsigned int i;

	*mask = 0;
	if (strscpy(buf, what, sizeof(buf)) < 0)
		return -EINVAL;
	while ((tok = strsep(&s, ",")) != NULL) {
		if (!*tok || !strcmp(tok, "none"))
			continue;
		for (i = 0; i < ARRAY_SIZE(xenpv_unplug_targets); i++)
			if (!strcmp(tok, xenpv_unplug_targets[i].name))
				break;
		if (i == ARRAY_SIZE(xenpv_unplug_targets))
			return -EINVAL;
		*mask |= xenpv_unplug_targets[i].mask;
	}
	return 0;
}

/**
 * xenpv_unplug() - ask the device model to unplug emulated devices
 * @what: comma-separated names: ide-disks, nics, aux-ide-disks, nvme,
 *	all, or none/empty for nothing
 *
 * Context: process context, before the PV frontends bind.
 * Return: 0 (also when there was nothing to do), -EINVAL for an unknown
 * name, -ENODEV if the device model does not speak the protocol, -EPERM
 * if it blacklisted these drivers.
 */
int xenpv_unplug(const char *what)
{
	u16 mask;
	int rc;

	rc = xenpv_unplug_parse(what, &mask);
	if (rc) {
		pr_err("xenpv: unplug=%s: unknown device class\n", what);
		return rc;
	}
	if (!mask)
		return 0;

	if (inw(XENPV_UNPLUG_PORT_MAGIC) != XENPV_UNPLUG_MAGIC) {
		pr_warn("xenpv: the device model offers no unplug protocol\n");
		return -ENODEV;
	}
	if (inb(XENPV_UNPLUG_PORT_VERSION) > 0) {
		outw(XENPV_UNPLUG_PRODUCT, XENPV_UNPLUG_PORT_VERSION);
		outl(XENPV_UNPLUG_BUILD, XENPV_UNPLUG_PORT_MAGIC);
		if (inw(XENPV_UNPLUG_PORT_MAGIC) == XENPV_UNPLUG_BLACKLISTED) {
			pr_err("xenpv: the device model blacklisted these drivers; nothing unplugged\n");
			return -EPERM;
		}
	}
	outw(mask, XENPV_UNPLUG_PORT_MAGIC);
	pr_info("xenpv: asked the device model to unplug: %s (mask 0x%x)\n",
		what, mask);
	return 0;
}
