// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the grant layer (grant/) against the simulated hypervisor, and
 * the simulation's grant table and backend themselves.
 *
 * The deferred-revoke work is driven by hand: each case sets a retry delay
 * far longer than the case runs and calls the retry pass (or flushes the
 * work) itself, so the number of passes is exact.
 */

#include <kunit/test.h>
#include <linux/bitmap.h>
#include <linux/err.h>
#include <linux/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <xen/interface/xen.h>
#include <xen/interface/grant_table.h>
#include <xen/interface/memory.h>
#include <xenpv/grant.h>
#include <xenpv/hypervisor.h>

#include "../grant/grant.h"
#include "sim/sim.h"

#define GT_GPFN_BASE	0x80000UL
#define GT_BACKEND	0	/* the backend's domain */
#define GT_OTHER	3	/* a domain the grant is not for */
#define GT_PER_FRAME	((unsigned int)XENPV_GRANT_PER_FRAME)
#define GT_RESERVED	GNTTAB_NR_RESERVED_ENTRIES
#define GT_LONG_DELAY	(3600 * HZ)

struct gt_ctx {
	struct xenpv_sim *sim;
	unsigned int fired;
	void *fired_arg;
};

static int gt_init(struct kunit *test)
{
	struct gt_ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);

	if (!c)
		return -ENOMEM;
	c->sim = xenpv_sim_start(test);
	if (!c->sim)
		return -ENOMEM;
	test->priv = c;
	return 0;
}

static void gt_exit(struct kunit *test)
{
	struct gt_ctx *c = test->priv;

	xenpv_grant_exit();
	xenpv_sim_grant_free(c->sim);
	xenpv_sim_stop(c->sim);
}

/* Start the layer on a table of at most @max frames (Xen) and @nr (BAR). */
static void gt_start(struct kunit *test, unsigned int max, unsigned int nr)
{
	struct gt_ctx *c = test->priv;

	c->sim->gnt_max_frames = max;
	KUNIT_ASSERT_EQ(test, xenpv_grant_init(GT_GPFN_BASE, nr), 0);
	xenpv_grant_set_retry_delay(GT_LONG_DELAY);
}

static struct xenpv_grant_stats gt_stats(void)
{
	struct xenpv_grant_stats st;

	xenpv_grant_get_stats(&st);
	return st;
}

static struct grant_entry_v1 *gt_entry(struct kunit *test, grant_ref_t ref)
{
	struct gt_ctx *c = test->priv;
	struct grant_entry_v1 *e = xenpv_sim_grant_entry(c->sim, ref);

	KUNIT_ASSERT_NOT_NULL(test, e);
	return e;
}

static void gt_waiter_fn(void *arg)
{
	struct gt_ctx *c = arg;

	c->fired++;
	c->fired_arg = arg;
}

/* A page the test keeps one reference to, so its freeing shows. */
static struct page *gt_page(struct kunit *test)
{
	struct page *page = alloc_page(GFP_KERNEL | __GFP_ZERO);

	KUNIT_ASSERT_NOT_NULL(test, page);
	get_page(page);
	return page;
}

/* Allocate every free ref into @refs (room for @max); return how many. */
static unsigned int gt_alloc_all(struct kunit *test, grant_ref_t *refs,
				 unsigned int max)
{
	unsigned int n = 0;
	grant_ref_t ref;

	while (n < max && !xenpv_grant_alloc_ref(&ref))
		refs[n++] = ref;
	return n;
}

/* ---- init ---- */

static void grant_init_maps_frames(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	struct xenpv_grant_stats st;
	unsigned int i;

	gt_start(test, 0, 64);
	st = gt_stats();
	KUNIT_EXPECT_EQ(test, st.frames, (unsigned int)XENPV_GRANT_INIT_FRAMES);
	KUNIT_EXPECT_EQ(test, st.max_frames, (unsigned int)XENPV_SIM_GNT_FRAMES);
	KUNIT_EXPECT_EQ(test, st.refs_free,
			XENPV_GRANT_INIT_FRAMES * GT_PER_FRAME - GT_RESERVED);
	KUNIT_EXPECT_EQ(test, st.refs_in_use, 0u);
	KUNIT_EXPECT_EQ(test, c->sim->calls[__HYPERVISOR_grant_table_op], 1u);
	/* Frame i sits at gpfn_base + i and is Xen's frame i. */
	for (i = 0; i < XENPV_GRANT_INIT_FRAMES; i++)
		KUNIT_EXPECT_PTR_EQ(test, xenpv_hv->map_gpfn(GT_GPFN_BASE + i, 1),
				    c->sim->gnt_frames[i]);
	KUNIT_EXPECT_NULL(test, xenpv_hv->map_gpfn(GT_GPFN_BASE + i, 1));
	KUNIT_EXPECT_EQ(test, xenpv_grant_init(GT_GPFN_BASE, 64), -EBUSY);
}

static void grant_init_failures(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	struct xenpv_grant_stats st;
	grant_ref_t ref;

	KUNIT_EXPECT_EQ(test, xenpv_grant_init(0, 8), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_grant_init(GT_GPFN_BASE, 0), -EINVAL);

	c->sim->fail_nr = __HYPERVISOR_grant_table_op;
	c->sim->fail_rc = -38;
	KUNIT_EXPECT_EQ(test, xenpv_grant_init(GT_GPFN_BASE, 8), -EIO);

	/* Xen refuses the first frame: nothing is left behind. */
	c->sim->fail_nr = __HYPERVISOR_memory_op;
	c->sim->fail_rc = -22;
	KUNIT_EXPECT_EQ(test, xenpv_grant_init(GT_GPFN_BASE, 8), -EIO);
	st = gt_stats();
	KUNIT_EXPECT_EQ(test, st.frames, 0u);
	KUNIT_EXPECT_EQ(test, st.refs_free, 0u);
	KUNIT_EXPECT_EQ(test, xenpv_grant_alloc_ref(&ref), -ENODEV);

	/* And a clean start works afterwards. */
	gt_start(test, 0, 8);
	KUNIT_EXPECT_EQ(test, xenpv_grant_alloc_ref(&ref), 0);
	KUNIT_EXPECT_GE(test, ref, (grant_ref_t)GT_RESERVED);
}

/* ---- allocation ---- */

static void grant_alloc_exhaustion(struct kunit *test)
{
	const unsigned int nr = GT_PER_FRAME - GT_RESERVED;
	unsigned long *seen;
	grant_ref_t *refs, ref;
	unsigned int i, n;

	gt_start(test, 1, 1);
	refs = kunit_kcalloc(test, GT_PER_FRAME, sizeof(*refs), GFP_KERNEL);
	seen = kunit_kzalloc(test, BITS_TO_LONGS(GT_PER_FRAME) * sizeof(long),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, refs);
	KUNIT_ASSERT_NOT_NULL(test, seen);

	n = gt_alloc_all(test, refs, GT_PER_FRAME);
	KUNIT_ASSERT_EQ(test, n, nr);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_GE(test, refs[i], (grant_ref_t)GT_RESERVED);
		KUNIT_ASSERT_LT(test, refs[i], (grant_ref_t)GT_PER_FRAME);
		KUNIT_EXPECT_FALSE(test, test_and_set_bit(refs[i], seen));
	}
	/* gt_alloc_all() ended on one failure; this is the second. */
	KUNIT_EXPECT_EQ(test, xenpv_grant_alloc_ref(&ref), -ENOSPC);
	KUNIT_EXPECT_EQ(test, gt_stats().exhausted, 2ul);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, nr);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_free, 0u);
	/* The table cannot grow: no frame appears later either. */
	xenpv_grant_flush_work();
	KUNIT_EXPECT_EQ(test, gt_stats().frames, 1u);

	/* The one ref freed is the one handed out next. */
	KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(refs[17]), 0);
	KUNIT_EXPECT_EQ(test, xenpv_grant_alloc_ref(&ref), 0);
	KUNIT_EXPECT_EQ(test, ref, refs[17]);

	for (i = 0; i < n; i++)
		KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(refs[i]), 0);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 0u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_free, nr);
}

/* A freed ref is not handed out again while others are free. */
static void grant_alloc_rotates(struct kunit *test)
{
	grant_ref_t a, b;

	gt_start(test, 1, 1);
	KUNIT_ASSERT_EQ(test, xenpv_grant_alloc_ref(&a), 0);
	KUNIT_ASSERT_EQ(test, xenpv_grant_free_ref(a), 0);
	KUNIT_ASSERT_EQ(test, xenpv_grant_alloc_ref(&b), 0);
	KUNIT_EXPECT_NE(test, a, b);
}

static void grant_waiter_fires(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	struct xenpv_grant_waiter w = {}, w2 = {};
	grant_ref_t *refs, ref;
	unsigned int n;

	gt_start(test, 1, 1);
	refs = kunit_kcalloc(test, GT_PER_FRAME, sizeof(*refs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, refs);
	n = gt_alloc_all(test, refs, GT_PER_FRAME);
	KUNIT_ASSERT_EQ(test, xenpv_grant_alloc_ref(&ref), -ENOSPC);

	xenpv_grant_wait(&w, gt_waiter_fn, c, 2);
	KUNIT_EXPECT_EQ(test, c->fired, 0u);
	KUNIT_ASSERT_EQ(test, xenpv_grant_free_ref(refs[--n]), 0);
	KUNIT_EXPECT_EQ(test, c->fired, 0u);
	KUNIT_ASSERT_EQ(test, xenpv_grant_free_ref(refs[--n]), 0);
	KUNIT_EXPECT_EQ(test, c->fired, 1u);
	KUNIT_EXPECT_PTR_EQ(test, c->fired_arg, (void *)c);
	/* Once only. */
	KUNIT_ASSERT_EQ(test, xenpv_grant_free_ref(refs[--n]), 0);
	KUNIT_EXPECT_EQ(test, c->fired, 1u);

	/* Enough free already: it runs at once. */
	xenpv_grant_wait(&w, gt_waiter_fn, c, 3);
	KUNIT_EXPECT_EQ(test, c->fired, 2u);
	KUNIT_EXPECT_FALSE(test, w.queued);

	/* A cancelled waiter is never called. */
	n += gt_alloc_all(test, refs + n, GT_PER_FRAME - n);
	xenpv_grant_wait(&w, gt_waiter_fn, c, 1);
	xenpv_grant_wait(&w2, gt_waiter_fn, c, 1);
	xenpv_grant_wait_cancel(&w);
	KUNIT_ASSERT_EQ(test, xenpv_grant_free_ref(refs[--n]), 0);
	KUNIT_EXPECT_EQ(test, c->fired, 3u);
	KUNIT_EXPECT_FALSE(test, w.queued);
	KUNIT_EXPECT_FALSE(test, w2.queued);

	while (n)
		KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(refs[--n]), 0);
	KUNIT_EXPECT_EQ(test, c->fired, 3u);
}

static void grant_pool_batch(struct kunit *test)
{
	struct xenpv_grant_pool pool;
	unsigned long *seen;
	grant_ref_t refs[16], ref, *all;
	unsigned int i, n, free;

	gt_start(test, 1, 1);
	seen = kunit_kzalloc(test, BITS_TO_LONGS(GT_PER_FRAME) * sizeof(long),
			     GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, seen);
	KUNIT_ASSERT_EQ(test, xenpv_grant_pool_init(&pool, 16, GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, xenpv_grant_pool_fill(&pool, 17), -EINVAL);
	KUNIT_ASSERT_EQ(test, xenpv_grant_pool_fill(&pool, 16), 0);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 16u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_free,
			GT_PER_FRAME - GT_RESERVED - 16);

	for (i = 0; i < 16; i++) {
		KUNIT_ASSERT_EQ(test, xenpv_grant_pool_claim(&pool, &refs[i]), 0);
		KUNIT_EXPECT_FALSE(test, test_and_set_bit(refs[i], seen));
	}
	KUNIT_EXPECT_EQ(test, xenpv_grant_pool_claim(&pool, &ref), -ENOSPC);

	/* A claimed ref goes back into the pool; a full pool refuses more. */
	xenpv_grant_pool_put(&pool, refs[15]);
	KUNIT_EXPECT_EQ(test, pool.nr, 1u);
	KUNIT_EXPECT_EQ(test, xenpv_grant_pool_fill(&pool, 16), -EINVAL);
	xenpv_grant_pool_drain(&pool);
	KUNIT_EXPECT_EQ(test, pool.nr, 0u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 15u);
	for (i = 0; i < 15; i++)
		KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(refs[i]), 0);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 0u);

	/* All or nothing: 10 wanted, 5 free, none taken. */
	all = kunit_kcalloc(test, GT_PER_FRAME, sizeof(*all), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, all);
	n = gt_alloc_all(test, all, GT_PER_FRAME - GT_RESERVED - 5);
	free = gt_stats().refs_free;
	KUNIT_ASSERT_EQ(test, free, 5u);
	KUNIT_EXPECT_EQ(test, xenpv_grant_pool_fill(&pool, 10), -ENOSPC);
	KUNIT_EXPECT_EQ(test, pool.nr, 0u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_free, 5u);
	KUNIT_EXPECT_EQ(test, gt_stats().exhausted, 1ul);
	KUNIT_EXPECT_EQ(test, xenpv_grant_pool_fill(&pool, 5), 0);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_free, 0u);

	xenpv_grant_pool_destroy(&pool);
	KUNIT_EXPECT_NULL(test, pool.refs);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_free, 5u);
	while (n)
		KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(all[--n]), 0);
}

/* ---- growing the table ---- */

static void grant_grow_to_limit(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	const unsigned int max = 6, all = max * GT_PER_FRAME - GT_RESERVED;
	grant_ref_t *refs, ref;
	unsigned int n;

	gt_start(test, max, 8);
	KUNIT_EXPECT_EQ(test, gt_stats().frames, 4u);
	KUNIT_EXPECT_EQ(test, gt_stats().max_frames, max);

	KUNIT_EXPECT_EQ(test, xenpv_grant_grow(4 * GT_PER_FRAME), 0);
	KUNIT_EXPECT_EQ(test, gt_stats().frames, 5u);
	KUNIT_EXPECT_PTR_EQ(test, xenpv_hv->map_gpfn(GT_GPFN_BASE + 4, 1),
			    c->sim->gnt_frames[4]);

	/* Past the limit: as far as it goes, then a clean failure. */
	KUNIT_EXPECT_EQ(test, xenpv_grant_grow(all + 1), -ENOSPC);
	KUNIT_EXPECT_EQ(test, gt_stats().frames, max);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_free, all);
	KUNIT_EXPECT_EQ(test, c->sim->gnt_nr_frames, max);

	refs = kunit_kcalloc(test, all + 1, sizeof(*refs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, refs);
	n = gt_alloc_all(test, refs, all + 1);
	KUNIT_EXPECT_EQ(test, n, all);
	KUNIT_EXPECT_EQ(test, xenpv_grant_alloc_ref(&ref), -ENOSPC);
	xenpv_grant_flush_work();
	KUNIT_EXPECT_EQ(test, gt_stats().frames, max);
	while (n)
		KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(refs[--n]), 0);
}

/* The BAR, not Xen, may be the limit. */
static void grant_grow_limited_by_bar(struct kunit *test)
{
	gt_start(test, 0, 2);
	KUNIT_EXPECT_EQ(test, gt_stats().frames, 2u);
	KUNIT_EXPECT_EQ(test, gt_stats().max_frames, 2u);
	KUNIT_EXPECT_EQ(test, xenpv_grant_grow(2 * GT_PER_FRAME), -ENOSPC);
	KUNIT_EXPECT_EQ(test, gt_stats().frames, 2u);
}

static void grant_grow_fails_in_xen(struct kunit *test)
{
	struct gt_ctx *c = test->priv;

	gt_start(test, 0, 8);
	c->sim->fail_nr = __HYPERVISOR_memory_op;
	c->sim->fail_rc = -12;
	KUNIT_EXPECT_EQ(test, xenpv_grant_grow(5 * GT_PER_FRAME), -EIO);
	KUNIT_EXPECT_EQ(test, gt_stats().frames, 4u);
	/* The next attempt succeeds. */
	KUNIT_EXPECT_EQ(test, xenpv_grant_grow(5 * GT_PER_FRAME), 0);
	KUNIT_EXPECT_EQ(test, gt_stats().frames, 6u);
}

/* Allocators that cannot sleep get growth from the work item. */
static void grant_grow_from_atomic_alloc(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	struct xenpv_grant_waiter w = {};
	struct xenpv_grant_pool pool;
	const unsigned int first = 4 * GT_PER_FRAME - GT_RESERVED;

	gt_start(test, 8, 8);
	KUNIT_ASSERT_EQ(test, xenpv_grant_pool_init(&pool, 6 * GT_PER_FRAME,
						    GFP_KERNEL), 0);
	/* Taking every free ref leaves the table short: growth follows. */
	KUNIT_ASSERT_EQ(test, xenpv_grant_pool_fill(&pool, first), 0);
	xenpv_grant_flush_work();
	KUNIT_EXPECT_EQ(test, gt_stats().frames, 5u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_free, GT_PER_FRAME);

	/* A waiter for more than is free makes it grow further. */
	xenpv_grant_wait(&w, gt_waiter_fn, c, GT_PER_FRAME + 100);
	KUNIT_EXPECT_EQ(test, c->fired, 0u);
	xenpv_grant_flush_work();
	KUNIT_EXPECT_EQ(test, c->fired, 1u);
	KUNIT_EXPECT_EQ(test, gt_stats().frames, 6u);

	/* Growth stops at the limit; an unsatisfied waiter stays queued. */
	KUNIT_ASSERT_EQ(test, xenpv_grant_pool_fill(&pool, 2 * GT_PER_FRAME),
			0);
	xenpv_grant_wait(&w, gt_waiter_fn, c, 4 * GT_PER_FRAME);
	xenpv_grant_flush_work();
	KUNIT_EXPECT_EQ(test, gt_stats().frames, 8u);
	KUNIT_EXPECT_EQ(test, c->fired, 1u);
	KUNIT_EXPECT_TRUE(test, w.queued);
	xenpv_grant_wait_cancel(&w);
	xenpv_grant_pool_destroy(&pool);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 0u);
}

/* ---- access ---- */

static void grant_readonly_access(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	struct grant_entry_v1 *e;
	struct page *page = gt_page(test), *mapped = NULL;
	char buf[8];
	grant_ref_t ref;
	int h;

	gt_start(test, 0, 8);
	memcpy(page_address(page), "guest", 6);
	KUNIT_ASSERT_EQ(test, xenpv_grant_page(GT_BACKEND,
					       xenpv_page_to_gfn(page), true,
					       &ref), 0);
	e = gt_entry(test, ref);
	KUNIT_EXPECT_EQ(test, e->flags, (u16)(GTF_permit_access | GTF_readonly));
	KUNIT_EXPECT_EQ(test, e->domid, (domid_t)GT_BACKEND);
	KUNIT_EXPECT_EQ(test, (unsigned long)e->frame, page_to_pfn(page));

	/* What Xen refuses. */
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_map(c->sim, GT_BACKEND, ref, true,
						  &mapped), GNTST_general_error);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_map(c->sim, GT_OTHER, ref, false,
						  &mapped), GNTST_general_error);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_copy(c->sim, GT_BACKEND, ref, 0,
						   "x", 1, true),
			GNTST_general_error);
	KUNIT_EXPECT_EQ(test, e->flags, (u16)(GTF_permit_access | GTF_readonly));

	/* What it allows. */
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_copy(c->sim, GT_BACKEND, ref, 0,
						   buf, 6, false), GNTST_okay);
	KUNIT_EXPECT_STREQ(test, buf, "guest");
	h = xenpv_sim_grant_map(c->sim, GT_BACKEND, ref, false, &mapped);
	KUNIT_ASSERT_GE(test, h, 0);
	KUNIT_EXPECT_PTR_EQ(test, mapped, page);
	KUNIT_EXPECT_TRUE(test, e->flags & GTF_reading);

	/* Mapped: access cannot end, the grant stays. */
	KUNIT_EXPECT_EQ(test, xenpv_grant_end_access(ref), -EBUSY);
	KUNIT_EXPECT_EQ(test, e->flags & GTF_type_mask, GTF_permit_access);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_unmap(c->sim, h), GNTST_okay);
	KUNIT_EXPECT_EQ(test, xenpv_grant_end_access(ref), 0);
	KUNIT_EXPECT_EQ(test, e->flags, (u16)0);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_map(c->sim, GT_BACKEND, ref, false,
						  &mapped), GNTST_general_error);

	KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(ref), 0);
	put_page(page);
	put_page(page);
}

static void grant_writable_access(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	struct grant_entry_v1 *e;
	struct page *page = gt_page(test), *mapped = NULL;
	grant_ref_t ref;
	int h, h2;

	gt_start(test, 0, 8);
	KUNIT_ASSERT_EQ(test, xenpv_grant_alloc_ref(&ref), 0);
	KUNIT_ASSERT_EQ(test, xenpv_grant_access(ref, GT_BACKEND,
						 xenpv_page_to_gfn(page),
						 false), 0);
	e = gt_entry(test, ref);
	KUNIT_EXPECT_EQ(test, e->flags, (u16)GTF_permit_access);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_copy(c->sim, GT_BACKEND, ref, 100,
						   "hello", 6, true),
			GNTST_okay);
	KUNIT_EXPECT_STREQ(test, (char *)page_address(page) + 100, "hello");

	/* Two mappings: both must go before access can end. */
	h = xenpv_sim_grant_map(c->sim, GT_BACKEND, ref, true, &mapped);
	KUNIT_ASSERT_GE(test, h, 0);
	h2 = xenpv_sim_grant_map(c->sim, GT_BACKEND, ref, false, &mapped);
	KUNIT_ASSERT_GE(test, h2, 0);
	KUNIT_EXPECT_EQ(test, e->flags & (GTF_reading | GTF_writing),
			GTF_reading | GTF_writing);
	KUNIT_EXPECT_EQ(test, xenpv_grant_end_access(ref), -EBUSY);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_unmap(c->sim, h), GNTST_okay);
	KUNIT_EXPECT_EQ(test, e->flags & (GTF_reading | GTF_writing),
			GTF_reading);
	KUNIT_EXPECT_EQ(test, xenpv_grant_end_access(ref), -EBUSY);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_unmap(c->sim, h2), GNTST_okay);
	KUNIT_EXPECT_EQ(test, xenpv_grant_end_access(ref), 0);

	/* The ref can grant again once access ended. */
	KUNIT_EXPECT_EQ(test, xenpv_grant_access(ref, GT_OTHER,
						 xenpv_page_to_gfn(page),
						 true), 0);
	KUNIT_EXPECT_EQ(test, e->domid, (domid_t)GT_OTHER);
	KUNIT_EXPECT_EQ(test, xenpv_grant_revoke(ref, NULL), 0);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 0u);
	put_page(page);
	put_page(page);
}

/* ---- revoke ---- */

static void grant_revoke_unmapped_frees_now(struct kunit *test)
{
	struct page *page = gt_page(test);
	grant_ref_t ref;

	gt_start(test, 0, 8);
	KUNIT_ASSERT_EQ(test, xenpv_grant_page(GT_BACKEND,
					       xenpv_page_to_gfn(page), false,
					       &ref), 0);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	KUNIT_EXPECT_EQ(test, xenpv_grant_revoke(ref, page), 0);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	KUNIT_EXPECT_EQ(test, gt_entry(test, ref)->flags, (u16)0);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 0u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_deferred, 0u);
	put_page(page);
}

static void grant_revoke_defers_until_unmap(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	struct page *page = gt_page(test), *mapped = NULL;
	unsigned int free;
	grant_ref_t ref;
	int h;

	gt_start(test, 0, 8);
	KUNIT_ASSERT_EQ(test, xenpv_grant_page(GT_BACKEND,
					       xenpv_page_to_gfn(page), false,
					       &ref), 0);
	h = xenpv_sim_grant_map(c->sim, GT_BACKEND, ref, true, &mapped);
	KUNIT_ASSERT_GE(test, h, 0);
	free = gt_stats().refs_free;

	KUNIT_EXPECT_EQ(test, xenpv_grant_revoke(ref, page), -EINPROGRESS);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_deferred, 1u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 0u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_free, free);
	/* The layer still holds the page, and the ref is no one's. */
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(ref), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_grant_end_access(ref), -EINVAL);

	/* Still mapped: the retry changes nothing; the backend still writes. */
	KUNIT_EXPECT_EQ(test, xenpv_grant_retry_deferred(), 1u);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	memcpy(page_address(mapped), "late", 5);
	KUNIT_EXPECT_STREQ(test, (char *)page_address(page), "late");

	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_unmap(c->sim, h), GNTST_okay);
	KUNIT_EXPECT_EQ(test, xenpv_grant_retry_deferred(), 0u);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	KUNIT_EXPECT_EQ(test, gt_entry(test, ref)->flags, (u16)0);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_deferred, 0u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_free, free + 1);
	put_page(page);
}

/* The same, with the deferred work itself doing the retry. */
static void grant_revoke_work_frees(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	struct page *page = gt_page(test), *mapped = NULL;
	grant_ref_t ref;
	int h;

	gt_start(test, 0, 8);
	KUNIT_ASSERT_EQ(test, xenpv_grant_page(GT_BACKEND,
					       xenpv_page_to_gfn(page), true,
					       &ref), 0);
	h = xenpv_sim_grant_map(c->sim, GT_BACKEND, ref, false, &mapped);
	KUNIT_ASSERT_GE(test, h, 0);
	KUNIT_EXPECT_EQ(test, xenpv_grant_revoke(ref, page), -EINPROGRESS);
	KUNIT_EXPECT_TRUE(test, delayed_work_pending(&xenpv_gnt.defer_work));
	xenpv_grant_flush_work();
	KUNIT_EXPECT_EQ(test, gt_stats().refs_deferred, 1u);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	/* It re-armed itself. */
	KUNIT_EXPECT_TRUE(test, delayed_work_pending(&xenpv_gnt.defer_work));

	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_unmap(c->sim, h), GNTST_okay);
	xenpv_grant_flush_work();
	KUNIT_EXPECT_EQ(test, gt_stats().refs_deferred, 0u);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 1);
	KUNIT_EXPECT_FALSE(test, delayed_work_pending(&xenpv_gnt.defer_work));
	put_page(page);
}

/*
 * A backend that never unmaps: bounded retries, then the ref and page are
 * leaked for good, even across a restart of the layer.
 */
static void grant_revoke_never_unmapped(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	struct page *page = gt_page(test), *mapped = NULL;
	const unsigned int nr = XENPV_GRANT_INIT_FRAMES * GT_PER_FRAME -
				GT_RESERVED;
	grant_ref_t ref, *refs;
	unsigned int i, n;
	int h;

	gt_start(test, 0, 8);
	KUNIT_ASSERT_EQ(test, xenpv_grant_page(GT_BACKEND,
					       xenpv_page_to_gfn(page), false,
					       &ref), 0);
	h = xenpv_sim_grant_map(c->sim, GT_BACKEND, ref, true, &mapped);
	KUNIT_ASSERT_GE(test, h, 0);
	KUNIT_EXPECT_EQ(test, xenpv_grant_revoke(ref, page), -EINPROGRESS);

	for (i = 1; i < XENPV_GRANT_DEFER_TRIES; i++)
		KUNIT_ASSERT_EQ(test, xenpv_grant_retry_deferred(), 1u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_leaked, 0u);
	KUNIT_EXPECT_EQ(test, xenpv_grant_retry_deferred(), 0u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_deferred, 0u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_leaked, 1u);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	KUNIT_EXPECT_EQ(test, xenpv_grant_retry_deferred(), 0u);
	KUNIT_EXPECT_EQ(test, gt_entry(test, ref)->flags & GTF_writing,
			GTF_writing);

	/* Restarted on the same table: the entry is still live, not reused. */
	xenpv_grant_exit();
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	gt_start(test, 0, 8);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_leaked, 1u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_free, nr - 1);
	refs = kunit_kcalloc(test, nr, sizeof(*refs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, refs);
	n = gt_alloc_all(test, refs, nr);
	KUNIT_EXPECT_EQ(test, n, nr - 1);
	for (i = 0; i < n; i++)
		KUNIT_EXPECT_NE(test, refs[i], ref);
	while (n)
		KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(refs[--n]), 0);

	/* The page stays leaked (one reference) for good. */
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_unmap(c->sim, h), GNTST_okay);
	put_page(page);
}

/* Exit with a grant still mapped: the page is not freed. */
static void grant_exit_leaks_deferred(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	struct page *page = gt_page(test), *mapped = NULL;
	grant_ref_t ref;
	int h;

	gt_start(test, 0, 8);
	KUNIT_ASSERT_EQ(test, xenpv_grant_page(GT_BACKEND,
					       xenpv_page_to_gfn(page), false,
					       &ref), 0);
	h = xenpv_sim_grant_map(c->sim, GT_BACKEND, ref, true, &mapped);
	KUNIT_ASSERT_GE(test, h, 0);
	KUNIT_EXPECT_EQ(test, xenpv_grant_revoke(ref, page), -EINPROGRESS);
	xenpv_grant_exit();
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	KUNIT_EXPECT_FALSE(test, delayed_work_pending(&xenpv_gnt.defer_work));
	KUNIT_EXPECT_EQ(test, gt_stats().frames, 0u);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_unmap(c->sim, h), GNTST_okay);
	put_page(page);
}

/* The debugfs file's text follows the counters and lists deferred refs. */
static void grant_debugfs_text(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	struct page *page = gt_page(test), *mapped = NULL;
	struct seq_file m = { .size = PAGE_SIZE };
	char line[64];
	grant_ref_t ref;
	int h;

	m.buf = kunit_kzalloc(test, m.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m.buf);
	gt_start(test, 0, 8);
	if (IS_ENABLED(CONFIG_DEBUG_FS))
		KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(xenpv_gnt.debugfs_file));
	KUNIT_ASSERT_EQ(test, xenpv_grant_page(GT_BACKEND,
					       xenpv_page_to_gfn(page), false,
					       &ref), 0);
	h = xenpv_sim_grant_map(c->sim, GT_BACKEND, ref, true, &mapped);
	KUNIT_ASSERT_GE(test, h, 0);
	KUNIT_EXPECT_EQ(test, xenpv_grant_revoke(ref, page), -EINPROGRESS);
	KUNIT_EXPECT_EQ(test, xenpv_grant_retry_deferred(), 1u);

	KUNIT_ASSERT_EQ(test, xenpv_gnt_debugfs_show(&m, NULL), 0);
	KUNIT_EXPECT_NOT_NULL(test, strstr(m.buf, "frames: 4\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(m.buf, "refs_in_use: 0\n"));
	KUNIT_EXPECT_NOT_NULL(test, strstr(m.buf, "refs_deferred: 1\n"));
	snprintf(line, sizeof(line), "deferred: ref %u domain %u tries 1\n",
		 ref, GT_BACKEND);
	KUNIT_EXPECT_NOT_NULL(test, strstr(m.buf, line));

	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_unmap(c->sim, h), GNTST_okay);
	KUNIT_EXPECT_EQ(test, xenpv_grant_retry_deferred(), 0u);
	xenpv_grant_exit();
	KUNIT_EXPECT_NULL(test, xenpv_gnt.debugfs_file);
	put_page(page);
}

/* ---- rings ---- */

static void grant_ring_alloc_free(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	grant_ref_t refs[4];
	struct page *mapped;
	void *ring = NULL;
	int h[4], i;

	gt_start(test, 0, 8);
	KUNIT_EXPECT_EQ(test, xenpv_grant_ring_alloc(GT_BACKEND, 0, GFP_KERNEL,
						     &ring, refs), -EINVAL);
	KUNIT_ASSERT_EQ(test, xenpv_grant_ring_alloc(GT_BACKEND, 4, GFP_KERNEL,
						     &ring, refs), 0);
	KUNIT_ASSERT_NOT_NULL(test, ring);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 4u);
	for (i = 0; i < 4; i++) {
		h[i] = xenpv_sim_grant_map(c->sim, GT_BACKEND, refs[i], true,
					   &mapped);
		KUNIT_ASSERT_GE(test, h[i], 0);
		KUNIT_EXPECT_PTR_EQ(test, mapped,
				    virt_to_page(ring + i * PAGE_SIZE));
		KUNIT_EXPECT_EQ(test, *(u8 *)page_address(mapped), 0);
		*(u8 *)page_address(mapped) = 0x40 + i;
	}
	KUNIT_EXPECT_EQ(test, *(u8 *)(ring + 3 * PAGE_SIZE), 0x43);

	/* Page 2 is still mapped: it waits, the others go now. */
	for (i = 0; i < 4; i++)
		if (i != 2)
			xenpv_sim_grant_unmap(c->sim, h[i]);
	KUNIT_EXPECT_EQ(test, xenpv_grant_ring_free(ring, 4, refs),
			-EINPROGRESS);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 0u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_deferred, 1u);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_unmap(c->sim, h[2]), GNTST_okay);
	KUNIT_EXPECT_EQ(test, xenpv_grant_retry_deferred(), 0u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_deferred, 0u);
}

/*
 * Pages granted one by one: zeroed, each granted with the asked access;
 * a failure half way leaves nothing behind; freeing defers only the page
 * the backend still maps.
 */
static void grant_pages_alloc_free(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	unsigned int i, n = GT_PER_FRAME + 1;
	struct page *pages[6], *mapped, **pp;
	grant_ref_t refs[6], *rr;
	int h;

	pp = kunit_kcalloc(test, n, sizeof(*pp), GFP_KERNEL);
	rr = kunit_kcalloc(test, n, sizeof(*rr), GFP_KERNEL);
	gt_start(test, 0, 1);
	for (i = 0; i < 6; i++)
		pages[i] = (struct page *)1;	/* must be overwritten */
	KUNIT_ASSERT_EQ(test, xenpv_grant_pages_alloc(GT_BACKEND, 6, true,
						      pages, refs), 0);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 6u);
	for (i = 0; i < 6; i++) {
		KUNIT_ASSERT_NOT_NULL(test, pages[i]);
		KUNIT_EXPECT_EQ(test, gt_entry(test, refs[i])->frame,
				(u32)xenpv_page_to_gfn(pages[i]));
		KUNIT_EXPECT_EQ(test, gt_entry(test, refs[i])->domid,
				(domid_t)GT_BACKEND);
		KUNIT_EXPECT_EQ(test, gt_entry(test, refs[i])->flags,
				(u16)(GTF_permit_access | GTF_readonly));
		KUNIT_EXPECT_TRUE(test, !memchr_inv(page_address(pages[i]), 0,
						    PAGE_SIZE));
	}
	/* The backend keeps page 4 mapped: it alone waits. */
	h = xenpv_sim_grant_map(c->sim, GT_BACKEND, refs[4], false, &mapped);
	KUNIT_ASSERT_GE(test, h, 0);
	KUNIT_EXPECT_PTR_EQ(test, mapped, pages[4]);
	xenpv_grant_pages_free(6, pages, refs);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 0u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_deferred, 1u);
	for (i = 0; i < 6; i++) {
		KUNIT_EXPECT_NULL(test, pages[i]);
		KUNIT_EXPECT_EQ(test, refs[i], XENPV_GRANT_NO_REF);
	}
	/* Again is harmless. */
	xenpv_grant_pages_free(6, pages, refs);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_unmap(c->sim, h), GNTST_okay);
	KUNIT_EXPECT_EQ(test, xenpv_grant_retry_deferred(), 0u);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_deferred, 0u);

	/* More than the table can ever hold (one BAR frame): nothing kept. */
	KUNIT_ASSERT_NOT_NULL(test, pp);
	KUNIT_ASSERT_NOT_NULL(test, rr);
	KUNIT_EXPECT_LT(test, xenpv_grant_pages_alloc(GT_BACKEND, n, false,
						      pp, rr), 0);
	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_NULL(test, pp[i]);
		KUNIT_EXPECT_EQ(test, rr[i], XENPV_GRANT_NO_REF);
	}
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 0u);
}

/* ---- bad input ---- */

static void grant_bad_input_before_init(struct kunit *test)
{
	grant_ref_t ref;

	KUNIT_EXPECT_EQ(test, xenpv_grant_alloc_ref(&ref), -ENODEV);
	KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(GT_RESERVED), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_grant_access(GT_RESERVED, 0, 1, false),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_grant_end_access(GT_RESERVED), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_grant_revoke(GT_RESERVED, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_grant_grow(1), -ENODEV);
	xenpv_grant_exit();
}

static void grant_bad_input(struct kunit *test)
{
	struct page *page = gt_page(test);
	unsigned long gfn = xenpv_page_to_gfn(page);
	const grant_ref_t bad[] = {
		0, 1, GT_RESERVED - 1,			/* the toolstack's */
		4 * GT_PER_FRAME, 0x7fffffff, U32_MAX,	/* past the table */
	};
	grant_ref_t ref;
	unsigned int i;

	gt_start(test, 0, 8);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(bad[i]), -EINVAL);
		KUNIT_EXPECT_EQ(test, xenpv_grant_access(bad[i], 0, gfn, false),
				-EINVAL);
		KUNIT_EXPECT_EQ(test, xenpv_grant_end_access(bad[i]), -EINVAL);
		KUNIT_EXPECT_EQ(test, xenpv_grant_revoke(bad[i], page), -EINVAL);
	}
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);

	KUNIT_ASSERT_EQ(test, xenpv_grant_alloc_ref(&ref), 0);
	/* Never granted: nothing to end. */
	KUNIT_EXPECT_EQ(test, xenpv_grant_end_access(ref), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_grant_access(ref, 0, 1UL << 32, false),
			-ERANGE);
	KUNIT_EXPECT_EQ(test, xenpv_grant_access(ref, 0, gfn, false), 0);
	KUNIT_EXPECT_EQ(test, xenpv_grant_access(ref, 0, gfn, true), -EBUSY);
	KUNIT_EXPECT_EQ(test, gt_entry(test, ref)->flags, (u16)GTF_permit_access);
	/* Still granted: not freed, not pooled, still owned. */
	KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(ref), -EBUSY);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 1u);
	KUNIT_EXPECT_EQ(test, xenpv_grant_end_access(ref), 0);
	KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(ref), 0);
	/* Double free, and a revoke of a free ref, which leaves the page. */
	KUNIT_EXPECT_EQ(test, xenpv_grant_free_ref(ref), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_grant_revoke(ref, page), -EINVAL);
	KUNIT_EXPECT_EQ(test, page_ref_count(page), 2);
	KUNIT_EXPECT_EQ(test, gt_stats().refs_in_use, 0u);
	put_page(page);
	put_page(page);
}

static void grant_pool_put_refuses_bad_refs(struct kunit *test)
{
	struct xenpv_grant_pool pool;
	grant_ref_t ref;

	gt_start(test, 0, 8);
	KUNIT_ASSERT_EQ(test, xenpv_grant_pool_init(&pool, 4, GFP_KERNEL), 0);
	xenpv_grant_pool_put(&pool, 3);
	KUNIT_EXPECT_EQ(test, pool.nr, 0u);
	KUNIT_ASSERT_EQ(test, xenpv_grant_alloc_ref(&ref), 0);
	KUNIT_ASSERT_EQ(test, xenpv_grant_access(ref, 0, 1, false), 0);
	xenpv_grant_pool_put(&pool, ref);
	KUNIT_EXPECT_EQ(test, pool.nr, 0u);
	KUNIT_EXPECT_EQ(test, xenpv_grant_revoke(ref, NULL), 0);
	xenpv_grant_pool_destroy(&pool);
	KUNIT_EXPECT_EQ(test, xenpv_grant_pool_init(&pool, 0, GFP_KERNEL),
			-EINVAL);
}

static struct kunit_case grant_cases[] = {
	KUNIT_CASE(grant_init_maps_frames),
	KUNIT_CASE(grant_init_failures),
	KUNIT_CASE(grant_alloc_exhaustion),
	KUNIT_CASE(grant_alloc_rotates),
	KUNIT_CASE(grant_waiter_fires),
	KUNIT_CASE(grant_pool_batch),
	KUNIT_CASE(grant_grow_to_limit),
	KUNIT_CASE(grant_grow_limited_by_bar),
	KUNIT_CASE(grant_grow_fails_in_xen),
	KUNIT_CASE(grant_grow_from_atomic_alloc),
	KUNIT_CASE(grant_readonly_access),
	KUNIT_CASE(grant_writable_access),
	KUNIT_CASE(grant_revoke_unmapped_frees_now),
	KUNIT_CASE(grant_pages_alloc_free),
	KUNIT_CASE(grant_revoke_defers_until_unmap),
	KUNIT_CASE(grant_revoke_work_frees),
	KUNIT_CASE(grant_revoke_never_unmapped),
	KUNIT_CASE(grant_exit_leaks_deferred),
	KUNIT_CASE(grant_debugfs_text),
	KUNIT_CASE(grant_ring_alloc_free),
	KUNIT_CASE(grant_bad_input_before_init),
	KUNIT_CASE(grant_bad_input),
	KUNIT_CASE(grant_pool_put_refuses_bad_refs),
	{}
};

static struct kunit_suite grant_suite = {
	.name = "xenpv-grant",
	.init = gt_init,
	.exit = gt_exit,
	.test_cases = grant_cases,
};

/* ---- the simulation's grant table, as the suite above relies on it ---- */

static void sim_grant_query_and_physmap(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	struct gnttab_query_size q = { .dom = DOMID_SELF };
	struct xen_add_to_physmap x = {
		.domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
		.idx = 2, .gpfn = GT_GPFN_BASE,
	};

	c->sim->gnt_max_frames = 3;
	KUNIT_ASSERT_EQ(test, xenpv_grant_table_op(GNTTABOP_query_size, &q, 1),
			0);
	KUNIT_EXPECT_EQ(test, q.status, (s16)GNTST_okay);
	KUNIT_EXPECT_EQ(test, q.nr_frames, 0u);
	KUNIT_EXPECT_EQ(test, q.max_nr_frames, 3u);
	KUNIT_EXPECT_EQ(test, xenpv_grant_table_op(GNTTABOP_setup_table, &q, 1),
			-38);

	/* Placing frame 2 grows the table to three frames. */
	KUNIT_ASSERT_EQ(test, xenpv_memory_op(XENMEM_add_to_physmap, &x), 0);
	KUNIT_EXPECT_EQ(test, c->sim->gnt_nr_frames, 3u);
	KUNIT_EXPECT_PTR_EQ(test, xenpv_hv->map_gpfn(GT_GPFN_BASE, 1),
			    c->sim->gnt_frames[2]);
	/* Moving it leaves nothing at the old place. */
	x.gpfn = GT_GPFN_BASE + 1;
	KUNIT_ASSERT_EQ(test, xenpv_memory_op(XENMEM_add_to_physmap, &x), 0);
	KUNIT_EXPECT_NULL(test, xenpv_hv->map_gpfn(GT_GPFN_BASE, 1));
	KUNIT_EXPECT_NOT_NULL(test, xenpv_hv->map_gpfn(GT_GPFN_BASE + 1, 1));

	x.idx = 3;
	KUNIT_EXPECT_EQ(test, xenpv_memory_op(XENMEM_add_to_physmap, &x), -22);
	x.idx = 0x80000000UL;
	KUNIT_EXPECT_EQ(test, xenpv_memory_op(XENMEM_add_to_physmap, &x), -22);
	KUNIT_EXPECT_EQ(test, c->sim->gnt_nr_frames, 3u);
}

static void sim_grant_backend_refusals(struct kunit *test)
{
	struct gt_ctx *c = test->priv;
	struct xen_add_to_physmap x = {
		.domid = DOMID_SELF, .space = XENMAPSPACE_grant_table,
		.idx = 0, .gpfn = GT_GPFN_BASE,
	};
	struct page *page = gt_page(test), *mapped;
	struct grant_entry_v1 *e;
	char buf[4];

	KUNIT_ASSERT_EQ(test, xenpv_memory_op(XENMEM_add_to_physmap, &x), 0);
	e = gt_entry(test, 10);
	/* Invalid entry, then one for another domain, then the right one. */
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_map(c->sim, 0, 10, false,
						  &mapped), GNTST_general_error);
	e->domid = 5;
	e->frame = page_to_pfn(page);
	e->flags = GTF_permit_access | GTF_readonly;
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_map(c->sim, 0, 10, false,
						  &mapped), GNTST_general_error);
	KUNIT_EXPECT_GE(test, xenpv_sim_grant_map(c->sim, 5, 10, false,
						  &mapped), 0);
	KUNIT_EXPECT_PTR_EQ(test, mapped, page);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_map(c->sim, 5, 10, true,
						  &mapped), GNTST_general_error);
	KUNIT_EXPECT_EQ(test, e->flags,
			(u16)(GTF_permit_access | GTF_readonly | GTF_reading));
	/* Past the table, bad handles, bad copy ranges. */
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_map(c->sim, 5, GT_PER_FRAME,
						  false, &mapped),
			GNTST_bad_gntref);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_unmap(c->sim, -1),
			GNTST_bad_handle);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_unmap(c->sim, 5),
			GNTST_bad_handle);
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_copy(c->sim, 5, 10,
						   PAGE_SIZE - 2, buf, 4,
						   false),
			GNTST_bad_copy_arg);
	/* A frame that is not guest memory is refused, the pin undone. */
	e[1].domid = 5;
	e[1].frame = U32_MAX;
	e[1].flags = GTF_permit_access;
	KUNIT_EXPECT_EQ(test, xenpv_sim_grant_map(c->sim, 5, 11, true,
						  &mapped), GNTST_bad_page);
	KUNIT_EXPECT_EQ(test, e[1].flags, (u16)GTF_permit_access);
	put_page(page);
	put_page(page);
}

static struct kunit_case sim_grant_cases[] = {
	KUNIT_CASE(sim_grant_query_and_physmap),
	KUNIT_CASE(sim_grant_backend_refusals),
	{}
};

static struct kunit_suite sim_grant_suite = {
	.name = "xenpv-sim-grant",
	.init = gt_init,
	.exit = gt_exit,
	.test_cases = sim_grant_cases,
};

kunit_test_suites(&sim_grant_suite, &grant_suite);
