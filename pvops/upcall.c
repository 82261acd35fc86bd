// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: how the event channel upcall reaches the guest.
 *
 * Xen raises the upcall while vCPU 0 has events pending
 * (evtchn_upcall_pending), through the route HVM_PARAM_CALLBACK_IRQ names:
 *
 * - vector (the default, where Xen offers XENFEAT_hvm_callback_vector):
 *   Xen injects an interrupt vector directly, as mainline's HVM guests
 *   have it. The vector is one the kernel's x86 vector domain hands us,
 *   on CPU 0, where every event channel is bound. Xen injects it outside
 *   the local APIC (nothing to EOI) again on every guest entry while the
 *   upcall is pending, so the flow handler is handle_simple_irq().
 * - intx: the platform PCI device's INTx line, level-triggered through
 *   the emulated IO-APIC: an EOI, and a line that may be shared, on every
 *   upcall. Kept as the fallback and as xenpv.upcall=intx.
 *
 * The vector route never leaves the APIC's in-service bit set, so the IRQ
 * must not be retriggered by software (a resend would be a real APIC
 * interrupt nobody EOIs): it is never disabled, and only CPU 0 takes it.
 */

#include <linux/cpumask.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <asm/hw_irq.h>
#include <asm/irqdomain.h>
#include <xen/interface/features.h>
#include <xen/interface/hvm/params.h>
#include <xenpv/events.h>

#include "pvops.h"

static char *upcall = "vector";
module_param(upcall, charp, 0444);
MODULE_PARM_DESC(upcall,
		 "How Xen raises the event upcall: vector (default; INTx where Xen has no vector callback) or intx");

/* INTx: the line may be shared, so an interrupt without an upcall is not ours. */
static irqreturn_t xenpv_upcall_intx(int irq, void *dev_id)
{
	struct xenpv_platform *plat = dev_id;

	if (!READ_ONCE(plat->shared_info->vcpu_info[0].evtchn_upcall_pending))
		return IRQ_NONE;
	plat->upcalls++;
	xenpv_events_upcall();
	return IRQ_HANDLED;
}

static irqreturn_t xenpv_upcall_vector(int irq, void *dev_id)
{
	struct xenpv_platform *plat = dev_id;

	plat->upcalls++;
	xenpv_events_upcall();
	return IRQ_HANDLED;
}

static int xenpv_upcall_set_via(struct xenpv_platform *plat, u64 via)
{
	int rc = xenpv_hvm_set_param(HVM_PARAM_CALLBACK_IRQ, via);

	if (rc) {
		dev_err(&plat->pdev->dev, "HVM_PARAM_CALLBACK_IRQ 0x%llx: %d\n",
			via, rc);
		return -EIO;
	}
	plat->callback_via = via;
	return 0;
}

static int xenpv_upcall_setup_intx(struct xenpv_platform *plat)
{
	struct pci_dev *pdev = plat->pdev;
	u8 pin = 0;
	u64 via;
	int rc;

	pci_read_config_byte(pdev, PCI_INTERRUPT_PIN, &pin);
	if (!pin || pin > 4 || !pdev->irq) {
		dev_err(&pdev->dev, "no INTx line for the upcall\n");
		return -ENODEV;
	}
	rc = request_irq(pdev->irq, xenpv_upcall_intx,
			 IRQF_SHARED | IRQF_NOBALANCING, "xenpv-platform", plat);
	if (rc)
		return rc;
	via = ((u64)HVM_PARAM_CALLBACK_TYPE_PCI_INTX << 56) |
	      ((u64)(pci_domain_nr(pdev->bus) & 0xffff) << 32) |
	      ((u64)pdev->bus->number << 16) | ((u64)pdev->devfn << 8) |
	      (pin - 1);
	rc = xenpv_upcall_set_via(plat, via);
	if (rc) {
		free_irq(pdev->irq, plat);
		return rc;
	}
	plat->upcall_irq = pdev->irq;
	plat->upcall_vector = 0;
	return 0;
}

static int xenpv_upcall_setup_vector(struct xenpv_platform *plat)
{
	struct irq_alloc_info info = { .mask = cpumask_of(0) };
	struct irq_cfg *cfg;
	int irq, rc;

	if (!(plat->info.features & BIT(XENFEAT_hvm_callback_vector)) ||
	    !x86_vector_domain)
		return -EOPNOTSUPP;
	irq = irq_domain_alloc_irqs(x86_vector_domain, 1, NUMA_NO_NODE, &info);
	if (irq < 0)
		return irq;
	irq_set_handler(irq, handle_simple_irq);
	rc = request_irq(irq, xenpv_upcall_vector, IRQF_NOBALANCING,
			 "xenpv-upcall", plat);
	if (rc)
		goto err_dispose;
	cfg = irqd_cfg(irq_get_irq_data(irq));
	if (!cfg || !cfg->vector) {
		rc = -ENODEV;
		goto err_free_irq;
	}
	rc = xenpv_upcall_set_via(plat, ((u64)HVM_PARAM_CALLBACK_TYPE_VECTOR
					 << 56) | cfg->vector);
	if (rc)
		goto err_free_irq;
	plat->upcall_irq = irq;
	plat->upcall_vector = cfg->vector;
	return 0;

err_free_irq:
	free_irq(irq, plat);
err_dispose:
	irq_dispose_mapping(irq);
	return rc;
}

/**
 * xenpv_upcall_setup() - route the event upcall to the guest
 * @plat: the platform device, shared_info mapped and events initialised
 *
 * The vector route unless xenpv.upcall=intx, or Xen or the kernel cannot
 * do it; then the INTx line.
 *
 * Context: process context, from the platform probe.
 * Return: 0, or a negative errno when no route works.
 */
int xenpv_upcall_setup(struct xenpv_platform *plat)
{
	int rc;

	if (strcmp(upcall, "intx")) {
		rc = xenpv_upcall_setup_vector(plat);
		if (!rc)
			return 0;
		dev_info(&plat->pdev->dev,
			 "no vector upcall (%d): using the INTx line\n", rc);
	}
	return xenpv_upcall_setup_intx(plat);
}

/**
 * xenpv_upcall_teardown() - stop the upcall and release its IRQ
 * @plat: as given to xenpv_upcall_setup()
 *
 * Xen delivers no upcall afterwards; pending events stay pending.
 *
 * Context: process context, from the platform remove or probe unwind.
 */
void xenpv_upcall_teardown(struct xenpv_platform *plat)
{
	if (xenpv_hvm_set_param(HVM_PARAM_CALLBACK_IRQ, 0))
		dev_warn(&plat->pdev->dev, "clearing HVM_PARAM_CALLBACK_IRQ failed\n");
	plat->callback_via = 0;
	free_irq(plat->upcall_irq, plat);
	if (plat->upcall_vector)
		irq_dispose_mapping(plat->upcall_irq);
	plat->upcall_irq = 0;
	plat->upcall_vector = 0;
}
