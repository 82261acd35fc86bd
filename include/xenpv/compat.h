/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv: every difference between the kernel APIs xenpv supports lives
 * here (Debian 12's 6.1 and 6.12, and the newest kernel Debian has), so
 * that the drivers read like code for one kernel.
 */
#ifndef _XENPV_COMPAT_H
#define _XENPV_COMPAT_H

#include <linux/device.h>
#include <linux/export.h>
#include <linux/module.h>

/*
 * Symbol namespaces: 6.13 turned the namespace argument into a string
 * literal (EXPORT_SYMBOL_NS_GPL(sym, "NS"), MODULE_IMPORT_NS("NS")).
 * Kbuild defines XENPV_NS_IS_STRING from the kernel's version.
 */
#ifdef XENPV_NS_IS_STRING
#define XENPV_EXPORT(sym)	EXPORT_SYMBOL_NS_GPL(sym, "XENPV")
#define XENPV_IMPORT_NS()	MODULE_IMPORT_NS("XENPV")
#else
#define XENPV_EXPORT(sym)	EXPORT_SYMBOL_NS_GPL(sym, XENPV)
#define XENPV_IMPORT_NS()	MODULE_IMPORT_NS(XENPV)
#endif

/* Driver core: 6.3 made bus_type.uevent's device const, 6.11 match's driver. */
#ifdef XENPV_UEVENT_CONST_DEV
#define xenpv_uevent_const	const
#else
#define xenpv_uevent_const
#endif

#ifdef XENPV_MATCH_CONST_DRV
#define xenpv_match_const	const
#else
#define xenpv_match_const
#endif

/*
 * A bus_type as the driver core takes it: const from 6.4 on, writable
 * before (6.1's bus_register() stores its private data in it). The type
 * of struct device's bus pointer says which.
 */
#define xenpv_bus_type_t	typeof(*((struct device *)NULL)->bus)

#endif /* _XENPV_COMPAT_H */
