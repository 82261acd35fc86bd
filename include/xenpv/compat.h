/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv: every difference between the kernel APIs xenpv supports lives
 * here (Debian 12's 6.1 and 6.12, and the newest kernel Debian has), so
 * that the drivers read like code for one kernel.
 */
#ifndef _XENPV_COMPAT_H
#define _XENPV_COMPAT_H

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

#endif /* _XENPV_COMPAT_H */
