// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: granting access, and taking it back.
 *
 * A v1 entry is introduced by writing domid and frame, a write barrier,
 * then the flags; Xen reads them in the opposite order. It is taken back
 * by clearing the flags with cmpxchg, which succeeds only while Xen has set
 * neither GTF_reading nor GTF_writing (the backend has no mapping): Xen sets
 * those bits with cmpxchg too, so one of the two wins cleanly.
 *
 * A revoke that finds the backend still mapping the page does not free it
 * (XSA-396): the ref and the page go to a deferred list that a delayed work
 * item retries, XENPV_GRANT_DEFER_TRIES times, after which both are leaked
 * for good with a warning naming the ref and the domain.
 */

#include <linux/bug.h>
#include <linux/gfp.h>
#include <linux/limits.h>
#include <linux/mm.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <xenpv/compat.h>

#include "grant.h"

/**
 * xenpv_gnt_clear_entry() - end a v1 grant unless it is mapped
 * @ref: a ref of the mapped frames
 *
 * Context: any; no lock needed beyond owning @ref (or holding it deferred).
 * Return: 0 when the entry is now invalid, -EBUSY when the backend maps
 * it (nothing changed), -EINVAL when it granted nothing.
 */
int xenpv_gnt_clear_entry(grant_ref_t ref)
{
	struct grant_entry_v1 *e = xenpv_gnt_entry(ref);
	u16 flags = READ_ONCE(e->flags), old;

	for (;;) {
		if ((flags & GTF_type_mask) != GTF_permit_access)
			return -EINVAL;
		if (flags & (GTF_reading | GTF_writing))
			return -EBUSY;
		old = sync_cmpxchg(&e->flags, flags, 0);
		if (old == flags)
			return 0;
		flags = old;
	}
}

/**
 * xenpv_grant_access() - let a domain access one page through a ref
 * @ref: an owned ref whose entry grants nothing now
 * @domid: the domain (the backend)
 * @gfn: the page's guest frame number (xenpv_page_to_gfn())
 * @readonly: the domain may only read the page
 *
 * Context: any; no lock taken. Only the ref's owner calls it.
 * Return: 0; -EINVAL (with a warning) for a ref that is not owned;
 * -EBUSY (with a warning) when the entry already grants access; -ERANGE
 * for a frame number v1 entries cannot hold (above 32 bits).
 */
int xenpv_grant_access(grant_ref_t ref, domid_t domid, unsigned long gfn,
		       bool readonly)
{
	struct grant_entry_v1 *e;

	if (WARN_ONCE(!xenpv_gnt_owned(ref), "xenpv: granting ref %u, which is not allocated\n",
		      ref))
		return -EINVAL;
	if (gfn > U32_MAX)
		return -ERANGE;
	e = xenpv_gnt_entry(ref);
	if (WARN_ONCE(READ_ONCE(e->flags) & GTF_type_mask,
		      "xenpv: granting ref %u, which already grants access\n",
		      ref))
		return -EBUSY;

	WRITE_ONCE(e->domid, domid);
	WRITE_ONCE(e->frame, gfn);
	/* Xen must see domid and frame before the entry becomes valid. */
	virt_wmb();
	WRITE_ONCE(e->flags, GTF_permit_access | (readonly ? GTF_readonly : 0));
	return 0;
}

XENPV_EXPORT(xenpv_grant_access);

/**
 * xenpv_grant_page() - allocate a ref and grant a page through it
 * @domid: the domain (the backend)
 * @gfn: the page's guest frame number
 * @readonly: the domain may only read the page
 * @ref: the new ref, on success
 *
 * Context: any; takes the table lock.
 * Return: 0, or the error of xenpv_grant_alloc_ref() or
 * xenpv_grant_access().
 */
int xenpv_grant_page(domid_t domid, unsigned long gfn, bool readonly,
		     grant_ref_t *ref)
{
	int rc;

	rc = xenpv_grant_alloc_ref(ref);
	if (rc)
		return rc;
	rc = xenpv_grant_access(*ref, domid, gfn, readonly);
	if (rc)
		xenpv_grant_free_ref(*ref);
	return rc;
}

XENPV_EXPORT(xenpv_grant_page);

/**
 * xenpv_grant_end_access() - take back the access a ref grants
 * @ref: an owned, granted ref; it stays owned either way
 *
 * Succeeds only when the backend has no mapping of the page. A caller that
 * wants the page freed regardless should use xenpv_grant_revoke().
 *
 * Context: any; no lock taken. Only the ref's owner calls it.
 * Return: 0 when the entry grants nothing any more; -EBUSY when the
 * backend still maps the page (the grant stays); -EINVAL (with a warning)
 * for a ref that is not owned or was not granted.
 */
int xenpv_grant_end_access(grant_ref_t ref)
{
	int rc;

	if (WARN_ONCE(!xenpv_gnt_owned(ref), "xenpv: ending ref %u, which is not allocated\n",
		      ref))
		return -EINVAL;
	rc = xenpv_gnt_clear_entry(ref);
	WARN_ONCE(rc == -EINVAL, "xenpv: ending ref %u, which grants nothing\n",
		  ref);
	return rc;
}

XENPV_EXPORT(xenpv_grant_end_access);

/**
 * xenpv_grant_revoke() - end access, free the ref and then the page
 * @ref: an owned ref, granted or not; the caller gives it up
 * @page: the page the ref grants, which the caller gives up too (one
 *	reference, dropped with put_page()); NULL when there is none to free
 *
 * When the backend has no mapping, the entry is cleared, the ref freed and
 * @page put at once. Otherwise nothing is freed now: the ref and @page wait
 * on the deferred list, retried every second or so, and are freed when the
 * backend unmaps; after XENPV_GRANT_DEFER_TRIES failed retries they are
 * leaked for good, with a warning. Either way the caller must not touch
 * @ref or @page again.
 *
 * Context: any; takes the table lock, allocates with GFP_ATOMIC.
 * Return: 0 when freed now; -EINPROGRESS when deferred (or leaked, if the
 * deferral could not be recorded); -EINVAL (with a warning) for a ref that
 * is not owned, in which case the caller keeps @page.
 */
int xenpv_grant_revoke(grant_ref_t ref, struct page *page)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	struct xenpv_gnt_deferred *d;
	unsigned long flags;
	int rc;

	spin_lock_irqsave(&g->lock, flags);
	if (ref >= g->nr_refs || g->state[ref] != XENPV_GNT_OWNED) {
		spin_unlock_irqrestore(&g->lock, flags);
		WARN_ONCE(1, "xenpv: revoking ref %u, which is not allocated\n",
			  ref);
		return -EINVAL;
	}
	rc = xenpv_gnt_clear_entry(ref);
	if (rc != -EBUSY) {
		/* Cleared now, or never granted: nothing to wait for. */
		xenpv_gnt_set_state_locked(ref, XENPV_GNT_FREE);
		spin_unlock_irqrestore(&g->lock, flags);
		if (page)
			put_page(page);
		return 0;
	}

	d = kzalloc(sizeof(*d), GFP_ATOMIC);
	if (!d) {
		xenpv_gnt_set_state_locked(ref, XENPV_GNT_LEAKED);
		spin_unlock_irqrestore(&g->lock, flags);
		pr_warn("xenpv: grant ref %u still mapped, out of memory to defer it: leaking it and its page\n",
			ref);
		return -EINPROGRESS;
	}
	d->ref = ref;
	d->page = page;
	d->domid = READ_ONCE(xenpv_gnt_entry(ref)->domid);
	xenpv_gnt_set_state_locked(ref, XENPV_GNT_DEFERRED);
	list_add_tail(&d->node, &g->deferred);
	if (g->live)
		schedule_delayed_work(&g->defer_work, g->retry_delay);
	spin_unlock_irqrestore(&g->lock, flags);
	return -EINPROGRESS;
}

XENPV_EXPORT(xenpv_grant_revoke);

/**
 * xenpv_grant_retry_deferred() - one pass over the deferred list
 *
 * Frees what the backends let go of; leaks, with a warning, what failed
 * its last retry; schedules the next pass while entries remain.
 *
 * Context: any; takes the table lock.
 * Return: how many entries remain deferred.
 */
unsigned int xenpv_grant_retry_deferred(void)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	struct xenpv_gnt_deferred *d, *tmp;
	unsigned long flags;
	LIST_HEAD(done);
	unsigned int left;

	spin_lock_irqsave(&g->lock, flags);
	list_for_each_entry_safe(d, tmp, &g->deferred, node) {
		if (xenpv_gnt_clear_entry(d->ref) != -EBUSY) {
			xenpv_gnt_set_state_locked(d->ref, XENPV_GNT_FREE);
			list_move_tail(&d->node, &done);
			continue;
		}
		if (++d->tries < XENPV_GRANT_DEFER_TRIES)
			continue;
		pr_warn("xenpv: grant ref %u: domain %u still maps it after %u retries; leaking it and its page\n",
			d->ref, d->domid, d->tries);
		xenpv_gnt_set_state_locked(d->ref, XENPV_GNT_LEAKED);
		list_del(&d->node);
		kfree(d);
	}
	left = g->nr_deferred;
	if (left && g->live)
		schedule_delayed_work(&g->defer_work, g->retry_delay);
	spin_unlock_irqrestore(&g->lock, flags);

	list_for_each_entry_safe(d, tmp, &done, node) {
		if (d->page)
			put_page(d->page);
		kfree(d);
	}
	return left;
}

/**
 * xenpv_gnt_defer_work() - the periodic pass over the deferred list
 * @work: xenpv_gnt.defer_work
 *
 * Context: process context (system workqueue).
 */
void xenpv_gnt_defer_work(struct work_struct *work)
{
	xenpv_grant_retry_deferred();
}

/**
 * xenpv_gnt_leak_deferred() - give up on every deferred entry, at exit
 *
 * The pages stay allocated: a backend may still reach them.
 *
 * Context: process context, from xenpv_grant_exit(), after the work was
 * cancelled.
 */
void xenpv_gnt_leak_deferred(void)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	struct xenpv_gnt_deferred *d, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&g->lock, flags);
	list_for_each_entry_safe(d, tmp, &g->deferred, node) {
		pr_warn("xenpv: grant ref %u: domain %u still maps it at exit; leaking it and its page\n",
			d->ref, d->domid);
		xenpv_gnt_set_state_locked(d->ref, XENPV_GNT_LEAKED);
		list_del(&d->node);
		kfree(d);
	}
	spin_unlock_irqrestore(&g->lock, flags);
}

/**
 * xenpv_grant_ring_alloc() - allocate a shared ring and grant its pages
 * @domid: the backend
 * @nr_pages: the ring's size in pages (one ref each)
 * @gfp: for the pages (zeroed); GFP_KERNEL normally
 * @vaddr: the ring (virtually and physically contiguous), on success
 * @refs: @nr_pages refs, in page order, on success
 *
 * Every page is granted read-write. Undo with xenpv_grant_ring_free().
 *
 * Context: as @gfp allows; takes the table lock.
 * Return: 0, -EINVAL for no pages, -ENOMEM, or the error of granting.
 */
int xenpv_grant_ring_alloc(domid_t domid, unsigned int nr_pages, gfp_t gfp,
			   void **vaddr, grant_ref_t *refs)
{
	unsigned int i;
	void *ring;
	int rc;

	if (!nr_pages)
		return -EINVAL;
	ring = alloc_pages_exact((size_t)nr_pages << PAGE_SHIFT,
				 gfp | __GFP_ZERO);
	if (!ring)
		return -ENOMEM;
	for (i = 0; i < nr_pages; i++) {
		rc = xenpv_grant_page(domid,
				      xenpv_virt_to_gfn(ring + i * PAGE_SIZE),
				      false, &refs[i]);
		if (rc)
			goto err_revoke;
	}
	*vaddr = ring;
	return 0;

err_revoke:
	/* The pages not granted yet go now; granted ones when revoked. */
	free_pages_exact(ring + i * PAGE_SIZE,
			 (size_t)(nr_pages - i) << PAGE_SHIFT);
	while (i--)
		xenpv_grant_revoke(refs[i], virt_to_page(ring + i * PAGE_SIZE));
	return rc;
}

XENPV_EXPORT(xenpv_grant_ring_alloc);

/**
 * xenpv_grant_ring_free() - revoke a shared ring and free its pages
 * @vaddr: from xenpv_grant_ring_alloc()
 * @nr_pages: as given to it
 * @refs: as returned by it
 *
 * Each page is freed when its grant is gone: at once, or later for pages
 * the backend still maps (see xenpv_grant_revoke()).
 *
 * Context: any; takes the table lock.
 * Return: 0 when everything was freed now, -EINPROGRESS when some page
 * was deferred, -EINVAL when a ref was not owned (its page is leaked).
 */
int xenpv_grant_ring_free(void *vaddr, unsigned int nr_pages,
			  const grant_ref_t *refs)
{
	unsigned int i;
	int rc, ret = 0;

	for (i = 0; i < nr_pages; i++) {
		rc = xenpv_grant_revoke(refs[i],
					virt_to_page(vaddr + i * PAGE_SIZE));
		if (rc && ret != -EINVAL)
			ret = rc;
	}
	return ret;
}

XENPV_EXPORT(xenpv_grant_ring_free);

/**
 * xenpv_grant_pages_alloc() - allocate pages and grant each one
 * @domid: the backend
 * @nr: how many pages
 * @readonly: grant them read-only (data the backend only reads)
 * @pages: @nr entries, the pages, on success
 * @refs: @nr entries, their refs, on success
 *
 * For data pages a frontend keeps granted for a connection's life. Each
 * page is allocated on its own and zeroed, so nothing the guest kept in
 * it before reaches the backend. The table grows first, so that granting
 * never runs out of refs half way. On failure nothing is left: every entry
 * of @pages is NULL and every ref XENPV_GRANT_NO_REF. Undo with
 * xenpv_grant_pages_free().
 *
 * Context: process context, may sleep; takes the table lock.
 * Return: 0, -ENOMEM, or the error of growing the table or of granting.
 */
int xenpv_grant_pages_alloc(domid_t domid, unsigned int nr, bool readonly,
			    struct page **pages, grant_ref_t *refs)
{
	unsigned int i;
	int rc;

	for (i = 0; i < nr; i++) {
		pages[i] = NULL;
		refs[i] = XENPV_GRANT_NO_REF;
	}
	rc = xenpv_grant_grow(nr);
	if (rc)
		return rc;
	for (i = 0; i < nr; i++) {
		pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!pages[i]) {
			rc = -ENOMEM;
			goto err_free_pages;
		}
		rc = xenpv_grant_page(domid, xenpv_page_to_gfn(pages[i]),
				      readonly, &refs[i]);
		if (rc) {
			refs[i] = XENPV_GRANT_NO_REF;
			goto err_free_pages;
		}
	}
	return 0;

err_free_pages:
	xenpv_grant_pages_free(nr, pages, refs);
	return rc;
}

XENPV_EXPORT(xenpv_grant_pages_alloc);

/**
 * xenpv_grant_pages_free() - revoke and free pages granted one by one
 * @nr: entries in @pages and @refs
 * @pages: from xenpv_grant_pages_alloc(); NULL entries are skipped
 * @refs: their refs; a page without one (XENPV_GRANT_NO_REF) is freed
 *
 * A page the backend still maps is freed when its grant is gone (see
 * xenpv_grant_revoke()); it is never reused. Afterwards every entry of
 * @pages is NULL and every ref XENPV_GRANT_NO_REF, so calling it again,
 * or on a partly set up array, is safe.
 *
 * Context: any; takes the table lock.
 */
void xenpv_grant_pages_free(unsigned int nr, struct page **pages,
			    grant_ref_t *refs)
{
	unsigned int i;

	for (i = 0; i < nr; i++) {
		if (pages[i] && refs[i] != XENPV_GRANT_NO_REF)
			xenpv_grant_revoke(refs[i], pages[i]);
		else if (pages[i])
			__free_page(pages[i]);
		pages[i] = NULL;
		refs[i] = XENPV_GRANT_NO_REF;
	}
}

XENPV_EXPORT(xenpv_grant_pages_free);
