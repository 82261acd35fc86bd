// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: the grant table itself (version 1).
 *
 * The table lives in frames that Xen owns. The platform code gives the
 * layer a run of guest frames in the platform PCI BAR; frame i of the table
 * is placed at gpfn_base + i with XENMEM_add_to_physmap
 * (XENMAPSPACE_grant_table, idx i) and then mapped into the kernel. The
 * layer maps a few frames at init and more when the free refs run short,
 * up to min(max_nr_frames, the BAR frames it was given).
 *
 * Frames are never unmapped from Xen's side: the table outlives the module,
 * and a later xenpv_grant_init() maps the same frames again. Entries found
 * still granted then (a backend never let go of them before an unload) are
 * leaked, not reused.
 */

#include <linux/bitmap.h>
#include <linux/debugfs.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <xen/interface/xen.h>
#include <xen/interface/memory.h>
#include <xenpv/compat.h>
#include <xenpv/hypervisor.h>

#include "grant.h"

struct xenpv_gnt xenpv_gnt = {
	.lock = __SPIN_LOCK_UNLOCKED(xenpv_gnt.lock),
	.grow_mutex = __MUTEX_INITIALIZER(xenpv_gnt.grow_mutex),
	.waiters = LIST_HEAD_INIT(xenpv_gnt.waiters),
	.deferred = LIST_HEAD_INIT(xenpv_gnt.deferred),
	.grow_work = __WORK_INITIALIZER(xenpv_gnt.grow_work,
					xenpv_gnt_grow_work),
	.defer_work = __DELAYED_WORK_INITIALIZER(xenpv_gnt.defer_work,
						 xenpv_gnt_defer_work, 0),
};

/*
 * Give Xen's frame @idx a place in the BAR and map it, then hand its refs
 * to the free set. Called with grow_mutex held, from process context.
 */
static int xenpv_gnt_map_frame(unsigned int idx)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	struct xen_add_to_physmap xatp = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_grant_table,
		.idx = idx,
		.gpfn = g->gpfn_base + idx,
	};
	grant_ref_t first = idx * XENPV_GRANT_PER_FRAME, ref, stale_ref = 0;
	unsigned int i, stale = 0;
	struct grant_entry_v1 *frame;
	unsigned long flags;
	int rc;

	rc = xenpv_memory_op(XENMEM_add_to_physmap, &xatp);
	if (rc) {
		pr_err_ratelimited("xenpv: grant frame %u: XENMEM_add_to_physmap: %d\n",
				   idx, rc);
		return -EIO;
	}
	frame = xenpv_hv->map_gpfn(xatp.gpfn, 1);
	if (!frame) {
		pr_err_ratelimited("xenpv: grant frame %u: cannot map gfn 0x%lx\n",
				   idx, (unsigned long)xatp.gpfn);
		return -ENOMEM;
	}
	g->frames[idx] = frame;

	spin_lock_irqsave(&g->lock, flags);
	for (i = 0; i < XENPV_GRANT_PER_FRAME; i++) {
		ref = first + i;
		if (ref < GNTTAB_NR_RESERVED_ENTRIES)
			continue;
		/* Still granted from before: a backend may map it. */
		if (READ_ONCE(frame[i].flags) & GTF_type_mask) {
			if (!stale++)
				stale_ref = ref;
			xenpv_gnt_set_state_locked(ref, XENPV_GNT_LEAKED);
			continue;
		}
		xenpv_gnt_set_state_locked(ref, XENPV_GNT_FREE);
	}
	g->nr_frames = idx + 1;
	WRITE_ONCE(g->nr_refs, g->nr_frames * XENPV_GRANT_PER_FRAME);
	spin_unlock_irqrestore(&g->lock, flags);
	if (stale)
		pr_warn("xenpv: grant frame %u: %u refs still granted from before (first: ref %u, domain %u); never reusing them\n",
			idx, stale, stale_ref,
			READ_ONCE(xenpv_gnt_entry(stale_ref)->domid));
	return 0;
}

/**
 * xenpv_gnt_grow() - map frames until enough refs are free
 * @want_free: how many free refs the caller wants
 *
 * Context: process context; takes grow_mutex, then the table lock.
 * Return: 0 when at least @want_free refs are free, -ENOSPC when the
 * table reached its limit first, -ENODEV when the layer is stopped, or
 * the error of mapping a frame (-EIO, -ENOMEM).
 */
int xenpv_gnt_grow(unsigned int want_free)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	unsigned long flags;
	bool more;
	int rc = 0;

	mutex_lock(&g->grow_mutex);
	for (;;) {
		spin_lock_irqsave(&g->lock, flags);
		if (!g->live)
			rc = -ENODEV;
		else if (g->nr_free >= want_free)
			rc = 0;
		else if (g->nr_frames >= g->max_frames)
			rc = -ENOSPC;
		more = g->live && g->nr_free < want_free &&
		       g->nr_frames < g->max_frames;
		spin_unlock_irqrestore(&g->lock, flags);
		if (!more)
			break;
		rc = xenpv_gnt_map_frame(g->nr_frames);
		if (rc)
			break;
	}
	mutex_unlock(&g->grow_mutex);
	return rc;
}

/**
 * xenpv_grant_get_stats() - read the grant table's counters
 * @st: filled with a consistent snapshot (all zero before init)
 *
 * Context: any; takes the table lock briefly.
 */
void xenpv_grant_get_stats(struct xenpv_grant_stats *st)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	unsigned long flags;

	spin_lock_irqsave(&g->lock, flags);
	st->frames = g->nr_frames;
	st->max_frames = g->max_frames;
	st->refs_free = g->nr_free;
	st->refs_in_use = g->nr_in_use;
	st->refs_deferred = g->nr_deferred;
	st->refs_leaked = g->nr_leaked;
	st->exhausted = g->exhausted;
	spin_unlock_irqrestore(&g->lock, flags);
}

/**
 * xenpv_gnt_debugfs_show() - the text of /sys/kernel/debug/xenpv/grant
 * @m: where to print
 * @unused: unused
 *
 * One "name: value" line per counter, then one line per deferred ref.
 *
 * Context: process context; takes the table lock.
 * Return: 0.
 */
int xenpv_gnt_debugfs_show(struct seq_file *m, void *unused)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	struct xenpv_gnt_deferred *d;
	struct xenpv_grant_stats st;
	unsigned long flags;

	xenpv_grant_get_stats(&st);
	seq_printf(m, "frames: %u\nmax_frames: %u\n", st.frames,
		   st.max_frames);
	seq_printf(m, "refs_free: %u\nrefs_in_use: %u\n", st.refs_free,
		   st.refs_in_use);
	seq_printf(m, "refs_deferred: %u\nrefs_leaked: %u\n",
		   st.refs_deferred, st.refs_leaked);
	seq_printf(m, "exhausted: %lu\n", st.exhausted);

	spin_lock_irqsave(&g->lock, flags);
	list_for_each_entry(d, &g->deferred, node)
		seq_printf(m, "deferred: ref %u domain %u tries %u\n", d->ref,
			   d->domid, d->tries);
	spin_unlock_irqrestore(&g->lock, flags);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(xenpv_gnt_debugfs);

/* Failures here only cost the debugfs file. */
static void xenpv_gnt_debugfs_init(void)
{
	xenpv_gnt.debugfs_file = debugfs_create_file("grant", 0400,
						     xenpv_debugfs_dir(), NULL,
						     &xenpv_gnt_debugfs_fops);
}

static void xenpv_gnt_debugfs_exit(void)
{
	debugfs_remove(xenpv_gnt.debugfs_file);
	xenpv_gnt.debugfs_file = NULL;
}

/**
 * xenpv_grant_init() - set up the grant table
 * @gpfn_base: first of the guest frames reserved for grant frames (in the
 *	platform BAR)
 * @nr_gpfns: how many frames are reserved; the table never grows past
 *	them nor past Xen's max_nr_frames
 *
 * Asks Xen for the table's limit, maps XENPV_GRANT_INIT_FRAMES frames and
 * creates /sys/kernel/debug/xenpv/grant.
 *
 * Context: process context, once, before any other grant function; the
 * caller serialises it with xenpv_grant_exit().
 * Return: 0, -EINVAL for no frames, -EBUSY if already set up, -EIO when
 * Xen refused the query or the first frame, -ENOMEM.
 */
int xenpv_grant_init(unsigned long gpfn_base, unsigned int nr_gpfns)
{
	struct gnttab_query_size q = { .dom = DOMID_SELF };
	struct xenpv_gnt *g = &xenpv_gnt;
	unsigned int max, nr_refs, i;
	unsigned long flags;
	int rc;

	if (!gpfn_base || !nr_gpfns)
		return -EINVAL;
	if (g->frames)
		return -EBUSY;

	rc = xenpv_grant_table_op(GNTTABOP_query_size, &q, 1);
	if (rc || q.status != GNTST_okay) {
		pr_err("xenpv: GNTTABOP_query_size: %d, status %d\n", rc,
		       q.status);
		return -EIO;
	}
	max = min(q.max_nr_frames, nr_gpfns);
	if (!max)
		return -EIO;
	nr_refs = max * XENPV_GRANT_PER_FRAME;

	g->frames = kcalloc(max, sizeof(*g->frames), GFP_KERNEL);
	if (!g->frames)
		return -ENOMEM;
	g->state = kvzalloc(nr_refs, GFP_KERNEL);
	if (!g->state) {
		rc = -ENOMEM;
		goto err_free_frames;
	}
	g->free_map = bitmap_zalloc(nr_refs, GFP_KERNEL);
	if (!g->free_map) {
		rc = -ENOMEM;
		goto err_free_state;
	}

	g->gpfn_base = gpfn_base;
	g->retry_delay = XENPV_GRANT_DEFER_DELAY;
	g->cursor = GNTTAB_NR_RESERVED_ENTRIES;
	spin_lock_irqsave(&g->lock, flags);
	g->max_frames = max;
	g->live = true;
	spin_unlock_irqrestore(&g->lock, flags);

	mutex_lock(&g->grow_mutex);
	for (i = 0; i < min(max, XENPV_GRANT_INIT_FRAMES) && !rc; i++)
		rc = xenpv_gnt_map_frame(i);
	mutex_unlock(&g->grow_mutex);
	if (rc && !g->nr_frames)
		goto err_stop;
	if (rc)
		pr_warn("xenpv: grant table: only %u frames mapped at init: %d\n",
			g->nr_frames, rc);

	xenpv_gnt_debugfs_init();
	pr_info("xenpv: grant table v1: %u of %u frames mapped (Xen allows %u)\n",
		g->nr_frames, max, q.max_nr_frames);
	return 0;

err_stop:
	spin_lock_irqsave(&g->lock, flags);
	g->live = false;
	g->max_frames = 0;
	spin_unlock_irqrestore(&g->lock, flags);
	bitmap_free(g->free_map);
	g->free_map = NULL;
err_free_state:
	kvfree(g->state);
	g->state = NULL;
err_free_frames:
	kfree(g->frames);
	g->frames = NULL;
	return rc;
}

/**
 * xenpv_grant_exit() - tear the grant table down
 *
 * Meant for when every user has gone. Still-deferred refs get one last
 * try; whatever a backend still maps then is leaked with a warning (the
 * page is never freed). Refs still owned are reported. The frames stay in
 * Xen's table and are only unmapped from the kernel.
 *
 * Context: process context; no other grant function may run concurrently
 * or afterwards, until the next xenpv_grant_init().
 */
void xenpv_grant_exit(void)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	unsigned long flags;
	unsigned int i;

	if (!g->frames)
		return;

	spin_lock_irqsave(&g->lock, flags);
	g->live = false;
	spin_unlock_irqrestore(&g->lock, flags);
	cancel_work_sync(&g->grow_work);
	cancel_delayed_work_sync(&g->defer_work);

	xenpv_grant_retry_deferred();
	xenpv_gnt_leak_deferred();
	xenpv_gnt_drop_waiters();
	if (g->nr_in_use)
		pr_warn("xenpv: grant table: %u refs still in use at exit\n",
			g->nr_in_use);
	if (g->nr_leaked)
		pr_warn("xenpv: grant table: %u refs leaked (with their pages)\n",
			g->nr_leaked);

	xenpv_gnt_debugfs_exit();

	mutex_lock(&g->grow_mutex);
	for (i = 0; i < g->nr_frames; i++)
		xenpv_hv->unmap(g->frames[i]);
	spin_lock_irqsave(&g->lock, flags);
	g->nr_frames = 0;
	WRITE_ONCE(g->nr_refs, 0);
	g->max_frames = 0;
	g->nr_free = 0;
	g->nr_in_use = 0;
	g->nr_leaked = 0;
	g->exhausted = 0;
	spin_unlock_irqrestore(&g->lock, flags);
	mutex_unlock(&g->grow_mutex);

	bitmap_free(g->free_map);
	g->free_map = NULL;
	kvfree(g->state);
	g->state = NULL;
	kfree(g->frames);
	g->frames = NULL;
}

/**
 * xenpv_grant_set_retry_delay() - change the delay between deferred passes
 * @delay: jiffies; the KUnit suites set a long one and run the passes
 *	themselves
 *
 * Context: any, after xenpv_grant_init() (which sets the default).
 */
void xenpv_grant_set_retry_delay(unsigned long delay)
{
	unsigned long flags;

	spin_lock_irqsave(&xenpv_gnt.lock, flags);
	xenpv_gnt.retry_delay = delay;
	spin_unlock_irqrestore(&xenpv_gnt.lock, flags);
}

/**
 * xenpv_grant_flush_work() - run pending growth and deferred passes now
 *
 * Context: process context; may sleep.
 */
void xenpv_grant_flush_work(void)
{
	flush_work(&xenpv_gnt.grow_work);
	flush_delayed_work(&xenpv_gnt.defer_work);
}
