/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv events layer: internals shared by the files of events/ and the KUnit suites.
 */
#ifndef _XENPV_EVENTS_EVENTS_H
#define _XENPV_EVENTS_EVENTS_H

#include <linux/mm.h>
#include <linux/rcupdate.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <xen/interface/xen.h>
#include <xen/interface/event_channel.h>

struct seq_file;

/**
 * struct xenpv_evtchn_abi - one event channel ABI (2-level or FIFO)
 * @name: "2-level" or "fifo"
 * @nr_ports: ports the ABI can address at most
 * @setup: make @port usable before it is bound (FIFO: grow the event
 *	array); process context, under xenpv_events_mutex
 * @mask: set the port's mask
 * @unmask: clear the port's mask; if the port is pending, make Xen raise
 *	the upcall for it
 * @set_pending: mark the port pending locally (no upcall by itself)
 * @clear_pending: clear the port's pending state
 * @is_pending: the port's pending state
 * @is_masked: the port's mask state
 * @handle_events: scan for pending, unmasked ports and call
 *	xenpv_events_handle_port() for each; hard-irq context, from the upcall
 * @stop: forget the ABI's mappings (optional)
 * @show: debugfs: print the ABI's own state of @port (optional)
 * @show_queues: debugfs: print the ABI's per-vCPU state (optional)
 *
 * The bit operations may be called from any context, with or without the
 * port's lock; they are atomic with respect to Xen and to each other.
 * Xen writes the same words from other CPUs, so they use the sync_*()
 * atomics, which keep their lock prefix where the kernel runs on one CPU
 * and patches it out of the ordinary ones.
 */
struct xenpv_evtchn_abi {
	const char *name;
	unsigned int nr_ports;
	int (*setup)(evtchn_port_t port);
	void (*mask)(evtchn_port_t port);
	void (*unmask)(evtchn_port_t port);
	void (*set_pending)(evtchn_port_t port);
	void (*clear_pending)(evtchn_port_t port);
	bool (*is_pending)(evtchn_port_t port);
	bool (*is_masked)(evtchn_port_t port);
	void (*handle_events)(void);
	void (*stop)(void);
	void (*show)(struct seq_file *m, evtchn_port_t port);
	void (*show_queues)(struct seq_file *m);
};

/*
 * At most this many scans per xenpv_events_upcall(): with the 2-level ABI
 * a port that storms is served once per scan; after the last one the INTx
 * route's level interrupt fires again (it stays raised while vCPU 0's
 * upcall flag is set), so other interrupts get their turn, and the vector
 * route calls again.
 */
#define XENPV_UPCALL_ROUNDS	8

/* Why a port is masked: it is unmasked only when no reason is left. */
#define XENPV_MASK_DISABLED	BIT(0)	/* genirq masked it, or no handler */
#define XENPV_MASK_EOI		BIT(1)	/* lateeoi: delivered, EOI not yet */
#define XENPV_MASK_EXPLICIT	BIT(2)	/* xenpv_evtchn_mask() */
#define XENPV_MASK_TEMP		BIT(3)	/* short-lived, inside one call */

/*
 * lateeoi backoff (XSA-391). A driver that finds no work for an event says
 * so with XENPV_EOI_SPURIOUS. The first XENPV_EOI_FREE_SPURIOUS spurious
 * EOIs in a row unmask at once (a few spurious events are normal: a
 * backend may notify after the frontend already polled the ring). After
 * that each spurious EOI delays the unmask, starting at
 * XENPV_EOI_DELAY_MIN jiffies and doubling up to XENPV_EOI_DELAY_MAX, so a
 * backend that storms a port gets at most about HZ / XENPV_EOI_DELAY_MAX
 * events a second serviced. One EOI that did find work resets the count.
 */
#define XENPV_EOI_FREE_SPURIOUS	3
#define XENPV_EOI_DELAY_MIN	1UL
#define XENPV_EOI_DELAY_MAX	((unsigned long)(HZ / 4) ?: 1UL)

/**
 * struct xenpv_eoi_backoff - the spurious-EOI state of one port
 * @spurious: spurious EOIs in a row
 * @delay: the last delay given, in jiffies (0: none)
 */
struct xenpv_eoi_backoff {
	unsigned int spurious;
	unsigned long delay;
};

unsigned long xenpv_eoi_backoff_next(struct xenpv_eoi_backoff *b,
				     bool spurious);

/**
 * struct xenpv_port - what the events layer knows about one port
 * @port: the port
 * @owned: allocated or bound through this layer: closed when unbound
 * @lateeoi: bound with lateeoi semantics
 * @irq: the Linux IRQ bound to @port, or 0
 * @dev: the dev_id given to request_irq()
 * @lock: protects @mask_reasons, @eoi and the counters; taken with interrupts off, also
 *	from irq_chip callbacks (under the irq descriptor's lock) and from
 *	xenpv_irq_lateeoi() in any context. Innermost: nothing is taken
 *	under it, and no work is queued under it.
 * @mask_reasons: XENPV_MASK_* bits; the port is unmasked when none is set
 * @eoi: the lateeoi backoff
 * @eoi_delays: EOIs whose unmask the backoff delayed (debugfs)
 * @acks: deliveries acknowledged for the handler (debugfs)
 * @mask_acks: deliveries genirq could not run the handler for, kept
 *	for a resend (debugfs)
 * @retriggers: resends (debugfs)
 * @eoi_stray: EOIs that found no delivery waiting for one (debugfs)
 * @sends: notifications sent to the other end through the IRQ, each one
 *	an EVTCHNOP_send (debugfs; atomic, not under @lock)
 * @eoi_work: the delayed EOI of a throttled lateeoi port
 * @rcu: the record is freed after a grace period: xenpv_evtchn_mask()
 *	looks it up under RCU
 *
 * @port, @owned, @lateeoi, @irq and @dev change only under
 * xenpv_events_mutex, before the IRQ exists or after it is gone.
 */
struct xenpv_port {
	evtchn_port_t port;
	bool owned;
	bool lateeoi;
	unsigned int irq;
	void *dev;
	raw_spinlock_t lock;
	unsigned int mask_reasons;
	struct xenpv_eoi_backoff eoi;
	unsigned long eoi_delays;
	unsigned long acks;
	unsigned long mask_acks;
	unsigned long retriggers;
	unsigned long eoi_stray;
	atomic_long_t sends;
	struct delayed_work eoi_work;
	struct rcu_head rcu;
};

/* events/core.c */
extern const struct xenpv_evtchn_abi *xenpv_abi;
void xenpv_events_handle_port(evtchn_port_t port);
int xenpv_events_start(struct shared_info *si, bool fifo);
struct xenpv_port *xenpv_port_of_irq(unsigned int irq);

/* events/2l.c */
const struct xenpv_evtchn_abi *xenpv_2l_init(struct shared_info *si);

/* events/fifo.c */
void xenpv_fifo_set_home(unsigned long gpfn, unsigned int nr);
const struct xenpv_evtchn_abi *xenpv_fifo_init(struct shared_info *si,
					       bool want);
void xenpv_fifo_forget(void);

/* The gfn of a kernel page, as an HVM guest gives it to Xen: its pfn. */
static inline u64 xenpv_virt_to_gfn(void *p)
{
	return page_to_pfn(virt_to_page(p));
}

#endif /* _XENPV_EVENTS_EVENTS_H */
