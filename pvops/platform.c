// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: the Xen platform PCI device (5853:0001).
 *
 * The device is the anchor of everything xenpv does in an HVM guest:
 * BAR 1 is guest-physical space that no RAM uses, where xenpv asks Xen to
 * place shared_info and the grant table frames; its INTx line is the
 * fallback route of the event channel upcall (upcall.c).
 *
 * Unbinding undoes it in reverse. shared_info stays in the BAR: Xen may go
 * on writing it, which is harmless there, and the next bind maps it again.
 */

#include <linux/interrupt.h>
#include <linux/pci.h>
#include <linux/sysfs.h>
#include <linux/timekeeping.h>
#include <xen/interface/features.h>
#include <xen/interface/hvm/params.h>
#include <xen/interface/memory.h>
#include <xenpv/events.h>
#include <xenpv/grant.h>
#include <xenpv/xenbus.h>
#include <xenpv/xenstore.h>

#include "pvops.h"

#define PCI_VENDOR_ID_XEN		0x5853
#define PCI_DEVICE_ID_XEN_PLATFORM	0x0001
#define XENPV_PLATFORM_BAR		1
/*
 * BAR frames set aside for grant table frames: 256 frames hold 131072 v1
 * entries, past Xen's default limit (gnttab_max_frames = 64).
 */
#define XENPV_GRANT_BAR_FRAMES		256

/* The one bound device; probe and remove are serialised by the PCI core. */
static struct xenpv_platform xenpv_plat;

/**
 * xenpv_platform_alloc_gpfn() - reserve guest frames in the platform BAR
 * @plat: the platform device
 * @nr: how many consecutive frames
 *
 * Frames are handed out once per bind and never returned: the BAR is 16
 * MiB on Xen 4.17 and xenpv needs shared_info, the FIFO event frames and
 * the grant frames. Every bind asks in the same order, so each gets the
 * same frames on every load (the FIFO pages stay there across loads).
 *
 * Context: process context, under the device's probe.
 * Return: the first frame, or 0 when the BAR is full.
 */
static unsigned long xenpv_platform_alloc_gpfn(struct xenpv_platform *plat,
					       unsigned int nr)
{
	unsigned long gpfn = plat->next_gpfn;

	if (nr > plat->end_gpfn - gpfn)
		return 0;
	plat->next_gpfn += nr;
	return gpfn;
}

static int xenpv_platform_map_shared_info(struct xenpv_platform *plat)
{
	struct xen_add_to_physmap xatp = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_shared_info,
		.idx = 0,
	};
	int rc;

	xatp.gpfn = xenpv_platform_alloc_gpfn(plat, 1);
	if (!xatp.gpfn)
		return -ENOSPC;
	rc = xenpv_memory_op(XENMEM_add_to_physmap, &xatp);
	if (rc) {
		dev_err(&plat->pdev->dev, "XENMEM_add_to_physmap(shared_info): %d\n",
			rc);
		return -EIO;
	}
	plat->shared_info = xenpv_hv->map_gpfn(xatp.gpfn, 1);
	if (!plat->shared_info)
		return -ENOMEM;
	plat->shared_info_gpfn = xatp.gpfn;
	return 0;
}

/* sysfs: /sys/bus/pci/devices/<bdf>/xen/ */
#define XENPV_ATTR(_name, _fmt, ...)					\
static ssize_t _name##_show(struct device *dev,				\
			    struct device_attribute *attr, char *buf)	\
{									\
	const struct xenpv_platform *p __maybe_unused = &xenpv_plat;	\
									\
	return sysfs_emit(buf, _fmt "\n", __VA_ARGS__);			\
}									\
static DEVICE_ATTR_RO(_name)

XENPV_ATTR(version, "%u.%u%s", p->info.major, p->info.minor,
	   p->info.extraversion);
XENPV_ATTR(features, "0x%08x", p->info.features);
XENPV_ATTR(cpuid_base, "0x%08x", p->info.cpuid_base);
XENPV_ATTR(hvm_features, "0x%08x", p->info.hvm_features);
XENPV_ATTR(hypercall, "%s", xenpv_hv->name);
XENPV_ATTR(shared_info_gfn, "0x%lx", p->shared_info_gpfn);
XENPV_ATTR(callback_via, "0x%llx", p->callback_via);
XENPV_ATTR(bar_frames_used, "%lu",
	   p->next_gpfn - PHYS_PFN(p->mmio_start));
XENPV_ATTR(event_abi, "%s", xenpv_events_abi_name());
XENPV_ATTR(upcalls, "%lu", p->upcalls);
XENPV_ATTR(upcall, "%s %u", p->upcall_vector ? "vector" : "intx",
	   p->upcall_vector ? p->upcall_vector : p->upcall_irq);

static ssize_t grant_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct xenpv_grant_stats st;

	xenpv_grant_get_stats(&st);
	return sysfs_emit(buf, "frames %u/%u in_use %u deferred %u leaked %u exhausted %lu\n",
			  st.frames, st.max_frames, st.refs_in_use,
			  st.refs_deferred, st.refs_leaked, st.exhausted);
}
static DEVICE_ATTR_RO(grant);

static struct attribute *xenpv_platform_attrs[] = {
	&dev_attr_version.attr,
	&dev_attr_features.attr,
	&dev_attr_cpuid_base.attr,
	&dev_attr_hvm_features.attr,
	&dev_attr_hypercall.attr,
	&dev_attr_shared_info_gfn.attr,
	&dev_attr_callback_via.attr,
	&dev_attr_bar_frames_used.attr,
	&dev_attr_event_abi.attr,
	&dev_attr_upcalls.attr,
	&dev_attr_upcall.attr,
	&dev_attr_grant.attr,
	NULL
};

static const struct attribute_group xenpv_platform_group = {
	.name = "xen",
	.attrs = xenpv_platform_attrs,
};

static const struct attribute_group *xenpv_platform_groups[] = {
	&xenpv_platform_group,
	NULL
};

static bool xenpv_tsc_stable(void)
{
	return boot_cpu_has(X86_FEATURE_CONSTANT_TSC) &&
	       boot_cpu_has(X86_FEATURE_NONSTOP_TSC) && !check_tsc_unstable();
}

static int xenpv_platform_probe(struct pci_dev *pdev,
				const struct pci_device_id *id)
{
	struct xenpv_platform *plat = &xenpv_plat;
	unsigned long gpfn;
	int rc;

	if (plat->pdev) {
		dev_err(&pdev->dev, "a second Xen platform device; ignored\n");
		return -EBUSY;
	}

	rc = pci_enable_device(pdev);
	if (rc)
		return rc;
	rc = pci_request_region(pdev, XENPV_PLATFORM_BAR, "xenpv");
	if (rc)
		goto err_disable;

	plat->pdev = pdev;
	plat->info = *xenpv_detected();
	plat->mmio_start = pci_resource_start(pdev, XENPV_PLATFORM_BAR);
	plat->mmio_len = pci_resource_len(pdev, XENPV_PLATFORM_BAR);
	plat->next_gpfn = PHYS_PFN(plat->mmio_start);
	plat->end_gpfn = PHYS_PFN(plat->mmio_start + plat->mmio_len);
	if (!plat->mmio_start || plat->next_gpfn >= plat->end_gpfn) {
		dev_err(&pdev->dev, "BAR %d is empty\n", XENPV_PLATFORM_BAR);
		rc = -ENODEV;
		goto err_release;
	}

	rc = xenpv_platform_map_shared_info(plat);
	if (rc)
		goto err_release;

	/* Before the grant frames: the same frames on every load. */
	gpfn = xenpv_platform_alloc_gpfn(plat, XENPV_EVENTS_FIFO_FRAMES);
	if (!gpfn) {
		rc = -ENOSPC;
		goto err_unmap;
	}
	rc = xenpv_events_init(plat->shared_info, gpfn);
	if (rc)
		goto err_unmap;
	rc = xenpv_upcall_setup(plat);
	if (rc)
		goto err_events;
	/* Nothing else can work if events do not: prove delivery first. */
	rc = xenpv_events_selftest();
	if (rc) {
		dev_err(&pdev->dev, "event channel self-test failed: %d\n", rc);
		goto err_callback;
	}

	gpfn = xenpv_platform_alloc_gpfn(plat, XENPV_GRANT_BAR_FRAMES);
	if (!gpfn) {
		rc = -ENOSPC;
		goto err_callback;
	}
	rc = xenpv_grant_init(gpfn, XENPV_GRANT_BAR_FRAMES);
	if (rc)
		goto err_callback;
	rc = xenpv_xs_init();
	if (rc)
		goto err_grant;
	rc = xenpv_xenbus_init();
	if (rc)
		goto err_xs;

	rc = xenpv_clock_init(plat->shared_info, xenpv_tsc_stable());
	if (rc)
		goto err_xenbus;

	rc = xenpv_power_init();
	if (rc)
		goto err_clock;

	dev_info(&pdev->dev, "Xen %u.%u%s: shared_info at gfn 0x%lx, %s events on irq %u (%s)\n",
		 plat->info.major, plat->info.minor, plat->info.extraversion,
		 plat->shared_info_gpfn, xenpv_events_abi_name(),
		 plat->upcall_irq, plat->upcall_vector ? "vector" : "INTx");
	return 0;

err_clock:
	xenpv_clock_exit();
err_xenbus:
	xenpv_xenbus_exit();
err_xs:
	xenpv_xs_exit();
err_grant:
	xenpv_grant_exit();
err_callback:
	xenpv_upcall_teardown(plat);
err_events:
	xenpv_events_exit();
err_unmap:
	xenpv_hv->unmap(plat->shared_info);
err_release:
	pci_release_region(pdev, XENPV_PLATFORM_BAR);
err_disable:
	pci_disable_device(pdev);
	memset(plat, 0, sizeof(*plat));
	return rc;
}

static void xenpv_platform_remove(struct pci_dev *pdev)
{
	struct xenpv_platform *plat = &xenpv_plat;

	xenpv_power_exit();
	xenpv_clock_exit();
	xenpv_xenbus_exit();
	xenpv_xs_exit();
	xenpv_grant_exit();
	xenpv_upcall_teardown(plat);
	xenpv_events_exit();
	xenpv_hv->unmap(plat->shared_info);
	pci_release_region(pdev, XENPV_PLATFORM_BAR);
	pci_disable_device(pdev);
	memset(plat, 0, sizeof(*plat));
}

static const struct pci_device_id xenpv_platform_ids[] = {
	{ PCI_DEVICE(PCI_VENDOR_ID_XEN, PCI_DEVICE_ID_XEN_PLATFORM) },
	{ }
};
MODULE_DEVICE_TABLE(pci, xenpv_platform_ids);

struct pci_driver xenpv_platform_driver = {
	.name = "xenpv-platform",
	.id_table = xenpv_platform_ids,
	.probe = xenpv_platform_probe,
	.remove = xenpv_platform_remove,
	.dev_groups = xenpv_platform_groups,
};
