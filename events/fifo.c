// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: the FIFO event channel ABI.
 *
 * Each port has a 32-bit event word in the event array (pages the guest
 * gives Xen with EVTCHNOP_expand_array): PENDING, MASKED, LINKED, BUSY and
 * a 17-bit LINK to the next port of its queue. Each vCPU has a control
 * block (EVTCHNOP_init_control) with one queue head per priority and a
 * READY bit per non-empty queue. Xen appends a newly pending, unmasked,
 * unlinked port to the tail of its queue (writing the head when the queue
 * was empty), sets READY and raises the upcall. The guest walks each
 * ready queue from its head, unlinking each word as it goes; a port that
 * is masked or no longer pending when it is reached is skipped, and Xen
 * links it again when it is unmasked while pending.
 *
 * xenpv binds every port to vCPU 0, so only vCPU 0 gets a control block.
 *
 * The upcall drains the ready queues completely: Xen raises the upcall
 * only when a queue goes from empty to non-empty, so events left linked
 * would wait for an unrelated event. A port that a backend storms is
 * therefore contained by lateeoi binding (the port stays masked from each
 * delivery until the driver's EOI), not by the scan.
 *
 * *** Using FIFO pins xenpv.ko in memory. ***
 * The switch cannot be undone by a module: once EVTCHNOP_init_control
 * succeeded, Xen keeps writing the control block and the event array
 * pages for the life of the domain, Xen rejects a second init_control,
 * and the only way back, EVTCHNOP_reset, would close every port of the
 * domain, the xenstore channel included. So when FIFO is active xenpv
 * takes a reference on itself (it can no longer be unloaded), says so in
 * the log, and never frees these pages. That is why the default is the
 * 2-level ABI (xenpv.event_abi=2l) and FIFO is opt-in
 * (xenpv.event_abi=fifo). If EVTCHNOP_init_control fails, xenpv falls back
 * to 2-level.
 */

#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <xenpv/hypervisor.h>

#include "events.h"

#define XENPV_FIFO_WORDS_PER_PAGE	(PAGE_SIZE / sizeof(event_word_t))
#define XENPV_FIFO_MAX_PAGES \
	(EVTCHN_FIFO_NR_CHANNELS / XENPV_FIFO_WORDS_PER_PAGE)

#define FIFO_PENDING	BIT(EVTCHN_FIFO_PENDING)
#define FIFO_MASKED	BIT(EVTCHN_FIFO_MASKED)
#define FIFO_LINKED	BIT(EVTCHN_FIFO_LINKED)
#define FIFO_BUSY	BIT(EVTCHN_FIFO_BUSY)

/*
 * vCPU 0's control block; set once by xenpv_fifo_init(), never freed
 * (see the top of this file).
 */
static struct evtchn_fifo_control_block *fifo_cb;

/*
 * The event array. fifo_pages[] grows under xenpv_events_mutex (in
 * fifo_setup()); a page is published with a release store of
 * fifo_nr_pages after Xen accepted it, and the upcall reads fifo_nr_pages
 * with an acquire load before it touches a page.
 */
static event_word_t *fifo_pages[XENPV_FIFO_MAX_PAGES];
static unsigned int fifo_nr_pages;

/*
 * The guest's copy of each queue's head: the port to look at next, or 0
 * to read the head from the control block. Only the upcall uses it.
 */
static u32 fifo_head[EVTCHN_FIFO_MAX_QUEUES];

static event_word_t *fifo_word(evtchn_port_t port)
{
	unsigned int page = port / XENPV_FIFO_WORDS_PER_PAGE;

	/* Pairs with the release in fifo_expand(): the page is set. */
	if (page >= smp_load_acquire(&fifo_nr_pages))
		return NULL;
	return fifo_pages[page] + port % XENPV_FIFO_WORDS_PER_PAGE;
}

/*
 * Atomically clear @clear and set @set in an event word (Xen updates the
 * same word concurrently). Returns the old value.
 */
static u32 fifo_update(event_word_t *w, u32 clear, u32 set)
{
	u32 old = READ_ONCE(*w);

	while (!try_cmpxchg(w, &old, (old & ~clear) | set))
		;
	return old;
}

static void fifo_mask(evtchn_port_t port)
{
	event_word_t *w = fifo_word(port);

	if (w)
		fifo_update(w, 0, FIFO_MASKED);
}

/*
 * Clear MASKED, but not while Xen holds the word BUSY (it is relinking
 * it). If the port is pending, EVTCHNOP_unmask makes Xen link it and
 * raise the upcall.
 */
static void fifo_unmask(evtchn_port_t port)
{
	struct evtchn_unmask u = { .port = port };
	event_word_t *w = fifo_word(port);
	u32 old;

	if (!w)
		return;
	old = READ_ONCE(*w) & ~FIFO_BUSY;
	while (!try_cmpxchg(w, &old, old & ~FIFO_MASKED))
		old &= ~FIFO_BUSY;
	if (READ_ONCE(*w) & FIFO_PENDING)
		xenpv_event_channel_op(EVTCHNOP_unmask, &u);
}

static void fifo_set_pending(evtchn_port_t port)
{
	event_word_t *w = fifo_word(port);

	if (w)
		fifo_update(w, 0, FIFO_PENDING);
}

static void fifo_clear_pending(evtchn_port_t port)
{
	event_word_t *w = fifo_word(port);

	if (w)
		fifo_update(w, FIFO_PENDING, 0);
}

static bool fifo_is_pending(evtchn_port_t port)
{
	event_word_t *w = fifo_word(port);

	return w && (READ_ONCE(*w) & FIFO_PENDING);
}

static bool fifo_is_masked(evtchn_port_t port)
{
	event_word_t *w = fifo_word(port);

	return !w || (READ_ONCE(*w) & FIFO_MASKED);
}

/* Give Xen one more event array page; its ports start masked. */
static int fifo_expand(void)
{
	struct evtchn_expand_array ex;
	event_word_t *page;
	unsigned int i;
	int rc;

	if (fifo_nr_pages >= XENPV_FIFO_MAX_PAGES)
		return -ENOSPC;
	page = (event_word_t *)get_zeroed_page(GFP_KERNEL);
	if (!page)
		return -ENOMEM;
	for (i = 0; i < XENPV_FIFO_WORDS_PER_PAGE; i++)
		page[i] = FIFO_MASKED;
	ex.array_gfn = xenpv_virt_to_gfn(page);
	rc = xenpv_event_channel_op(EVTCHNOP_expand_array, &ex);
	if (rc) {
		/* Xen did not take it: it is ours to free. */
		free_page((unsigned long)page);
		return rc;
	}
	fifo_pages[fifo_nr_pages] = page;
	/* Publish the page before the count that makes it visible. */
	smp_store_release(&fifo_nr_pages, fifo_nr_pages + 1);
	return 0;
}

/* Context: process context, under xenpv_events_mutex. */
static int fifo_setup(evtchn_port_t port)
{
	int rc;

	if (port >= EVTCHN_FIFO_NR_CHANNELS)
		return -EINVAL;
	while (port >= fifo_nr_pages * XENPV_FIFO_WORDS_PER_PAGE) {
		rc = fifo_expand();
		if (rc)
			return rc;
	}
	return 0;
}

/*
 * Unlink @w from its queue: clear LINKED and LINK together, so that Xen
 * either linked a successor before (we return it) or sees the word
 * unlinked and starts a new queue (it writes the head).
 */
static u32 fifo_unlink(event_word_t *w)
{
	u32 old = fifo_update(w, FIFO_LINKED | EVTCHN_FIFO_LINK_MASK, 0);

	return old & EVTCHN_FIFO_LINK_MASK;
}

/* Take the next port off queue @q. Returns false when @q is empty. */
static bool fifo_consume_one(unsigned int q)
{
	u32 port = fifo_head[q];
	event_word_t *w;
	u32 next;

	if (!port) {
		/* Read the head after READY, which Xen set after it. */
		smp_rmb();
		port = READ_ONCE(fifo_cb->head[q]);
	}
	w = port ? fifo_word(port) : NULL;
	if (!w) {
		fifo_head[q] = 0;
		return false;
	}
	next = fifo_unlink(w);
	fifo_head[q] = next;
	if ((READ_ONCE(*w) & (FIFO_PENDING | FIFO_MASKED)) == FIFO_PENDING)
		xenpv_events_handle_port(port);
	return next != 0;
}

/*
 * Serve the ready queues, highest priority (lowest number) first, one
 * event at a time, re-reading READY as Xen may make more queues ready.
 */
static void fifo_handle_events(void)
{
	unsigned long ready = xchg(&fifo_cb->ready, 0);
	unsigned int q;

	while (ready) {
		q = __ffs(ready);
		if (!fifo_consume_one(q))
			ready &= ~BIT(q);
		ready |= xchg(&fifo_cb->ready, 0);
	}
}

static const struct xenpv_evtchn_abi xenpv_fifo_abi = {
	.name = "fifo",
	.nr_ports = EVTCHN_FIFO_NR_CHANNELS,
	.setup = fifo_setup,
	.mask = fifo_mask,
	.unmask = fifo_unmask,
	.set_pending = fifo_set_pending,
	.clear_pending = fifo_clear_pending,
	.is_pending = fifo_is_pending,
	.is_masked = fifo_is_masked,
	.handle_events = fifo_handle_events,
};

/**
 * xenpv_fifo_init() - switch the domain to the FIFO ABI
 * @si: the mapped shared_info page (unused by FIFO; kept for symmetry)
 *
 * Registers vCPU 0's control block. On success xenpv is pinned: see the
 * comment at the top of this file. A second call (after the layer was
 * stopped and started again) reuses the control block and event array
 * that Xen already has.
 *
 * Context: process context, under xenpv_events_mutex, before the upcall
 * is enabled.
 * Return: the ABI's operations, or NULL if Xen refused (the caller falls
 * back to 2-level).
 */
const struct xenpv_evtchn_abi *xenpv_fifo_init(struct shared_info *si)
{
	struct evtchn_init_control init = { .offset = 0, .vcpu = 0 };
	void *cb;
	int rc;

	memset(fifo_head, 0, sizeof(fifo_head));
	if (fifo_cb)
		return &xenpv_fifo_abi;

	cb = (void *)get_zeroed_page(GFP_KERNEL);
	if (!cb)
		return NULL;
	init.control_gfn = xenpv_virt_to_gfn(cb);
	rc = xenpv_event_channel_op(EVTCHNOP_init_control, &init);
	if (rc) {
		pr_warn("xenpv: events: EVTCHNOP_init_control failed (%d), using the 2-level ABI\n",
			rc);
		free_page((unsigned long)cb);
		return NULL;
	}
	fifo_cb = cb;
	__module_get(THIS_MODULE);
	pr_notice("xenpv: events: FIFO ABI active (%u link bits); xenpv can no longer be unloaded\n",
		  init.link_bits);
	return &xenpv_fifo_abi;
}

#if IS_ENABLED(CONFIG_XENPV_KUNIT_TEST)
/**
 * xenpv_fifo_forget() - drop the FIFO state after a simulated Xen is gone
 *
 * Only for the KUnit suites: with a real Xen these pages must never be
 * freed. Frees the control block and the event array and forgets them, so
 * that the next simulation starts from scratch.
 *
 * Context: process context, with the events layer stopped and the
 * simulation that used the pages already stopped.
 */
void xenpv_fifo_forget(void)
{
	unsigned int i;

	for (i = 0; i < fifo_nr_pages; i++) {
		free_page((unsigned long)fifo_pages[i]);
		fifo_pages[i] = NULL;
	}
	fifo_nr_pages = 0;
	free_page((unsigned long)fifo_cb);
	fifo_cb = NULL;
	memset(fifo_head, 0, sizeof(fifo_head));
}
#endif
