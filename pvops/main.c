// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv.ko: Xen PV support for HVM guests as a module.
 *
 * Load order: refuse if the kernel's own Xen support runs (its drivers own
 * the platform device and the event channels); install the real hypervisor
 * ops; find Xen by CPUID and check that hypercalls work; unplug emulated
 * devices if asked; then bind the platform PCI device, whose probe brings
 * up the layers.
 */

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/printk.h>
#include <xenpv/compat.h>

#include "pvops.h"

#ifdef CONFIG_XEN
#include <xen/xen.h>
#endif

static char *unplug = "";
module_param(unplug, charp, 0444);
MODULE_PARM_DESC(unplug,
		 "Emulated devices to unplug at load: comma-separated ide-disks, nics, aux-ide-disks, nvme, all (default: none)");

static struct xenpv_xen_info xenpv_info;

/**
 * xenpv_detected() - what detection found at module load
 *
 * Context: any, after module init.
 * Return: the detection result; valid for the module's lifetime.
 */
const struct xenpv_xen_info *xenpv_detected(void)
{
	return &xenpv_info;
}

/* Does the running kernel drive Xen itself (HVM or PV guest support)? */
static bool xenpv_kernel_xen_active(void)
{
#ifdef CONFIG_XEN
	return xen_domain();
#else
	return false;
#endif
}

static int __init xenpv_init(void)
{
	int rc;

	if (xenpv_kernel_xen_active()) {
		pr_err("xenpv: not loading: the kernel's own Xen support is active (boot with xen_nopv to use xenpv)\n");
		return -EBUSY;
	}

	xenpv_hv_set_ops(xenpv_x86_ops());
	if (xenpv_detect_cpuid(&xenpv_info)) {
		pr_err("xenpv: not loading: not running on Xen (no Xen CPUID leaves)\n");
		rc = -ENODEV;
		goto err_ops;
	}
	rc = xenpv_detect_version(&xenpv_info);
	if (rc) {
		pr_err("xenpv: not loading: Xen found at CPUID 0x%x but %s hypercalls fail (%d)\n",
		       xenpv_info.cpuid_base, xenpv_hv->name, rc);
		goto err_ops;
	}
	pr_info("xenpv: Xen %u.%u%s at CPUID 0x%x, hypercalls by %s, features 0x%08x\n",
		xenpv_info.major, xenpv_info.minor, xenpv_info.extraversion,
		xenpv_info.cpuid_base, xenpv_hv->name, xenpv_info.features);

	rc = xenpv_unplug(unplug);
	if (rc == -EINVAL)
		goto err_ops;

	rc = pci_register_driver(&xenpv_platform_driver);
	if (rc)
		goto err_ops;
	return 0;

err_ops:
	xenpv_debugfs_exit();
	xenpv_hv_set_ops(NULL);
	return rc;
}

static void __exit xenpv_exit(void)
{
	pci_unregister_driver(&xenpv_platform_driver);
	xenpv_debugfs_exit();
	xenpv_hv_set_ops(NULL);
}

module_init(xenpv_init);
module_exit(xenpv_exit);

MODULE_DESCRIPTION("Xen PV support for HVM guests: hypercalls, events, grants, xenbus");
MODULE_LICENSE("GPL");
