// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: grant reference allocation.
 *
 * The free refs are a bitmap over the mapped frames, searched from a
 * cursor that moves on after each allocation, so a ref that just came back
 * is the last to be handed out again. Every ref also has a state byte
 * (free, owned, deferred, leaked), which is how bad frees are caught.
 *
 * Nothing here sleeps. When the free refs run low, an allocation schedules
 * the table's growth on the system workqueue; an allocation that fails
 * counts as an exhaustion event. Waiters are told when refs are free again
 * (after a free or after growth).
 */

#include <linux/bitops.h>
#include <linux/bug.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <xenpv/compat.h>

#include "grant.h"

static unsigned int *xenpv_gnt_counter(u8 state)
{
	switch (state) {
	case XENPV_GNT_FREE:
		return &xenpv_gnt.nr_free;
	case XENPV_GNT_OWNED:
		return &xenpv_gnt.nr_in_use;
	case XENPV_GNT_DEFERRED:
		return &xenpv_gnt.nr_deferred;
	case XENPV_GNT_LEAKED:
		return &xenpv_gnt.nr_leaked;
	}
	return NULL;
}

/* Call the waiters that enough free refs satisfy. Table lock held. */
static void xenpv_gnt_wake_locked(void)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	struct xenpv_grant_waiter *w, *tmp;

	list_for_each_entry_safe(w, tmp, &g->waiters, node) {
		if (w->count > g->nr_free)
			continue;
		list_del_init(&w->node);
		w->queued = false;
		w->fn(w->arg);
	}
}

/**
 * xenpv_gnt_set_state_locked() - move a ref to another state
 * @ref: a ref of the mapped frames
 * @new: its new state
 *
 * Keeps the counters and the free bitmap in step; a ref that becomes free
 * may satisfy a waiter, which is called from here.
 *
 * Context: any; the table lock held.
 */
void xenpv_gnt_set_state_locked(grant_ref_t ref, enum xenpv_gnt_state new)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	u8 old = g->state[ref];
	unsigned int *count;

	count = xenpv_gnt_counter(old);
	if (count)
		(*count)--;
	count = xenpv_gnt_counter(new);
	if (count)
		(*count)++;
	WRITE_ONCE(g->state[ref], new);
	if (old == XENPV_GNT_FREE)
		__clear_bit(ref, g->free_map);
	if (new == XENPV_GNT_FREE) {
		__set_bit(ref, g->free_map);
		xenpv_gnt_wake_locked();
	}
}

/* Schedule growth if the table may grow and is short. Table lock held. */
static void xenpv_gnt_kick_locked(unsigned int want)
{
	struct xenpv_gnt *g = &xenpv_gnt;

	if (g->live && g->nr_free < want && g->nr_frames < g->max_frames)
		schedule_work(&g->grow_work);
}

/* Take @count free refs (all or none) into @refs. Table lock held. */
static int xenpv_gnt_take_locked(grant_ref_t *refs, unsigned int count)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	unsigned long ref;
	unsigned int i;

	if (!g->live)
		return -ENODEV;
	if (g->nr_free < count) {
		g->exhausted++;
		xenpv_gnt_kick_locked(count + XENPV_GRANT_LOW_WATER);
		return -ENOSPC;
	}
	for (i = 0; i < count; i++) {
		ref = find_next_bit(g->free_map, g->nr_refs, g->cursor);
		if (ref >= g->nr_refs)
			ref = find_first_bit(g->free_map, g->nr_refs);
		/* nr_free said there was one: the bitmap disagrees. */
		if (WARN_ON_ONCE(ref >= g->nr_refs))
			goto undo;
		xenpv_gnt_set_state_locked(ref, XENPV_GNT_OWNED);
		refs[i] = ref;
		g->cursor = ref + 1;
	}
	xenpv_gnt_kick_locked(XENPV_GRANT_LOW_WATER);
	return 0;

undo:
	while (i--)
		xenpv_gnt_set_state_locked(refs[i], XENPV_GNT_FREE);
	return -ENOSPC;
}

/**
 * xenpv_grant_alloc_ref() - allocate one grant reference
 * @ref: the ref, on success
 *
 * The ref comes with an invalid (ungranted) entry. When the free refs run
 * low this schedules the table's growth; when there is none left, it fails
 * at once (see xenpv_grant_wait() to learn when to retry).
 *
 * Context: any; takes the table lock.
 * Return: 0, -ENOSPC when no ref is free, -ENODEV before init.
 */
int xenpv_grant_alloc_ref(grant_ref_t *ref)
{
	unsigned long flags;
	int rc;

	spin_lock_irqsave(&xenpv_gnt.lock, flags);
	rc = xenpv_gnt_take_locked(ref, 1);
	spin_unlock_irqrestore(&xenpv_gnt.lock, flags);
	return rc;
}

XENPV_EXPORT(xenpv_grant_alloc_ref);

/**
 * xenpv_grant_free_ref() - give an owned, ungranted ref back
 * @ref: from xenpv_grant_alloc_ref() or a pool
 *
 * A ref that still grants access must be ended first
 * (xenpv_grant_end_access()), or handed to xenpv_grant_revoke() instead.
 *
 * Context: any; takes the table lock (waiter callbacks may run under it).
 * Return: 0; -EINVAL (with a warning) for a ref that is not owned: out of
 * range, reserved, already free, or deferred; -EBUSY (with a warning) when
 * the entry is still granted, in which case the ref stays owned.
 */
int xenpv_grant_free_ref(grant_ref_t ref)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	unsigned long flags;
	int rc = 0;

	spin_lock_irqsave(&g->lock, flags);
	if (ref >= g->nr_refs || g->state[ref] != XENPV_GNT_OWNED)
		rc = -EINVAL;
	else if (READ_ONCE(xenpv_gnt_entry(ref)->flags) & GTF_type_mask)
		rc = -EBUSY;
	else
		xenpv_gnt_set_state_locked(ref, XENPV_GNT_FREE);
	spin_unlock_irqrestore(&g->lock, flags);

	WARN_ONCE(rc == -EINVAL, "xenpv: freeing grant ref %u, which is not allocated\n",
		  ref);
	WARN_ONCE(rc == -EBUSY, "xenpv: freeing grant ref %u, which is still granted\n",
		  ref);
	return rc;
}

XENPV_EXPORT(xenpv_grant_free_ref);

/**
 * xenpv_grant_grow() - make sure some refs are free, growing the table
 * @count: how many free refs are wanted
 *
 * Maps more grant frames until at least @count refs are free. Frontends
 * call it where they may sleep (e.g. when connecting), so that their
 * atomic-context allocations find the refs. The refs are not set aside:
 * others may take them.
 *
 * Context: process context; may sleep.
 * Return: 0, -ENOSPC when the table reached its limit first, -ENODEV
 * before init, or -EIO/-ENOMEM when mapping a frame failed.
 */
int xenpv_grant_grow(unsigned int count)
{
	return xenpv_gnt_grow(count);
}

XENPV_EXPORT(xenpv_grant_grow);

/**
 * xenpv_gnt_grow_work() - growth for allocators that cannot sleep
 * @work: xenpv_gnt.grow_work
 *
 * Grows until the low-water mark and the largest waiter are satisfied, or
 * to the limit; the refs that appear wake the waiters.
 *
 * Context: process context (system workqueue).
 */
void xenpv_gnt_grow_work(struct work_struct *work)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	struct xenpv_grant_waiter *w;
	unsigned int want = XENPV_GRANT_LOW_WATER;
	unsigned long flags;

	spin_lock_irqsave(&g->lock, flags);
	list_for_each_entry(w, &g->waiters, node)
		want = max(want, w->count + XENPV_GRANT_LOW_WATER);
	spin_unlock_irqrestore(&g->lock, flags);
	xenpv_gnt_grow(want);
}

/**
 * xenpv_grant_pool_init() - prepare an empty pool
 * @pool: the pool
 * @size: the most refs it will hold
 * @gfp: for the pool's array
 *
 * Context: as @gfp allows.
 * Return: 0, -EINVAL for @size 0, -ENOMEM.
 */
int xenpv_grant_pool_init(struct xenpv_grant_pool *pool, unsigned int size,
			  gfp_t gfp)
{
	pool->nr = 0;
	pool->size = 0;
	if (!size)
		return -EINVAL;
	pool->refs = kcalloc(size, sizeof(*pool->refs), gfp);
	if (!pool->refs)
		return -ENOMEM;
	pool->size = size;
	return 0;
}

XENPV_EXPORT(xenpv_grant_pool_init);

/**
 * xenpv_grant_pool_fill() - move refs from the table into a pool
 * @pool: the pool
 * @count: how many refs to add: all of them or none
 *
 * Context: any; takes the table lock. The caller serialises calls on
 * @pool.
 * Return: 0, -EINVAL when @count does not fit in the pool, -ENOSPC when
 * fewer than @count refs are free (growth is scheduled; see
 * xenpv_grant_wait()), -ENODEV before init.
 */
int xenpv_grant_pool_fill(struct xenpv_grant_pool *pool, unsigned int count)
{
	unsigned long flags;
	int rc;

	if (count > pool->size - pool->nr)
		return -EINVAL;
	spin_lock_irqsave(&xenpv_gnt.lock, flags);
	rc = xenpv_gnt_take_locked(pool->refs + pool->nr, count);
	spin_unlock_irqrestore(&xenpv_gnt.lock, flags);
	if (!rc)
		pool->nr += count;
	return rc;
}

XENPV_EXPORT(xenpv_grant_pool_fill);

/**
 * xenpv_grant_pool_claim() - take one ref out of a pool
 * @pool: the pool
 * @ref: the ref, which the caller now owns like an allocated one
 *
 * Context: any; no lock taken. The caller serialises calls on @pool.
 * Return: 0, or -ENOSPC when the pool is empty.
 */
int xenpv_grant_pool_claim(struct xenpv_grant_pool *pool, grant_ref_t *ref)
{
	if (!pool->nr)
		return -ENOSPC;
	*ref = pool->refs[--pool->nr];
	return 0;
}

XENPV_EXPORT(xenpv_grant_pool_claim);

/**
 * xenpv_grant_pool_put() - return a claimed, ungranted ref to a pool
 * @pool: the pool
 * @ref: an owned ref whose access has ended
 *
 * When the pool is full the ref goes back to the table. A ref that is not
 * owned, or is still granted, is refused with a warning (and, if owned,
 * stays owned: a granted entry is never recycled).
 *
 * Context: any; takes the table lock only when the pool is full. The
 * caller serialises calls on @pool.
 */
void xenpv_grant_pool_put(struct xenpv_grant_pool *pool, grant_ref_t ref)
{
	if (WARN_ONCE(!xenpv_gnt_owned(ref),
		      "xenpv: grant ref %u put in a pool, but not allocated\n",
		      ref))
		return;
	if (WARN_ONCE(READ_ONCE(xenpv_gnt_entry(ref)->flags) & GTF_type_mask,
		      "xenpv: grant ref %u put in a pool while still granted\n",
		      ref))
		return;
	if (pool->nr < pool->size)
		pool->refs[pool->nr++] = ref;
	else
		xenpv_grant_free_ref(ref);
}

XENPV_EXPORT(xenpv_grant_pool_put);

/**
 * xenpv_grant_pool_drain() - give every ref of a pool back to the table
 * @pool: the pool; stays usable (empty)
 *
 * Context: any; takes the table lock. The caller serialises calls on
 * @pool.
 */
void xenpv_grant_pool_drain(struct xenpv_grant_pool *pool)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	unsigned long flags;
	grant_ref_t ref;

	spin_lock_irqsave(&g->lock, flags);
	while (pool->nr) {
		ref = pool->refs[--pool->nr];
		if (WARN_ON_ONCE(ref >= g->nr_refs ||
				 g->state[ref] != XENPV_GNT_OWNED))
			continue;
		xenpv_gnt_set_state_locked(ref, XENPV_GNT_FREE);
	}
	spin_unlock_irqrestore(&g->lock, flags);
}

XENPV_EXPORT(xenpv_grant_pool_drain);

/**
 * xenpv_grant_pool_destroy() - drain a pool and free its array
 * @pool: the pool; must be initialised again before any other use
 *
 * Context: any; takes the table lock.
 */
void xenpv_grant_pool_destroy(struct xenpv_grant_pool *pool)
{
	if (!pool->refs)
		return;
	xenpv_grant_pool_drain(pool);
	kfree(pool->refs);
	pool->refs = NULL;
	pool->size = 0;
}

XENPV_EXPORT(xenpv_grant_pool_destroy);

/**
 * xenpv_grant_wait() - be called back when refs are free
 * @w: zeroed before its first use, then reusable; must stay allocated
 *	until @fn ran or xenpv_grant_wait_cancel() returned
 * @fn: called once, when at least @count refs are free
 * @arg: for @fn
 * @count: how many; 1 to ~the table's size
 *
 * For a driver whose allocation failed: it stops and retries from @fn.
 * If enough refs are already free, @fn runs before this returns; otherwise
 * the table's growth is scheduled. Registering a waiter that is already
 * queued changes nothing.
 *
 * @fn runs with the table lock held and interrupts off: it must not call
 * any xenpv_grant_ function, and should only kick the driver (schedule
 * work, restart a queue, schedule NAPI).
 *
 * Context: any; takes the table lock.
 */
void xenpv_grant_wait(struct xenpv_grant_waiter *w, void (*fn)(void *arg),
		      void *arg, unsigned int count)
{
	struct xenpv_gnt *g = &xenpv_gnt;
	unsigned long flags;

	spin_lock_irqsave(&g->lock, flags);
	if (w->queued)
		goto out_unlock;
	w->fn = fn;
	w->arg = arg;
	w->count = max(count, 1U);
	w->queued = true;
	list_add_tail(&w->node, &g->waiters);
	xenpv_gnt_kick_locked(w->count);
	xenpv_gnt_wake_locked();
out_unlock:
	spin_unlock_irqrestore(&g->lock, flags);
}

XENPV_EXPORT(xenpv_grant_wait);

/**
 * xenpv_grant_wait_cancel() - withdraw a waiter
 * @w: registered with xenpv_grant_wait(), or not queued at all
 *
 * When this returns, @w's callback is not running and will not run.
 *
 * Context: any; takes the table lock. Not from within a waiter callback.
 */
void xenpv_grant_wait_cancel(struct xenpv_grant_waiter *w)
{
	unsigned long flags;

	spin_lock_irqsave(&xenpv_gnt.lock, flags);
	if (w->queued) {
		list_del_init(&w->node);
		w->queued = false;
	}
	spin_unlock_irqrestore(&xenpv_gnt.lock, flags);
}

XENPV_EXPORT(xenpv_grant_wait_cancel);

/**
 * xenpv_gnt_drop_waiters() - forget the waiters at exit
 *
 * Their drivers should have cancelled them; they are never called.
 *
 * Context: process context, from xenpv_grant_exit().
 */
void xenpv_gnt_drop_waiters(void)
{
	struct xenpv_grant_waiter *w, *tmp;
	unsigned long flags;

	spin_lock_irqsave(&xenpv_gnt.lock, flags);
	list_for_each_entry_safe(w, tmp, &xenpv_gnt.waiters, node) {
		WARN_ONCE(1, "xenpv: grant waiter %ps still queued at exit\n",
			  w->fn);
		list_del_init(&w->node);
		w->queued = false;
	}
	spin_unlock_irqrestore(&xenpv_gnt.lock, flags);
}
