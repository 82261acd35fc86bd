/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv grant/: internals shared by the files of this directory and the
 * KUnit suites. Not an API for other modules.
 *
 *   table.c   init and exit, mapping (growing) the table, counters, debugfs
 *   alloc.c   the free set: single refs, pools, waiters
 *   access.c  grant entries: grant, end access, revoke and the deferred
 *             list, shared rings
 */
#ifndef _XENPV_GRANT_INTERNAL_H
#define _XENPV_GRANT_INTERNAL_H

#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/workqueue.h>
#include <xen/interface/grant_table.h>
#include <xenpv/grant.h>

/* Frames mapped by xenpv_grant_init(); the table grows from there. */
#define XENPV_GRANT_INIT_FRAMES		4
/* Below this many free refs, an allocation schedules growth. */
#define XENPV_GRANT_LOW_WATER		64
/* Retries of a deferred revoke before its ref and page are leaked. */
#define XENPV_GRANT_DEFER_TRIES		120
/* Default delay between two passes over the deferred list. */
#define XENPV_GRANT_DEFER_DELAY		HZ

#define XENPV_GRANT_PER_FRAME	(PAGE_SIZE / sizeof(struct grant_entry_v1))

/* What a ref is (see include/xenpv/grant.h for the ownership rules). */
enum xenpv_gnt_state {
	XENPV_GNT_UNUSABLE = 0,	/* reserved for the toolstack */
	XENPV_GNT_FREE,
	XENPV_GNT_OWNED,
	XENPV_GNT_DEFERRED,
	XENPV_GNT_LEAKED,	/* never reused: a backend may still map it */
};

/**
 * struct xenpv_gnt_deferred - a revoked ref whose backend still maps it
 * @node: in xenpv_gnt.deferred
 * @page: freed (put_page()) once the grant is gone; may be NULL
 * @ref: the ref
 * @domid: the domain it was granted to, for the warning
 * @tries: passes that found it still mapped
 */
struct xenpv_gnt_deferred {
	struct list_head node;
	struct page *page;
	grant_ref_t ref;
	domid_t domid;
	unsigned int tries;
};

/**
 * struct xenpv_gnt - the grant table (one per guest)
 * @lock: see below
 * @grow_mutex: see below
 * @live: between xenpv_grant_init() and the start of xenpv_grant_exit()
 * @frames: the mapped grant frames, @max_frames slots
 * @gpfn_base: where the platform BAR holds frame 0
 * @max_frames: min(Xen's max_nr_frames, the BAR frames given at init)
 * @nr_frames: frames mapped
 * @nr_refs: @nr_frames * XENPV_GRANT_PER_FRAME
 * @state: enum xenpv_gnt_state of each ref, @max_frames frames' worth
 * @free_map: bit set for each XENPV_GNT_FREE ref
 * @cursor: where the next search for a free ref starts
 * @nr_free: refs in each state: free
 * @nr_in_use: owned
 * @nr_deferred: deferred
 * @nr_leaked: leaked
 * @exhausted: allocations that failed for want of free refs
 * @waiters: struct xenpv_grant_waiter, in registration order
 * @deferred: struct xenpv_gnt_deferred, oldest first
 * @retry_delay: jiffies between passes over @deferred
 * @grow_work: maps more frames for atomic-context allocators
 * @defer_work: retries @deferred
 * @debugfs_file: /sys/kernel/debug/xenpv/grant
 *
 * Locking:
 * @grow_mutex serialises mapping frames: the growth itself, init and exit.
 * It is taken outside @lock, never in atomic context. @frames[i] is
 * written under it before @nr_frames counts frame i.
 *
 * @lock (a spinlock taken with interrupts off, as allocations come from
 * interrupt handlers) protects @live, @nr_frames and @nr_refs (written
 * under both locks), @state, @free_map, @cursor, the counters, @waiters
 * and @deferred. Waiter callbacks run under it. Innermost: nothing else
 * of xenpv is taken under it.
 *
 * Grant entries themselves are not under a lock: only the owner of a ref
 * writes its entry (and the layer, once the ref is deferred), and Xen's
 * concurrent updates of the flags are met with cmpxchg as the ABI asks.
 */
struct xenpv_gnt {
	spinlock_t lock;		/* see above */
	struct mutex grow_mutex;	/* see above */
	bool live;
	struct grant_entry_v1 **frames;
	unsigned long gpfn_base;
	unsigned int max_frames;
	unsigned int nr_frames;
	unsigned int nr_refs;
	u8 *state;
	unsigned long *free_map;
	unsigned int cursor;
	unsigned int nr_free;
	unsigned int nr_in_use;
	unsigned int nr_deferred;
	unsigned int nr_leaked;
	unsigned long exhausted;
	struct list_head waiters;
	struct list_head deferred;
	unsigned long retry_delay;
	struct work_struct grow_work;
	struct delayed_work defer_work;
	struct dentry *debugfs_file;
};

extern struct xenpv_gnt xenpv_gnt;

static inline struct grant_entry_v1 *xenpv_gnt_entry(grant_ref_t ref)
{
	return &xenpv_gnt.frames[ref / XENPV_GRANT_PER_FRAME]
				[ref % XENPV_GRANT_PER_FRAME];
}

/* Is @ref owned by a caller? Lockless: the owner's own view is stable. */
static inline bool xenpv_gnt_owned(grant_ref_t ref)
{
	return ref < READ_ONCE(xenpv_gnt.nr_refs) &&
	       READ_ONCE(xenpv_gnt.state[ref]) == XENPV_GNT_OWNED;
}

/* table.c */
struct seq_file;
int xenpv_gnt_grow(unsigned int want_free);
int xenpv_gnt_debugfs_show(struct seq_file *m, void *unused);

/* alloc.c; *_locked: called with xenpv_gnt.lock held. */
void xenpv_gnt_set_state_locked(grant_ref_t ref, enum xenpv_gnt_state new);
void xenpv_gnt_grow_work(struct work_struct *work);
void xenpv_gnt_drop_waiters(void);

/* access.c */
int xenpv_gnt_clear_entry(grant_ref_t ref);
void xenpv_gnt_defer_work(struct work_struct *work);
void xenpv_gnt_leak_deferred(void);

/* For the KUnit suites. */
unsigned int xenpv_grant_retry_deferred(void);
void xenpv_grant_set_retry_delay(unsigned long delay);
void xenpv_grant_flush_work(void);

#endif /* _XENPV_GRANT_INTERNAL_H */
