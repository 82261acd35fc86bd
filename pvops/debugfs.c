// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: the /sys/kernel/debug/xenpv directory, shared by every layer and
 * frontend module. xenpv.ko owns it: created on first use, removed with
 * everything under it when xenpv.ko unloads (frontends, which depend on
 * xenpv.ko, are gone by then).
 */

#include <linux/debugfs.h>
#include <linux/mutex.h>
#include <xenpv/compat.h>
#include <xenpv/hypervisor.h>

/* Protects xenpv_debugfs: set once, cleared at module exit. */
static DEFINE_MUTEX(xenpv_debugfs_lock);
static struct dentry *xenpv_debugfs;

/**
 * xenpv_debugfs_dir() - the xenpv debugfs directory
 *
 * Creates /sys/kernel/debug/xenpv on first use. Files created in it must
 * be removed by their creator before it unloads.
 *
 * Context: process context; takes a mutex.
 * Return: the directory, or an ERR_PTR when debugfs is unavailable (the
 * debugfs functions accept it and do nothing).
 */
struct dentry *xenpv_debugfs_dir(void)
{
	struct dentry *dir;

	mutex_lock(&xenpv_debugfs_lock);
	if (IS_ERR_OR_NULL(xenpv_debugfs))
		xenpv_debugfs = debugfs_create_dir("xenpv", NULL);
	dir = xenpv_debugfs;
	mutex_unlock(&xenpv_debugfs_lock);
	return dir;
}

XENPV_EXPORT(xenpv_debugfs_dir);

/**
 * xenpv_debugfs_exit() - remove the xenpv debugfs directory
 *
 * Context: process context, at xenpv.ko's exit; takes a mutex.
 */
void xenpv_debugfs_exit(void)
{
	mutex_lock(&xenpv_debugfs_lock);
	debugfs_remove_recursive(xenpv_debugfs);
	xenpv_debugfs = NULL;
	mutex_unlock(&xenpv_debugfs_lock);
}
