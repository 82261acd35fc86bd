// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated hypervisor's event channels: port states, the hypercalls
 * of EVTCHNOP_*, and delivery into shared_info (2-level ABI), following
 * Xen's rules: a masked port stays pending without an upcall, unmasking a
 * pending port raises one, closing a loopback end leaves its peer unbound.
 */

#include <linux/bitops.h>
#include <linux/string.h>
#include <xen/interface/event_channel.h>
#include <xen/interface/hvm/params.h>
#include <xenpv/hypervisor.h>

#include "sim.h"
#include "xen_errno.h"

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

static int sim_alloc_port(struct xenpv_sim *s)
{
	u32 p;

	for (p = 1; p < XENPV_SIM_PORTS; p++)
		if (s->ports[p].state == XENPV_SIM_FREE)
			return p;
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
	if (si) {
		clear_bit(port, (unsigned long *)si->evtchn_pending);
		set_bit(port, (unsigned long *)si->evtchn_mask);
	}
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
				*upcall |= sim_2l_set_pending(s, p->remote_port);
			return 0;
		case XENPV_SIM_IPI:
			p->sent++;
			*upcall |= sim_2l_set_pending(s, sd->port);
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
		vi = &si->vcpu_info[0];
		clear_bit(u->port, (unsigned long *)si->evtchn_mask);
		if (test_bit(u->port, (unsigned long *)si->evtchn_pending) &&
		    !test_and_set_bit(u->port / BITS_PER_LONG,
				      (unsigned long *)&vi->evtchn_pending_sel)) {
			vi->evtchn_upcall_pending = 1;
			*upcall = true;
		}
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
	upcall = sim_2l_set_pending(s, port) &&
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
