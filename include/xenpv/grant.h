/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv: grant tables (version 1).
 *
 * A grant reference ("ref") names one entry of this guest's grant table.
 * Granting writes the entry so that one other domain (the backend) may map
 * or copy one page of ours; ending access clears it again, which Xen
 * allows only while the backend has no mapping of the page.
 *
 * Ownership of a ref:
 *   free      in the table's free set; nobody may touch it
 *   owned     returned by xenpv_grant_alloc_ref() or a pool; only the
 *             owner grants, ends or frees it
 *   deferred  handed to xenpv_grant_revoke() while the backend still
 *             mapped it; the layer retries and frees it (and its page)
 *             when the backend lets go, or leaks both for good when it
 *             never does (XSA-396: a page a backend can still reach is
 *             never given back to the allocator)
 *
 * Refs 0..GNTTAB_NR_RESERVED_ENTRIES-1 belong to the toolstack (console,
 * xenstore) and are never handed out.
 *
 * Contexts: nothing here sleeps except xenpv_grant_grow(),
 * xenpv_grant_pool_init() with a sleeping @gfp, and the ring helpers with
 * a sleeping @gfp. The table grows (maps more frames) only in process
 * context: an allocation in atomic context that finds the table short
 * schedules the growth and fails with -ENOSPC; register a waiter to learn
 * when refs are available again.
 *
 * Errors: bad arguments (a ref out of range, a double free, ending a ref
 * that was never granted) give -EINVAL and a one-time warning, never a
 * crash.
 */
#ifndef _XENPV_GRANT_H
#define _XENPV_GRANT_H

#include <linux/gfp.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/types.h>
#include <xen/interface/xen.h>
#include <xen/interface/grant_table.h>

/* For xenpv.ko's platform code. */
int xenpv_grant_init(unsigned long gpfn_base, unsigned int nr_gpfns);
void xenpv_grant_exit(void);

/**
 * struct xenpv_grant_stats - a snapshot of the grant table's counters
 * @frames: grant frames mapped
 * @max_frames: the most frames the table may grow to
 * @refs_free: refs ready to be allocated (in the mapped frames)
 * @refs_in_use: refs owned by a caller (pools included)
 * @refs_deferred: refs revoked while a backend still mapped them, retried
 * @refs_leaked: refs given up for good (a backend never unmapped them, or
 *	found still granted when the table was mapped); their pages are
 *	never freed
 * @exhausted: allocations that found no free ref
 */
struct xenpv_grant_stats {
	unsigned int frames;
	unsigned int max_frames;
	unsigned int refs_free;
	unsigned int refs_in_use;
	unsigned int refs_deferred;
	unsigned int refs_leaked;
	unsigned long exhausted;
};

void xenpv_grant_get_stats(struct xenpv_grant_stats *st);

/* Single refs. */
int xenpv_grant_alloc_ref(grant_ref_t *ref);
int xenpv_grant_free_ref(grant_ref_t ref);
int xenpv_grant_grow(unsigned int count);

/**
 * struct xenpv_grant_pool - refs set aside by one user
 * @refs: the refs held, @nr of them at the front
 * @nr: how many refs the pool holds now
 * @size: how many it can hold
 *
 * A pool is private to its user, who serialises calls on it; the grant
 * table's lock is taken only to move refs between the table and the pool.
 * Every ref in a pool is owned (counted in use) but not granted.
 */
struct xenpv_grant_pool {
	grant_ref_t *refs;
	unsigned int nr;
	unsigned int size;
};

int xenpv_grant_pool_init(struct xenpv_grant_pool *pool, unsigned int size,
			  gfp_t gfp);
int xenpv_grant_pool_fill(struct xenpv_grant_pool *pool, unsigned int count);
int xenpv_grant_pool_claim(struct xenpv_grant_pool *pool, grant_ref_t *ref);
void xenpv_grant_pool_put(struct xenpv_grant_pool *pool, grant_ref_t ref);
void xenpv_grant_pool_drain(struct xenpv_grant_pool *pool);
void xenpv_grant_pool_destroy(struct xenpv_grant_pool *pool);

/**
 * struct xenpv_grant_waiter - a request to be told when refs come free
 * @node: in the table's waiter list (private)
 * @fn: called once, when at least @count refs are free
 * @arg: passed to @fn
 * @count: how many free refs @fn wants
 * @queued: registered and not yet called (private)
 *
 * Embed it in the driver's structure; zero it before first use.
 */
struct xenpv_grant_waiter {
	struct list_head node;
	void (*fn)(void *arg);
	void *arg;
	unsigned int count;
	bool queued;
};

void xenpv_grant_wait(struct xenpv_grant_waiter *w, void (*fn)(void *arg),
		      void *arg, unsigned int count);
void xenpv_grant_wait_cancel(struct xenpv_grant_waiter *w);

/* Access. */
int xenpv_grant_access(grant_ref_t ref, domid_t domid, unsigned long gfn,
		       bool readonly);
int xenpv_grant_page(domid_t domid, unsigned long gfn, bool readonly,
		     grant_ref_t *ref);
int xenpv_grant_end_access(grant_ref_t ref);
int xenpv_grant_revoke(grant_ref_t ref, struct page *page);

/* Pages granted one by one, for a connection's life. */
#define XENPV_GRANT_NO_REF	((grant_ref_t)~0U)	/* none held */
int xenpv_grant_pages_alloc(domid_t domid, unsigned int nr, bool readonly,
			    struct page **pages, grant_ref_t *refs);
void xenpv_grant_pages_free(unsigned int nr, struct page **pages,
			    grant_ref_t *refs);

/* Shared rings of one or more pages. */
int xenpv_grant_ring_alloc(domid_t domid, unsigned int nr_pages, gfp_t gfp,
			   void **vaddr, grant_ref_t *refs);
int xenpv_grant_ring_free(void *vaddr, unsigned int nr_pages,
			  const grant_ref_t *refs);

/**
 * xenpv_page_to_gfn() - the frame number to grant for a page
 * @page: a page of this guest's memory
 *
 * An HVM guest grants its own physical frames (Xen translates them), so
 * the gfn is the pfn.
 *
 * Context: any.
 * Return: the guest frame number of @page.
 */
static inline unsigned long xenpv_page_to_gfn(struct page *page)
{
	return page_to_pfn(page);
}

/**
 * xenpv_virt_to_gfn() - the frame number to grant for a kernel address
 * @va: an address in the kernel's linear map (kmalloc, page allocator;
 *	not vmalloc)
 *
 * Context: any.
 * Return: the guest frame number of the page holding @va.
 */
static inline unsigned long xenpv_virt_to_gfn(const void *va)
{
	return xenpv_page_to_gfn(virt_to_page(va));
}

#endif /* _XENPV_GRANT_H */
