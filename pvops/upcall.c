// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: how the event channel upcall reaches the guest.
 *
 * Xen announces events to vCPU 0 (where every port is bound) by setting
 * its evtchn_upcall_pending, and raises an interrupt by one of two routes:
 *
 * - vector (on a one-CPU guest, where Xen accepts it; see
 *   xenpv_upcall_setup()): HVMOP_set_evtchn_upcall_vector names a vector
 *   of vCPU 0's local APIC. When evtchn_upcall_pending goes from 0 to 1,
 *   Xen sets that vector in the emulated APIC like any edge interrupt,
 *   and the guest EOIs it at the APIC. The vector comes from
 *   the kernel's x86 vector domain (x86_vector_domain), as an MSI's
 *   would, fixed on CPU 0; its chip's ack is the APIC EOI. Its flow
 *   handler is our own chained one, xenpv_upcall_flow(): the vector is
 *   only a way in to the event channels' own IRQs, as mainline's system
 *   vector is, and a requested IRQ would cost each upcall what genirq
 *   spends on every handled interrupt (an entropy sample, which reads
 *   the TSC: a trap to Xen when Xen emulates the TSC). The interrupt
 *   comes only on a 0 -> 1 change, so the handler scans until the flag
 *   stays clear.
 * - INTx (SMP guests, and the fallback): HVM_PARAM_CALLBACK_IRQ names
 *   the platform PCI device's INTx line, level-triggered through the
 *   emulated IO-APIC, possibly shared. Xen keeps the line asserted
 *   while the flag is set.
 *
 * Either way HVM_PARAM_CALLBACK_IRQ names the INTx line while xenpv is
 * loaded: the toolstack reads it as "the guest has PV drivers".
 *
 * The vector route costs one APIC EOI per upcall. INTx adds the IO-APIC
 * round trip, and the line is re-raised after the EOI until Xen notices
 * the flag went clear, which makes interrupts without work.
 *
 * Xen cannot unset an upcall vector, and once one is set it takes
 * precedence over HVM_PARAM_CALLBACK_IRQ until the domain reboots. So on
 * unload the route is parked, not undone: evtchn_upcall_pending is left
 * set, and Xen raises no interrupt while it is (it only does so on the
 * 0 -> 1 change), so the freed vector is never injected. The next load
 * names its own vector, which makes Xen raise it at once, and its handler
 * clears the flag and takes what arrived meanwhile.
 */

#include <linux/cpumask.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/pci.h>
#include <asm/hw_irq.h>
#include <asm/irqdomain.h>
#include <xen/interface/hvm/hvm_op.h>
#include <xen/interface/hvm/params.h>
#include <xenpv/events.h>

#include "pvops.h"

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

/*
 * Vector, the flow handler itself (hard interrupt context, on CPU 0).
 * The APIC EOI comes first, as handle_edge_irq() does it: an upcall
 * raised from then on is a new interrupt. Xen raises it again only when
 * the flag goes from 0 to 1, so an upcall that returned with the flag
 * still set (events kept arriving) must go round again.
 */
static void xenpv_upcall_flow(struct irq_desc *desc)
{
	struct xenpv_platform *plat = irq_desc_get_handler_data(desc);
	struct irq_data *d = irq_desc_get_irq_data(desc);

	d->chip->irq_ack(d);
	plat->upcalls++;
	while (xenpv_events_upcall())
		;
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

/* HVM_PARAM_CALLBACK_IRQ naming the platform device's INTx; 0 if none. */
static u64 xenpv_upcall_intx_via(struct xenpv_platform *plat)
{
	struct pci_dev *pdev = plat->pdev;
	u8 pin = 0;

	pci_read_config_byte(pdev, PCI_INTERRUPT_PIN, &pin);
	if (!pin || pin > 4 || !pdev->irq)
		return 0;
	return ((u64)HVM_PARAM_CALLBACK_TYPE_PCI_INTX << 56) |
	       ((u64)(pci_domain_nr(pdev->bus) & 0xffff) << 32) |
	       ((u64)pdev->bus->number << 16) | ((u64)pdev->devfn << 8) |
	       (pin - 1);
}

static int xenpv_upcall_setup_intx(struct xenpv_platform *plat)
{
	struct pci_dev *pdev = plat->pdev;
	u64 via = xenpv_upcall_intx_via(plat);
	int rc;

	if (!via) {
		dev_err(&pdev->dev, "no INTx line for the upcall\n");
		return -ENODEV;
	}
	rc = request_irq(pdev->irq, xenpv_upcall_intx,
			 IRQF_SHARED | IRQF_NOBALANCING, "xenpv-platform", plat);
	if (rc)
		return rc;
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
	struct xen_hvm_evtchn_upcall_vector op = { .vcpu = 0 };
	struct irq_cfg *cfg;
	int irq, rc;
	u64 via;

	if (!x86_vector_domain)
		return -EOPNOTSUPP;
	irq = irq_domain_alloc_irqs(x86_vector_domain, 1, NUMA_NO_NODE, &info);
	if (irq < 0)
		return irq;
	if (!irq_get_chip(irq) || !irq_get_chip(irq)->irq_ack) {
		rc = -ENODEV;		/* no APIC EOI to call */
		goto err_dispose;
	}
	/* Never moved off CPU 0: Xen only knows this vector there. */
	irq_set_status_flags(irq, IRQ_NO_BALANCING);
	/* Activates the IRQ: its vector is assigned from here on. */
	irq_set_chained_handler_and_data(irq, xenpv_upcall_flow, plat);
	cfg = irqd_cfg(irq_get_irq_data(irq));
	if (!cfg || !cfg->vector) {
		rc = -ENODEV;
		goto err_unchain;
	}
	op.vector = cfg->vector;
	plat->upcall_irq = irq;
	plat->upcall_vector = cfg->vector;
	rc = xenpv_hvm_op(HVMOP_set_evtchn_upcall_vector, &op);
	if (rc)
		goto err_clear;
	/*
	 * The toolstack takes a non-zero HVM_PARAM_CALLBACK_IRQ as the sign
	 * that the guest has PV drivers (xl shutdown refuses a graceful
	 * shutdown without it), so name the INTx line there too. Xen never
	 * raises it while an upcall vector is set, and no handler is
	 * installed: the line stays masked.
	 */
	via = xenpv_upcall_intx_via(plat);
	if (!via || xenpv_upcall_set_via(plat, via))
		dev_warn(&plat->pdev->dev,
			 "HVM_PARAM_CALLBACK_IRQ not set: the toolstack will not see PV drivers\n");
	return 0;

err_clear:
	plat->upcall_irq = 0;
	plat->upcall_vector = 0;
err_unchain:
	irq_set_chained_handler_and_data(irq, NULL, NULL);
err_dispose:
	irq_dispose_mapping(irq);
	return rc;
}

/**
 * xenpv_upcall_setup() - route the event upcall to the guest
 * @plat: the platform device, shared_info mapped and events initialised
 *
 * The vector route on a guest with one possible CPU, where Xen accepts
 * it; else the INTx line. On a guest with two vCPUs the vector route
 * crashed the testbed's guest under network load, twice in two runs (an
 * exception on the entry trampoline stack before the kernel's GS was
 * set), while INTx passed. The same fault later killed a guest running
 * mainline's drivers only, so the nested emulation is the likelier cause;
 * until real hardware settles it, SMP guests keep INTx.
 *
 * Context: process context, from the platform probe.
 * Return: 0, or a negative errno when no route works.
 */
int xenpv_upcall_setup(struct xenpv_platform *plat)
{
	int rc = -EOPNOTSUPP;

	if (num_possible_cpus() == 1)
		rc = xenpv_upcall_setup_vector(plat);
	if (!rc)
		return 0;
	dev_info(&plat->pdev->dev, "no upcall vector (%d): using the INTx line\n",
		 rc);
	return xenpv_upcall_setup_intx(plat);
}

/**
 * xenpv_upcall_teardown() - stop the upcall and release its IRQ
 * @plat: as given to xenpv_upcall_setup()
 *
 * Xen raises no interrupt afterwards; pending events stay pending. The
 * vector route is parked (see the top of this file).
 *
 * Context: process context, from the platform remove or probe unwind.
 */
void xenpv_upcall_teardown(struct xenpv_platform *plat)
{
	/* No PV drivers from here on, as far as the toolstack can tell. */
	if (plat->callback_via &&
	    xenpv_hvm_set_param(HVM_PARAM_CALLBACK_IRQ, 0))
		dev_warn(&plat->pdev->dev, "clearing HVM_PARAM_CALLBACK_IRQ failed\n");
	plat->callback_via = 0;
	if (plat->upcall_vector) {
		/* Set: Xen raises the vector only when the flag goes 0 -> 1. */
		WRITE_ONCE(plat->shared_info->vcpu_info[0].evtchn_upcall_pending,
			   1);
		/* The flag is visible before the vector may be reused. */
		smp_mb();
		irq_set_chained_handler_and_data(plat->upcall_irq, NULL, NULL);
		irq_dispose_mapping(plat->upcall_irq);
	} else if (plat->upcall_irq) {
		free_irq(plat->upcall_irq, plat);
	}
	plat->upcall_irq = 0;
	plat->upcall_vector = 0;
}
