// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated hypervisor's event channels: port states, the hypercalls
 * of EVTCHNOP_*, and delivery in both ABIs, following Xen's rules:
 * - 2-level: a masked port stays pending without an upcall, unmasking a
 *   pending port raises one (EVTCHNOP_unmask clears the mask and checks
 *   pending atomically), closing a loopback end leaves its peer unbound.
 * - FIFO (xen/include/public/event_channel.h and Xen's event_fifo.c):
 *   EVTCHNOP_init_control switches the domain to FIFO with vCPU 0's
 *   control block; EVTCHNOP_expand_array adds event array pages. Raising
 *   a port sets PENDING; if the port is neither MASKED nor LINKED it is
 *   linked to the tail of its priority's queue (or becomes the head if the
 *   old tail was already consumed), and if that started a new queue, its
 *   READY bit is set and the upcall raised. EVTCHNOP_unmask clears MASKED
 *   and links the port if it is pending. A port raised before its event
 *   word exists is held and raised when the page arrives.
 */

#include <linux/bitops.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/string.h>
#include <xen/interface/event_channel.h>
#include <xen/interface/hvm/params.h>
#include <xenpv/hypervisor.h>

#include "sim.h"
#include "xen_errno.h"

#define SIM_FIFO_WORDS	(PAGE_SIZE / sizeof(event_word_t))
#define SIM_PENDING	BIT(EVTCHN_FIFO_PENDING)
#define SIM_MASKED	BIT(EVTCHN_FIFO_MASKED)
#define SIM_LINKED	BIT(EVTCHN_FIFO_LINKED)

static event_word_t *sim_fifo_word(struct xenpv_sim *s, u32 port)
{
	unsigned int page = port / SIM_FIFO_WORDS;

	if (page >= s->fifo_nr_pages)
		return NULL;
	return s->fifo_array[page] + port % SIM_FIFO_WORDS;
}

/* Atomically clear @clear and set @set in a guest's word; the old value. */
static u32 sim_fifo_update(event_word_t *w, u32 clear, u32 set)
{
	u32 old = READ_ONCE(*w);

	while (!try_cmpxchg(w, &old, (old & ~clear) | set))
		;
	return old;
}

/*
 * Make @tail link to @port, if @tail is still linked (the guest may have
 * consumed it meanwhile).
 */
static bool sim_fifo_set_link(event_word_t *tail, u32 port)
{
	u32 old = READ_ONCE(*tail);

	do {
		if (!(old & SIM_LINKED))
			return false;
	} while (!try_cmpxchg(tail, &old,
			      (old & ~EVTCHN_FIFO_LINK_MASK) | port));
	return true;
}

/* Called with s->lock held; returns true if the upcall should run. */
static bool sim_fifo_set_pending(struct xenpv_sim *s, u32 port)
{
	struct xenpv_sim_port *p = &s->ports[port];
	event_word_t *w = sim_fifo_word(s, port);
	unsigned int q = p->priority;
	event_word_t *tw;
	bool linked = false;
	u32 old;

	if (!w) {
		p->fifo_held = true;
		return false;
	}
	old = sim_fifo_update(w, 0, SIM_PENDING);
	if (old & (SIM_MASKED | SIM_LINKED))
		return false;
	sim_fifo_update(w, 0, SIM_LINKED);
	/* This port was the old tail and is unlinked: that queue is gone. */
	if (s->fifo_tail[q] == port)
		s->fifo_tail[q] = 0;
	tw = s->fifo_tail[q] ? sim_fifo_word(s, s->fifo_tail[q]) : NULL;
	if (tw)
		linked = sim_fifo_set_link(tw, port);
	if (!linked)
		WRITE_ONCE(s->fifo_cb->head[q], port);
	s->fifo_tail[q] = port;
	if (linked || test_and_set_bit(q, (unsigned long *)&s->fifo_cb->ready))
		return false;
	WRITE_ONCE(s->shared_info->vcpu_info[0].evtchn_upcall_pending, 1);
	return true;
}

/* Called with s->lock held; returns true if the upcall should run. */
static bool sim_2l_set_pending(struct xenpv_sim *s, u32 port)
{
	struct shared_info *si = s->shared_info;
	struct vcpu_info *vi = &si->vcpu_info[0];
	unsigned long *pending = (unsigned long *)si->evtchn_pending;
	unsigned long *mask = (unsigned long *)si->evtchn_mask;
	unsigned long *sel = (unsigned long *)&vi->evtchn_pending_sel;

	if (test_and_set_bit(port, pending))
		return false;
	if (test_bit(port, mask))
		return false;
	if (test_and_set_bit(port / BITS_PER_LONG, sel))
		return false;
	vi->evtchn_upcall_pending = 1;
	return true;
}

static bool sim_port_ok(u32 port)
{
	return port > 0 && port < XENPV_SIM_PORTS;
}

/* Called with s->lock held; returns true if the upcall should run. */
static bool sim_set_pending(struct xenpv_sim *s, u32 port)
{
	return s->fifo ? sim_fifo_set_pending(s, port) :
			 sim_2l_set_pending(s, port);
}

static int sim_alloc_port(struct xenpv_sim *s)
{
	u32 p;

	for (p = 1; p < XENPV_SIM_PORTS; p++) {
		if (s->ports[p].state != XENPV_SIM_FREE)
			continue;
		s->ports[p].priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
		s->ports[p].fifo_held = false;
		return p;
	}
	return -XEN_ENOSPC;
}

static bool sim_is_self(domid_t dom)
{
	return dom == DOMID_SELF || dom == XENPV_SIM_DOMID;
}

static void sim_close_port(struct xenpv_sim *s, u32 port)
{
	struct xenpv_sim_port *p = &s->ports[port];
	struct shared_info *si = s->shared_info;

	/* A loopback peer falls back to unbound, as in Xen. */
	if (p->state == XENPV_SIM_INTERDOMAIN && sim_is_self(p->remote_dom) &&
	    sim_port_ok(p->remote_port) && p->remote_port != port) {
		s->ports[p->remote_port].state = XENPV_SIM_UNBOUND;
		s->ports[p->remote_port].remote_port = 0;
	}
	memset(p, 0, sizeof(*p));
	p->priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
	if (s->fifo) {
		event_word_t *w = sim_fifo_word(s, port);

		if (w)
			sim_fifo_update(w, SIM_PENDING, SIM_MASKED);
	} else if (si) {
		clear_bit(port, (unsigned long *)si->evtchn_pending);
		set_bit(port, (unsigned long *)si->evtchn_mask);
	}
}

/*
 * The guest's page at @gfn: what the physmap placed there, else (an HVM
 * guest's RAM) the page whose pfn it is.
 */
static void *sim_gfn_to_virt(struct xenpv_sim *s, u64 gfn)
{
	struct xenpv_sim_frame *f = xenpv_sim_find_gpfn(s, gfn);

	if (f)
		return f->page;
	if (!pfn_valid(gfn))
		return NULL;
	return page_address(pfn_to_page(gfn));
}

static long sim_fifo_init_control(struct xenpv_sim *s,
				  struct evtchn_init_control *ic)
{
	void *page;
	u32 p;

	if (ic->vcpu != 0)
		return -XEN_ENOENT;
	if (ic->offset & 7 ||
	    ic->offset > PAGE_SIZE - sizeof(*s->fifo_cb))
		return -XEN_EINVAL;
	if (s->fifo)	/* Xen refuses a second control block */
		return -XEN_EINVAL;
	page = sim_gfn_to_virt(s, ic->control_gfn);
	if (!page)
		return -XEN_EINVAL;
	s->fifo_cb = page + ic->offset;
	s->fifo = true;
	ic->link_bits = EVTCHN_FIFO_LINK_BITS;
	/* Ports pending in the 2-level bitmap stay pending, as in Xen. */
	for (p = 1; p < XENPV_SIM_PORTS; p++)
		if (s->ports[p].state != XENPV_SIM_FREE &&
		    test_bit(p, (unsigned long *)s->shared_info->evtchn_pending))
			s->ports[p].fifo_held = true;
	return 0;
}

static long sim_fifo_expand_array(struct xenpv_sim *s,
				  struct evtchn_expand_array *ex, bool *upcall)
{
	unsigned int first = s->fifo_nr_pages * SIM_FIFO_WORDS;
	void *page;
	u32 p;

	if (!s->fifo)
		return -XEN_EINVAL;
	if (s->fifo_nr_pages >= XENPV_SIM_FIFO_PAGES)
		return -XEN_EINVAL;
	page = sim_gfn_to_virt(s, ex->array_gfn);
	if (!page)
		return -XEN_EINVAL;
	s->fifo_array[s->fifo_nr_pages++] = page;
	for (p = max(first, 1u); p < first + SIM_FIFO_WORDS &&
	     p < XENPV_SIM_PORTS; p++) {
		if (!s->ports[p].fifo_held)
			continue;
		s->ports[p].fifo_held = false;
		*upcall |= sim_fifo_set_pending(s, p);
	}
	return 0;
}

long xenpv_sim_evtchn_op(struct xenpv_sim *s, int cmd, void *arg,
			 bool *upcall)
{
	long port;

	switch (cmd) {
	case EVTCHNOP_alloc_unbound: {
		struct evtchn_alloc_unbound *a = arg;

		if (!sim_is_self(a->dom))
			return -XEN_EPERM;
		port = sim_alloc_port(s);
		if (port < 0)
			return port;
		s->ports[port].state = XENPV_SIM_UNBOUND;
		s->ports[port].remote_dom = sim_is_self(a->remote_dom) ?
					    XENPV_SIM_DOMID : a->remote_dom;
		a->port = port;
		return 0;
	}
	case EVTCHNOP_bind_interdomain: {
		struct evtchn_bind_interdomain *b = arg;
		struct xenpv_sim_port *rp;

		/* Only loopback is modelled: the peer is one of our ports. */
		if (!sim_is_self(b->remote_dom))
			return -XEN_EINVAL;
		if (!sim_port_ok(b->remote_port))
			return -XEN_EINVAL;
		rp = &s->ports[b->remote_port];
		if (rp->state != XENPV_SIM_UNBOUND ||
		    rp->remote_dom != XENPV_SIM_DOMID)
			return -XEN_EINVAL;
		port = sim_alloc_port(s);
		if (port < 0)
			return port;
		s->ports[port].state = XENPV_SIM_INTERDOMAIN;
		s->ports[port].remote_dom = XENPV_SIM_DOMID;
		s->ports[port].remote_port = b->remote_port;
		rp->state = XENPV_SIM_INTERDOMAIN;
		rp->remote_port = port;
		b->local_port = port;
		/*
		 * As Xen does: notifications sent while the remote end was
		 * unbound are lost, so the new local port starts pending.
		 */
		*upcall |= sim_set_pending(s, port);
		return 0;
	}
	case EVTCHNOP_bind_virq: {
		struct evtchn_bind_virq *v = arg;
		u32 p;

		if (v->virq >= NR_VIRQS || v->vcpu != 0)
			return -XEN_EINVAL;
		for (p = 1; p < XENPV_SIM_PORTS; p++)
			if (s->ports[p].state == XENPV_SIM_VIRQ &&
			    s->ports[p].virq == v->virq)
				return -XEN_EBUSY;
		port = sim_alloc_port(s);
		if (port < 0)
			return port;
		s->ports[port].state = XENPV_SIM_VIRQ;
		s->ports[port].virq = v->virq;
		v->port = port;
		return 0;
	}
	case EVTCHNOP_bind_ipi: {
		struct evtchn_bind_ipi *b = arg;

		if (b->vcpu != 0)
			return -XEN_ENOENT;
		port = sim_alloc_port(s);
		if (port < 0)
			return port;
		s->ports[port].state = XENPV_SIM_IPI;
		b->port = port;
		return 0;
	}
	case EVTCHNOP_close: {
		struct evtchn_close *c = arg;

		if (!sim_port_ok(c->port) ||
		    s->ports[c->port].state == XENPV_SIM_FREE)
			return -XEN_EINVAL;
		sim_close_port(s, c->port);
		return 0;
	}
	case EVTCHNOP_send: {
		struct evtchn_send *sd = arg;
		struct xenpv_sim_port *p;

		if (!sim_port_ok(sd->port))
			return -XEN_EINVAL;
		p = &s->ports[sd->port];
		switch (p->state) {
		case XENPV_SIM_INTERDOMAIN:
			p->sent++;
			if (sim_is_self(p->remote_dom) &&
			    sim_port_ok(p->remote_port))
				*upcall |= sim_set_pending(s, p->remote_port);
			else if (s->remote_send)
				s->remote_send_due = sd->port;
			return 0;
		case XENPV_SIM_IPI:
			p->sent++;
			*upcall |= sim_set_pending(s, sd->port);
			return 0;
		case XENPV_SIM_UNBOUND:
			/* Nobody listens yet; Xen accepts and drops it. */
			p->sent++;
			return 0;
		default:
			return -XEN_EINVAL;
		}
	}
	case EVTCHNOP_unmask: {
		struct evtchn_unmask *u = arg;
		struct shared_info *si = s->shared_info;
		struct vcpu_info *vi;

		if (!sim_port_ok(u->port) || !si)
			return -XEN_EINVAL;
		if (s->fifo) {
			event_word_t *w = sim_fifo_word(s, u->port);

			if (!w)
				return 0;
			sim_fifo_update(w, SIM_MASKED, 0);
			if (READ_ONCE(*w) & SIM_PENDING)
				*upcall |= sim_fifo_set_pending(s, u->port);
			return 0;
		}
		vi = &si->vcpu_info[0];
		if (test_and_clear_bit(u->port,
				       (unsigned long *)si->evtchn_mask) &&
		    test_bit(u->port, (unsigned long *)si->evtchn_pending) &&
		    !test_and_set_bit(u->port / BITS_PER_LONG,
				      (unsigned long *)&vi->evtchn_pending_sel)) {
			vi->evtchn_upcall_pending = 1;
			*upcall = true;
		}
		return 0;
	}
	case EVTCHNOP_bind_vcpu: {
		struct evtchn_bind_vcpu *bv = arg;

		if (!sim_port_ok(bv->port) ||
		    s->ports[bv->port].state == XENPV_SIM_FREE)
			return -XEN_EINVAL;
		if (bv->vcpu != 0)	/* the simulation has one vCPU */
			return -XEN_ENOENT;
		s->ports[bv->port].vcpu = 0;
		return 0;
	}
	case EVTCHNOP_init_control:
		return sim_fifo_init_control(s, arg);
	case EVTCHNOP_expand_array:
		return sim_fifo_expand_array(s, arg, upcall);
	case EVTCHNOP_set_priority: {
		struct evtchn_set_priority *sp = arg;

		if (!s->fifo)
			return -XEN_ENOSYS;
		if (!sim_port_ok(sp->port) ||
		    s->ports[sp->port].state == XENPV_SIM_FREE ||
		    sp->priority > EVTCHN_FIFO_PRIORITY_MIN)
			return -XEN_EINVAL;
		s->ports[sp->port].priority = sp->priority;
		return 0;
	}
	case EVTCHNOP_status: {
		struct evtchn_status *st = arg;
		struct xenpv_sim_port *p;

		if (!sim_port_ok(st->port))
			return -XEN_EINVAL;
		p = &s->ports[st->port];
		st->vcpu = p->vcpu;
		switch (p->state) {
		case XENPV_SIM_FREE:
			st->status = EVTCHNSTAT_closed;
			break;
		case XENPV_SIM_UNBOUND:
			st->status = EVTCHNSTAT_unbound;
			st->u.unbound.dom = p->remote_dom;
			break;
		case XENPV_SIM_INTERDOMAIN:
			st->status = EVTCHNSTAT_interdomain;
			st->u.interdomain.dom = p->remote_dom;
			st->u.interdomain.port = p->remote_port;
			break;
		case XENPV_SIM_VIRQ:
			st->status = EVTCHNSTAT_virq;
			st->u.virq = p->virq;
			break;
		case XENPV_SIM_IPI:
			st->status = EVTCHNSTAT_ipi;
			break;
		}
		return 0;
	}
	}
	return -XEN_ENOSYS;
}

static int sim_raise(struct xenpv_sim *s, u32 port)
{
	unsigned long flags;
	bool upcall;

	spin_lock_irqsave(&s->lock, flags);
	upcall = sim_set_pending(s, port) &&
		 s->params[HVM_PARAM_CALLBACK_IRQ];
	spin_unlock_irqrestore(&s->lock, flags);
	if (upcall)
		xenpv_sim_run_upcall(s);
	return 0;
}

/**
 * xenpv_sim_notify_guest() - the remote end sends on an interdomain port
 * @sim: the simulation
 * @port: the guest's port
 *
 * Return: 0, or -EINVAL if @port is not connected.
 */
int xenpv_sim_notify_guest(struct xenpv_sim *sim, u32 port)
{
	if (!sim_port_ok(port) ||
	    sim->ports[port].state != XENPV_SIM_INTERDOMAIN)
		return -EINVAL;
	return sim_raise(sim, port);
}

/**
 * xenpv_sim_remote_bind() - the remote domain binds a port the guest
 *	allocated with EVTCHNOP_alloc_unbound
 * @sim: the simulation
 * @port: the guest's unbound port
 *
 * Return: 0, or -EINVAL if @port is not unbound.
 */
int xenpv_sim_remote_bind(struct xenpv_sim *sim, u32 port)
{
	if (!sim_port_ok(port) || sim->ports[port].state != XENPV_SIM_UNBOUND)
		return -EINVAL;
	sim->ports[port].state = XENPV_SIM_INTERDOMAIN;
	sim->ports[port].remote_port = XENPV_SIM_PORTS + port; /* a token */
	return 0;
}

/**
 * xenpv_sim_raise_virq() - Xen raises a VIRQ
 * @sim: the simulation
 * @virq: VIRQ_*
 *
 * Return: 0, or -ENOENT if nothing is bound to @virq.
 */
int xenpv_sim_raise_virq(struct xenpv_sim *sim, u32 virq)
{
	u32 p;

	for (p = 1; p < XENPV_SIM_PORTS; p++)
		if (sim->ports[p].state == XENPV_SIM_VIRQ &&
		    sim->ports[p].virq == virq)
			return sim_raise(sim, p);
	return -ENOENT;
}

/**
 * xenpv_sim_deliver() - run an upcall that was due while interrupts were off
 * @sim: the simulation
 *
 * Context: process context, interrupts on.
 */
void xenpv_sim_deliver(struct xenpv_sim *sim)
{
	if (sim->upcall_deferred && sim->params[HVM_PARAM_CALLBACK_IRQ] &&
	    READ_ONCE(sim->shared_info->vcpu_info[0].evtchn_upcall_pending))
		xenpv_sim_run_upcall(sim);
}

/**
 * xenpv_sim_port_pending() - is a guest port pending?
 * @sim: the simulation
 * @port: the port
 *
 * Return: its PENDING bit (FIFO) or pending bit (2-level).
 */
bool xenpv_sim_port_pending(struct xenpv_sim *sim, u32 port)
{
	event_word_t *w;

	if (!sim->fifo)
		return test_bit(port,
				(unsigned long *)sim->shared_info->evtchn_pending);
	w = sim_fifo_word(sim, port);
	return w && (READ_ONCE(*w) & SIM_PENDING);
}

/**
 * xenpv_sim_port_masked() - is a guest port masked?
 * @sim: the simulation
 * @port: the port
 *
 * Return: its MASKED bit (FIFO; true without an event word) or mask bit.
 */
bool xenpv_sim_port_masked(struct xenpv_sim *sim, u32 port)
{
	event_word_t *w;

	if (!sim->fifo)
		return test_bit(port,
				(unsigned long *)sim->shared_info->evtchn_mask);
	w = sim_fifo_word(sim, port);
	return !w || (READ_ONCE(*w) & SIM_MASKED);
}
