/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv: event channels as Linux interrupts.
 *
 * Every event channel port that a xenpv module uses is bound to a Linux
 * IRQ of xenpv's own irq_domain (hwirq = port). Drivers then use the usual
 * genirq calls on that IRQ (disable_irq(), enable_irq(), synchronize_irq())
 * and /proc/interrupts lists it as "xenpv-evtchn <port>".
 *
 * Limits: all events are delivered on vCPU 0, through the Xen platform PCI
 * device's interrupt (HVM_PARAM_CALLBACK_IRQ); ports are never rebound to
 * other vCPUs, so irq affinity cannot be changed.
 *
 * Ports: a port obtained from xenpv_evtchn_alloc_unbound(),
 * xenpv_evtchn_bind_interdomain() or xenpv_evtchn_bind_virq() belongs to
 * the events layer: xenpv_unbind_from_irqhandler() closes it, and
 * xenpv_evtchn_close() closes it while no IRQ is bound. A port that came
 * from elsewhere (e.g. HVM_PARAM_STORE_EVTCHN) can be bound to an IRQ too;
 * unbinding that IRQ leaves such a port open (and masked).
 *
 * Errors: the values returned by Xen are Linux errno values on x86 and are
 * passed through negated; bad arguments give -EINVAL, never a crash.
 */
#ifndef _XENPV_EVENTS_H
#define _XENPV_EVENTS_H

#include <linux/bits.h>
#include <linux/interrupt.h>
#include <asm/page.h>
#include <linux/types.h>
#include <xen/interface/xen.h>
#include <xen/interface/event_channel.h>

/*
 * For xenpv.ko's platform code. The FIFO ABI's pages live in frames the
 * platform code reserves, at the same place on every load: one for the
 * control block, then the event array (4 bytes per port).
 */
#define XENPV_EVENTS_FIFO_FRAMES \
	(1 + EVTCHN_FIFO_NR_CHANNELS / (PAGE_SIZE / sizeof(event_word_t)))
int xenpv_events_init(struct shared_info *si, unsigned long fifo_gpfn);
void xenpv_events_exit(void);
bool xenpv_events_upcall(void);
const char *xenpv_events_abi_name(void);
int xenpv_events_selftest(void);

/* Ports. */
int xenpv_evtchn_alloc_unbound(domid_t remote_dom, evtchn_port_t *port);
int xenpv_evtchn_bind_interdomain(domid_t remote_dom,
				  evtchn_port_t remote_port,
				  evtchn_port_t *port);
int xenpv_evtchn_bind_virq(unsigned int virq, evtchn_port_t *port);
int xenpv_evtchn_close(evtchn_port_t port);

/* IRQs. */
int xenpv_bind_evtchn_to_irqhandler(evtchn_port_t port,
				    irq_handler_t handler,
				    unsigned long irqflags, const char *name,
				    void *dev, bool lateeoi);
int xenpv_unbind_from_irqhandler(unsigned int irq, void *dev);
int xenpv_irq_to_evtchn(unsigned int irq);

/* Notifying the other end. */
int xenpv_notify_remote_via_evtchn(evtchn_port_t port);
int xenpv_notify_remote_via_irq(unsigned int irq);

/* Masking a port by hand (on top of disable_irq()/enable_irq()). */
int xenpv_evtchn_mask(evtchn_port_t port);
int xenpv_evtchn_unmask(evtchn_port_t port);

/* Flags of xenpv_irq_lateeoi(). */
#define XENPV_EOI_SPURIOUS	BIT(0)	/* the event found no work */

void xenpv_irq_lateeoi(unsigned int irq, unsigned int flags);

#endif /* _XENPV_EVENTS_H */
