// SPDX-License-Identifier: GPL-2.0
/*
 * A simulated Xen for the KUnit suites: see sim.h for the contract.
 *
 * Hypercalls are decoded from the same argument structures Xen uses
 * (the headers of include/xen/interface), so the layer code builds its
 * requests exactly as it does for the real hypervisor. Unknown hypercalls and commands
 * return -ENOSYS, as Xen does.
 */

#include <kunit/test.h>
#include <linux/bitops.h>
#include <linux/gfp.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <xen/interface/event_channel.h>
#include <xen/interface/hvm/hvm_op.h>
#include <xen/interface/memory.h>
#include <xen/interface/sched.h>
#include <xen/interface/xen.h>
#include <xen/interface/version.h>
#include <xenpv/hypervisor.h>

#include "sim.h"
#include "xen_errno.h"

static struct xenpv_sim *sim_cur;

static atomic_t sim_in_upcall = ATOMIC_INIT(0);

/*
 * Called without s->lock, when an event was made pending for the guest.
 * Models the guest's callback interrupt as a level interrupt on vCPU 0:
 * - with the guest's interrupts off (e.g. an unmask under an irq
 *   descriptor's lock), the upcall waits for xenpv_sim_deliver();
 * - an event raised while the upcall runs does not nest: the upcall runs
 *   again when it returns, while vCPU 0's upcall flag is still set, at most
 *   XENPV_SIM_UPCALL_ROUNDS times in a row.
 * The upcall itself runs with interrupts off, as in a real handler.
 */
void xenpv_sim_run_upcall(struct xenpv_sim *s)
{
	struct vcpu_info *vi = &s->shared_info->vcpu_info[0];
	unsigned int round = 0;
	unsigned long flags;

	if (!s->upcall)
		return;
	if (atomic_xchg(&sim_in_upcall, 1)) {
		WRITE_ONCE(s->upcall_reasserted, true);
		return;
	}
	if (irqs_disabled()) {
		s->upcall_deferred = true;
		atomic_set(&sim_in_upcall, 0);
		return;
	}
	s->upcall_deferred = false;
	do {
		WRITE_ONCE(s->upcall_reasserted, false);
		local_irq_save(flags);
		s->upcalls++;
		s->upcall();
		local_irq_restore(flags);
		round++;
	} while (READ_ONCE(s->upcall_reasserted) &&
		 READ_ONCE(vi->evtchn_upcall_pending) &&
		 round < XENPV_SIM_UPCALL_ROUNDS);
	s->upcall_rounds_max = max(s->upcall_rounds_max, round);
	atomic_set(&sim_in_upcall, 0);
}

static void sim_cpuid(u32 leaf, u32 regs[4])
{
	struct xenpv_sim *s = sim_cur;
	u32 base = s->cpuid_base;

	memset(regs, 0, 4 * sizeof(u32));
	if (!s->has_xen || leaf < base || leaf > s->max_leaf)
		return;
	switch (leaf - base) {
	case 0:
		regs[0] = s->max_leaf;
		regs[1] = 0x566e6558;	/* "XenV" */
		regs[2] = 0x65584d4d;	/* "MMXe" */
		regs[3] = 0x4d4d566e;	/* "nVMM" */
		break;
	case 1:
		regs[0] = s->version;
		break;
	case 4:
		regs[0] = s->hvm_features;
		regs[1] = s->vcpu_id;
		break;
	}
}

/**
 * xenpv_sim_find_gpfn() - what the physmap has at a guest frame
 * @s: the simulation
 * @gpfn: the frame
 *
 * Context: with @s->lock held.
 * Return: the physmap entry, or NULL if nothing was placed at @gpfn.
 */
struct xenpv_sim_frame *xenpv_sim_find_gpfn(struct xenpv_sim *s,
					    unsigned long gpfn)
{
	int i;

	for (i = 0; i < XENPV_SIM_PHYSMAP; i++)
		if (s->physmap[i].page && s->physmap[i].gpfn == gpfn)
			return &s->physmap[i];
	return NULL;
}

/**
 * xenpv_sim_physmap_place() - put @page at @x->gpfn, as add_to_physmap does
 * @s: the simulation
 * @x: the request
 * @page: what the guest will see at @x->gpfn
 *
 * Whatever was at @x->gpfn goes, and @page leaves any other frame: a page
 * lives at one frame.
 *
 * Context: with @s->lock held.
 * Return: 0, or -XEN_ENOMEM when the physmap table is full.
 */
long xenpv_sim_physmap_place(struct xenpv_sim *s, struct xen_add_to_physmap *x,
			     void *page)
{
	struct xenpv_sim_frame *f;
	int i;

	for (i = 0; i < XENPV_SIM_PHYSMAP; i++) {
		f = &s->physmap[i];
		if (f->page && (f->gpfn == x->gpfn || f->page == page))
			memset(f, 0, sizeof(*f));
	}
	for (i = 0; i < XENPV_SIM_PHYSMAP; i++) {
		f = &s->physmap[i];
		if (f->page)
			continue;
		f->gpfn = x->gpfn;
		f->space = x->space;
		f->idx = x->idx;
		f->page = page;
		return 0;
	}
	return -XEN_ENOMEM;
}

static long sim_memory_op(struct xenpv_sim *s, unsigned int cmd, void *arg)
{
	switch (cmd) {
	case XENMEM_add_to_physmap: {
		struct xen_add_to_physmap *x = arg;

		if (x->domid != DOMID_SELF)
			return -XEN_EINVAL;
		switch (x->space) {
		case XENMAPSPACE_grant_table:
			return xenpv_sim_grant_add_to_physmap(s, x);
		case XENMAPSPACE_gmfn:
			/* Move the guest's page at frame idx to gpfn. */
			if (!pfn_valid(x->idx))
				return -XEN_EINVAL;
			return xenpv_sim_physmap_place(s, x,
					page_address(pfn_to_page(x->idx)));
		case XENMAPSPACE_shared_info:
			if (x->idx != 0)
				return -XEN_EINVAL;
			return xenpv_sim_physmap_place(s, x, s->shared_info);
		}
		return -XEN_EINVAL;
	}
	case XENMEM_remove_from_physmap: {
		struct xen_remove_from_physmap *r = arg;
		struct xenpv_sim_frame *f = xenpv_sim_find_gpfn(s, r->gpfn);

		if (r->domid != DOMID_SELF || !f)
			return -XEN_EINVAL;
		memset(f, 0, sizeof(*f));
		return 0;
	}
	}
	return -XEN_ENOSYS;
}

static long sim_hvm_op(struct xenpv_sim *s, int cmd, struct xen_hvm_param *p)
{
	if (cmd != HVMOP_get_param && cmd != HVMOP_set_param)
		return -XEN_ENOSYS;
	if (p->domid != DOMID_SELF || p->index >= HVM_NR_PARAMS)
		return -XEN_EINVAL;
	if (cmd == HVMOP_get_param)
		p->value = s->params[p->index];
	else
		s->params[p->index] = p->value;
	return 0;
}

static long sim_version_op(struct xenpv_sim *s, int cmd, void *arg)
{
	switch (cmd) {
	case XENVER_version:
		return s->version_hypercall;
	case XENVER_extraversion:
		memcpy(arg, s->extraversion, XEN_EXTRAVERSION_LEN);
		return 0;
	case XENVER_get_features: {
		struct xen_feature_info *fi = arg;

		fi->submap = fi->submap_idx == 0 ? s->features : 0;
		return 0;
	}
	}
	return -XEN_ENOSYS;
}

static long sim_hypercall(unsigned int nr, unsigned long a1, unsigned long a2,
			  unsigned long a3, unsigned long a4, unsigned long a5)
{
	void (*remote_send)(struct xenpv_sim *sim, u32 port);
	struct xenpv_sim *s = sim_cur;
	bool upcall = false;
	unsigned long flags;
	u32 due;
	long rc;

	spin_lock_irqsave(&s->lock, flags);
	if (nr < XENPV_SIM_HYPERCALLS)
		s->calls[nr]++;
	if (s->fail_nr >= 0 && nr == (unsigned int)s->fail_nr) {
		s->fail_nr = -1;
		spin_unlock_irqrestore(&s->lock, flags);
		return s->fail_rc;
	}
	switch (nr) {
	case __HYPERVISOR_xen_version:
		rc = sim_version_op(s, a1, (void *)a2);
		break;
	case __HYPERVISOR_memory_op:
		rc = sim_memory_op(s, a1, (void *)a2);
		break;
	case __HYPERVISOR_hvm_op:
		rc = sim_hvm_op(s, a1, (void *)a2);
		break;
	case __HYPERVISOR_event_channel_op:
		rc = xenpv_sim_evtchn_op(s, a1, (void *)a2, &upcall);
		break;
	case __HYPERVISOR_grant_table_op:
		rc = xenpv_sim_grant_table_op(s, a1, (void *)a2, a3);
		break;
	case __HYPERVISOR_sched_op:
		if (a1 == SCHEDOP_shutdown) {
			s->shutdown_reason =
				((struct sched_shutdown *)a2)->reason;
			rc = 0;
		} else {
			rc = -XEN_ENOSYS;
		}
		break;
	default:
		rc = -XEN_ENOSYS;
	}
	upcall = upcall && s->params[HVM_PARAM_CALLBACK_IRQ];
	/* A send to another domain: that domain runs now (see sim.h). */
	due = s->remote_send_due;
	s->remote_send_due = 0;
	remote_send = s->remote_send;
	spin_unlock_irqrestore(&s->lock, flags);

	if (upcall)
		xenpv_sim_run_upcall(s);
	if (due && remote_send)
		remote_send(s, due);
	return rc;
}

static void *sim_map_gpfn(unsigned long gpfn, unsigned int nr)
{
	struct xenpv_sim *s = sim_cur;
	struct xenpv_sim_frame *f;
	unsigned long flags;

	/* Frames are single pages in the simulation. */
	if (nr != 1)
		return NULL;
	spin_lock_irqsave(&s->lock, flags);
	f = xenpv_sim_find_gpfn(s, gpfn);
	spin_unlock_irqrestore(&s->lock, flags);
	return f ? f->page : NULL;
}

static void sim_unmap(void *va)
{
}

static const struct xenpv_hv_ops sim_ops = {
	.name = "sim",
	.cpuid = sim_cpuid,
	.hypercall = sim_hypercall,
	.map_gpfn = sim_map_gpfn,
	.unmap = sim_unmap,
};

/**
 * xenpv_sim_start() - create a simulated Xen 4.17 and install it
 * @test: the test; the simulation must be stopped before it ends
 *
 * Defaults: Xen 4.17 at CPUID 0x40000000 with five leaves, shared_info
 * with every event channel masked, no upcall.
 *
 * Return: the simulation, or NULL if out of memory.
 */
struct xenpv_sim *xenpv_sim_start(struct kunit *test)
{
	struct xenpv_sim *s;
	int i;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return NULL;
	s->shared_info = (void *)get_zeroed_page(GFP_KERNEL);
	if (!s->shared_info) {
		kfree(s);
		return NULL;
	}
	for (i = 0; i < ARRAY_SIZE(s->shared_info->evtchn_mask); i++)
		s->shared_info->evtchn_mask[i] = ~0UL;
	spin_lock_init(&s->lock);
	s->has_xen = true;
	s->cpuid_base = XENPV_CPUID_FIRST;
	s->max_leaf = XENPV_CPUID_FIRST + 5;
	s->version = (4 << 16) | 17;
	s->version_hypercall = s->version;
	s->hvm_features = BIT(3);	/* vcpu id present */
	strscpy(s->extraversion, ".5-sim", sizeof(s->extraversion));
	s->features = BIT(XENFEAT_hvm_callback_vector) |
		      BIT(XENFEAT_hvm_safe_pvclock);
	s->fail_nr = -1;
	s->shutdown_reason = -1;
	sim_cur = s;
	xenpv_hv_set_ops(&sim_ops);
	return s;
}

/**
 * xenpv_sim_stop() - uninstall and free a simulation
 * @sim: from xenpv_sim_start(), or NULL
 */
void xenpv_sim_stop(struct xenpv_sim *sim)
{
	if (!sim)
		return;
	xenpv_hv_set_ops(NULL);
	sim_cur = NULL;
	xenpv_sim_grant_free(sim);
	free_page((unsigned long)sim->shared_info);
	kfree(sim);
}
