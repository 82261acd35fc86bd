// SPDX-License-Identifier: GPL-2.0
/*
 * The simulated Xen's grant table (version 1) and a backend that uses it.
 *
 * Guest side: frames are Xen's pages, created when the guest places frame
 * idx with XENMEM_add_to_physmap (which grows the table up to idx, as Xen
 * does) and found by map_gpfn through the physmap; GNTTABOP_query_size
 * reports the size and the limit.
 *
 * Backend side: a domain maps a ref, copies through it, unmaps it. Like
 * Xen, a mapping checks the entry's type, domid and GTF_readonly, and
 * records itself in the entry's flags (GTF_reading, plus GTF_writing for a
 * writable one) with cmpxchg, so that it races with the guest's
 * end-of-access exactly as on Xen. The guest's frame number is turned back
 * into its page with pfn_to_page().
 */

#include <linux/mm.h>
#include <linux/string.h>
#include <xen/interface/xen.h>
#include <xen/interface/grant_table.h>
#include <xen/interface/memory.h>

#include "sim.h"
#include "xen_errno.h"

#define SIM_GNT_PER_FRAME	(PAGE_SIZE / sizeof(struct grant_entry_v1))
/* XENMEM_add_to_physmap idx flag for v2 status frames (Xen's memory.h). */
#define SIM_GNT_STATUS_IDX	0x80000000UL

static unsigned int sim_gnt_max(struct xenpv_sim *s)
{
	if (!s->gnt_max_frames || s->gnt_max_frames > XENPV_SIM_GNT_FRAMES)
		return XENPV_SIM_GNT_FRAMES;
	return s->gnt_max_frames;
}

static struct grant_entry_v1 *sim_gnt_entry(struct xenpv_sim *s, u32 ref)
{
	struct grant_entry_v1 *frame;

	if (ref / SIM_GNT_PER_FRAME >= s->gnt_nr_frames)
		return NULL;
	frame = s->gnt_frames[ref / SIM_GNT_PER_FRAME];
	return &frame[ref % SIM_GNT_PER_FRAME];
}

/**
 * xenpv_sim_grant_entry() - the raw entry of a ref, for tests
 * @sim: the simulation
 * @ref: the ref
 *
 * Return: the struct grant_entry_v1, or NULL past the table's end.
 */
void *xenpv_sim_grant_entry(struct xenpv_sim *sim, u32 ref)
{
	return sim_gnt_entry(sim, ref);
}

/**
 * xenpv_sim_grant_table_op() - the grant table hypercall
 * @s: the simulation, locked
 * @cmd: GNTTABOP_*; only query_size is known
 * @arg: its argument array
 * @count: its element count
 *
 * Return: 0 with the status in the argument, or a negative Xen errno.
 */
long xenpv_sim_grant_table_op(struct xenpv_sim *s, unsigned int cmd,
			      void *arg, unsigned int count)
{
	struct gnttab_query_size *q = arg;

	if (cmd != GNTTABOP_query_size)
		return -XEN_ENOSYS;
	if (count != 1)
		return -XEN_EINVAL;
	if (q->dom != DOMID_SELF && q->dom != XENPV_SIM_DOMID) {
		q->status = GNTST_permission_denied;
		return 0;
	}
	q->nr_frames = s->gnt_nr_frames;
	q->max_nr_frames = sim_gnt_max(s);
	q->status = GNTST_okay;
	return 0;
}

/**
 * xenpv_sim_grant_add_to_physmap() - place grant frame @x->idx at @x->gpfn
 * @s: the simulation, locked
 * @x: the request (space XENMAPSPACE_grant_table)
 *
 * Grows the table up to @x->idx first. Whatever was at the gpfn goes, and
 * the frame leaves its previous gpfn.
 *
 * Return: 0 or a negative Xen errno (-EINVAL past the limit).
 */
long xenpv_sim_grant_add_to_physmap(struct xenpv_sim *s,
				    struct xen_add_to_physmap *x)
{
	void *page;

	if (x->domid != DOMID_SELF || (x->idx & SIM_GNT_STATUS_IDX) ||
	    x->idx >= sim_gnt_max(s))
		return -XEN_EINVAL;
	while (s->gnt_nr_frames <= x->idx) {
		page = (void *)get_zeroed_page(GFP_ATOMIC);
		if (!page)
			return -XEN_ENOMEM;
		s->gnt_frames[s->gnt_nr_frames++] = page;
	}
	return xenpv_sim_physmap_place(s, x, s->gnt_frames[x->idx]);
}

/* Set and clear entry flags as Xen does: with cmpxchg against the guest. */
static void sim_gnt_update_flags(struct grant_entry_v1 *e, u16 set, u16 clear)
{
	u16 flags = READ_ONCE(e->flags), old;

	for (;;) {
		old = cmpxchg(&e->flags, flags, (flags | set) & ~clear);
		if (old == flags)
			return;
		flags = old;
	}
}

/**
 * xenpv_sim_grant_map() - a backend maps a guest grant
 * @s: the simulation
 * @dom: the backend's domain id; must be the entry's domid
 * @ref: the guest's ref
 * @write: a writable mapping (refused for a GTF_readonly grant)
 * @page: the guest's page, on success
 *
 * Return: a handle (>= 0) for xenpv_sim_grant_unmap(), or GNTST_bad_gntref
 * past the table, GNTST_general_error for an entry that does not grant
 * this (invalid, other domain, read-only), GNTST_bad_page for a frame
 * that is not guest memory, GNTST_no_space when too many are mapped.
 */
int xenpv_sim_grant_map(struct xenpv_sim *s, domid_t dom, u32 ref,
			bool write, struct page **page)
{
	u16 pin = GTF_reading | (write ? GTF_writing : 0);
	struct grant_entry_v1 *e;
	u16 flags, old;
	unsigned long flags_irq, frame;
	int h, rc;

	spin_lock_irqsave(&s->lock, flags_irq);
	e = sim_gnt_entry(s, ref);
	if (!e) {
		rc = GNTST_bad_gntref;
		goto out_unlock;
	}
	for (h = 0; h < XENPV_SIM_GNT_MAPS; h++)
		if (!s->gnt_maps[h].used)
			break;
	if (h == XENPV_SIM_GNT_MAPS) {
		rc = GNTST_no_space;
		goto out_unlock;
	}

	flags = READ_ONCE(e->flags);
	for (;;) {
		/* The guest wrote domid and frame before the flags. */
		smp_rmb();
		if ((flags & GTF_type_mask) != GTF_permit_access ||
		    READ_ONCE(e->domid) != dom ||
		    (write && (flags & GTF_readonly))) {
			rc = GNTST_general_error;
			goto out_unlock;
		}
		old = cmpxchg(&e->flags, flags, flags | pin);
		if (old == flags)
			break;
		flags = old;
	}

	frame = READ_ONCE(e->frame);
	if (!pfn_valid(frame)) {
		/* Undo the bits this mapping set; others hold the rest. */
		sim_gnt_update_flags(e, 0, pin & ~flags);
		rc = GNTST_bad_page;
		goto out_unlock;
	}
	s->gnt_maps[h] = (struct xenpv_sim_gnt_map){
		.used = true, .write = write, .dom = dom, .ref = ref,
	};
	*page = pfn_to_page(frame);
	spin_unlock_irqrestore(&s->lock, flags_irq);
	return h;

out_unlock:
	spin_unlock_irqrestore(&s->lock, flags_irq);
	return rc;
}

/**
 * xenpv_sim_grant_unmap() - a backend drops a mapping
 * @s: the simulation
 * @handle: from xenpv_sim_grant_map()
 *
 * Clears GTF_writing when no writable mapping of the ref remains, and
 * GTF_reading when no mapping remains.
 *
 * Return: GNTST_okay, or GNTST_bad_handle.
 */
int xenpv_sim_grant_unmap(struct xenpv_sim *s, int handle)
{
	struct xenpv_sim_gnt_map *m;
	u16 clear = GTF_reading | GTF_writing;
	unsigned long flags;
	int h;

	spin_lock_irqsave(&s->lock, flags);
	if (handle < 0 || handle >= XENPV_SIM_GNT_MAPS ||
	    !s->gnt_maps[handle].used) {
		spin_unlock_irqrestore(&s->lock, flags);
		return GNTST_bad_handle;
	}
	m = &s->gnt_maps[handle];
	m->used = false;
	for (h = 0; h < XENPV_SIM_GNT_MAPS; h++) {
		if (!s->gnt_maps[h].used || s->gnt_maps[h].ref != m->ref)
			continue;
		clear &= ~GTF_reading;
		if (s->gnt_maps[h].write)
			clear &= ~GTF_writing;
	}
	sim_gnt_update_flags(sim_gnt_entry(s, m->ref), 0, clear);
	spin_unlock_irqrestore(&s->lock, flags);
	return GNTST_okay;
}

/**
 * xenpv_sim_grant_copy() - a backend copies through a grant
 * @s: the simulation
 * @dom: the backend's domain id
 * @ref: the guest's ref
 * @offset: where in the granted page
 * @buf: the backend's buffer
 * @len: how many bytes
 * @to_guest: write @buf into the guest's page (needs a writable grant);
 *	else read the guest's page into @buf
 *
 * The grant is pinned for the copy, as GNTTABOP_copy does.
 *
 * Return: GNTST_okay, GNTST_bad_copy_arg for a range past the page, or
 * the refusal of xenpv_sim_grant_map().
 */
int xenpv_sim_grant_copy(struct xenpv_sim *s, domid_t dom, u32 ref,
			 unsigned int offset, void *buf, size_t len,
			 bool to_guest)
{
	struct page *page;
	void *va;
	int h;

	if (offset > PAGE_SIZE || len > PAGE_SIZE - offset)
		return GNTST_bad_copy_arg;
	h = xenpv_sim_grant_map(s, dom, ref, to_guest, &page);
	if (h < 0)
		return h;
	va = page_address(page) + offset;
	if (to_guest)
		memcpy(va, buf, len);
	else
		memcpy(buf, va, len);
	return xenpv_sim_grant_unmap(s, h);
}

/**
 * xenpv_sim_grant_free() - free the grant table's frames
 * @s: the simulation, no longer used by the guest's grant layer
 */
void xenpv_sim_grant_free(struct xenpv_sim *s)
{
	unsigned long flags;
	unsigned int i;
	int j;

	spin_lock_irqsave(&s->lock, flags);
	for (i = 0; i < s->gnt_nr_frames; i++) {
		for (j = 0; j < XENPV_SIM_PHYSMAP; j++)
			if (s->physmap[j].page == s->gnt_frames[i])
				memset(&s->physmap[j], 0, sizeof(s->physmap[j]));
		free_page((unsigned long)s->gnt_frames[i]);
		s->gnt_frames[i] = NULL;
	}
	s->gnt_nr_frames = 0;
	memset(s->gnt_maps, 0, sizeof(s->gnt_maps));
	spin_unlock_irqrestore(&s->lock, flags);
}
