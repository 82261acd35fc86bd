// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: the 2-level event channel ABI.
 *
 * Pending and mask state are two bitmaps in shared_info; vCPU 0's
 * evtchn_pending_sel has one bit per word of the pending bitmap that Xen
 * may have set bits in. Xen sets a pending bit, and if the port is not
 * masked, the selector bit and evtchn_upcall_pending, then raises the
 * upcall. All events are bound to vCPU 0, so only its vcpu_info is used.
 *
 * The bitmaps are shared with Xen, which updates them from other CPUs, so
 * every read-modify-write is a sync_*() bit operation: those keep their
 * lock prefix on a guest with one CPU, where the kernel patches it out of
 * the ordinary ones (SMP alternatives).
 */

#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/minmax.h>
#include <asm/sync_bitops.h>
#include <xenpv/hypervisor.h>

#include "events.h"

#define XENPV_2L_BITS	(sizeof(xen_ulong_t) * BITS_PER_BYTE)
#define XENPV_2L_WORDS	XENPV_2L_BITS	/* one selector bit per word */

/* shared_info, set once by xenpv_2l_init() before the upcall is enabled. */
static struct shared_info *l2_si;

/*
 * The port after the last one handled: the next scan starts there, so that
 * a busy low port cannot starve higher ones. Only the upcall touches it,
 * and the upcall does not run concurrently with itself (one vCPU, one
 * interrupt line).
 */
static unsigned int l2_next;

static unsigned long *l2_pending(void)
{
	return (unsigned long *)l2_si->evtchn_pending;
}

static unsigned long *l2_mask(void)
{
	return (unsigned long *)l2_si->evtchn_mask;
}

static void l2_mask_port(evtchn_port_t port)
{
	sync_set_bit(port, l2_mask());
}

/*
 * Clearing the mask bit locally is enough when the port is not pending:
 * Xen checks the mask after setting pending. If it is pending, Xen must
 * raise the upcall: set the mask again and let EVTCHNOP_unmask clear it,
 * which Xen does atomically with its own pending check.
 */
static void l2_unmask_port(evtchn_port_t port)
{
	struct evtchn_unmask u = { .port = port };

	sync_clear_bit(port, l2_mask());
	if (!sync_test_bit(port, l2_pending()))
		return;
	sync_set_bit(port, l2_mask());
	xenpv_event_channel_op(EVTCHNOP_unmask, &u);
}

static void l2_set_pending(evtchn_port_t port)
{
	sync_set_bit(port, l2_pending());
}

static void l2_clear_pending(evtchn_port_t port)
{
	sync_clear_bit(port, l2_pending());
}

static bool l2_is_pending(evtchn_port_t port)
{
	return sync_test_bit(port, l2_pending());
}

static bool l2_is_masked(evtchn_port_t port)
{
	return sync_test_bit(port, l2_mask());
}

static int l2_setup(evtchn_port_t port)
{
	return 0;
}

/* Pending, unmasked ports of word @w, limited to bits [@lo, @hi). */
static xen_ulong_t l2_ready(unsigned int w, unsigned int lo, unsigned int hi)
{
	xen_ulong_t bits = READ_ONCE(l2_si->evtchn_pending[w]) &
			   ~READ_ONCE(l2_si->evtchn_mask[w]);
	xen_ulong_t range = 0;

	if (hi > lo)
		range = GENMASK(hi - 1, lo);
	return bits & range;
}

static void l2_handle_word(unsigned int w, unsigned int lo, unsigned int hi)
{
	xen_ulong_t bits = l2_ready(w, lo, hi);
	unsigned int b;

	while (bits) {
		b = __ffs(bits);
		bits &= ~((xen_ulong_t)1 << b);
		l2_next = (w * XENPV_2L_BITS + b + 1) % EVTCHN_2L_NR_CHANNELS;
		xenpv_events_handle_port(w * XENPV_2L_BITS + b);
	}
}

/*
 * One pass over the words Xen flagged, starting at l2_next and wrapping
 * around to end just before it: every pending port is looked at once.
 * Events that arrive meanwhile set their selector bit again (it was taken
 * with xchg), so Xen raises the upcall again for them.
 */
static void l2_handle_events(void)
{
	struct vcpu_info *vi = &l2_si->vcpu_info[0];
	unsigned int start = l2_next;
	unsigned int sw = start / XENPV_2L_BITS;
	unsigned int sb = start % XENPV_2L_BITS;
	xen_ulong_t sel;
	unsigned int i, w;

	sel = xchg(&vi->evtchn_pending_sel, 0);
	if (!sel)
		return;
	for (i = 0; i <= XENPV_2L_WORDS; i++) {
		w = (sw + i) % XENPV_2L_WORDS;
		if (!(sel & ((xen_ulong_t)1 << w)))
			continue;
		if (i == 0)
			l2_handle_word(w, sb, XENPV_2L_BITS);
		else if (i == XENPV_2L_WORDS)
			l2_handle_word(w, 0, sb);
		else
			l2_handle_word(w, 0, XENPV_2L_BITS);
	}
}

static const struct xenpv_evtchn_abi xenpv_2l_abi = {
	.name = "2-level",
	.nr_ports = EVTCHN_2L_NR_CHANNELS,
	.setup = l2_setup,
	.mask = l2_mask_port,
	.unmask = l2_unmask_port,
	.set_pending = l2_set_pending,
	.clear_pending = l2_clear_pending,
	.is_pending = l2_is_pending,
	.is_masked = l2_is_masked,
	.handle_events = l2_handle_events,
};

/**
 * xenpv_2l_init() - start the 2-level ABI
 * @si: the mapped shared_info page
 *
 * Masks every port: nothing is delivered until a port is bound to an IRQ.
 * Pending bits are left alone, so an event that arrived before its port
 * was bound is delivered when it is.
 *
 * Context: process context, before the upcall is enabled.
 * Return: the ABI's operations.
 */
const struct xenpv_evtchn_abi *xenpv_2l_init(struct shared_info *si)
{
	unsigned int w;

	l2_si = si;
	l2_next = 0;
	for (w = 0; w < ARRAY_SIZE(si->evtchn_mask); w++)
		WRITE_ONCE(si->evtchn_mask[w], ~(xen_ulong_t)0);
	return &xenpv_2l_abi;
}
