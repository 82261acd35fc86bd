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
 * Surviving unload. Once EVTCHNOP_init_control succeeded, Xen writes the
 * control block and the event array pages for the life of the domain,
 * rejects a second init_control for the vCPU, and the only way back,
 * EVTCHNOP_reset, would close every port of the domain, the xenstore
 * channel included. So these pages must outlive the module, and the next
 * load must find them. They live in the platform device's BAR: each page
 * is taken from the kernel and moved (XENMEM_add_to_physmap,
 * XENMAPSPACE_gmfn) to a frame of a range the platform code reserves at
 * the same place on every load ("home"): frame 0 holds the control block,
 * frames 1.. the event array. The kernel never touches or frees the page
 * again (its old frame is now a hole, as with a balloon driver). Past the
 * control block, the control frame carries our own record (a magic and
 * the number of array pages). A load that finds the record adopts the
 * pages as they are instead of calling Xen: a module can be unloaded and
 * loaded again at will, and FIFO can be the default. Xen keeps FIFO until
 * the domain reboots, so after one load with FIFO every later load uses
 * it, whatever xenpv.event_abi says. If there is no home (the KUnit
 * suites may not give one) or Xen refuses FIFO, xenpv uses the 2-level
 * ABI.
 */

#include <linux/bitops.h>
#include <linux/compiler.h>
#include <linux/gfp.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <asm/cmpxchg.h>
#include <linux/seq_file.h>
#include <xen/interface/xen.h>
#include <xen/interface/memory.h>
#include <xenpv/hypervisor.h>

#include "events.h"

#define XENPV_FIFO_WORDS_PER_PAGE	(PAGE_SIZE / sizeof(event_word_t))
#define XENPV_FIFO_MAX_PAGES \
	(EVTCHN_FIFO_NR_CHANNELS / XENPV_FIFO_WORDS_PER_PAGE)

#define FIFO_PENDING	BIT(EVTCHN_FIFO_PENDING)
#define FIFO_MASKED	BIT(EVTCHN_FIFO_MASKED)
#define FIFO_LINKED	BIT(EVTCHN_FIFO_LINKED)
#define FIFO_BUSY	BIT(EVTCHN_FIFO_BUSY)

/* Our record in the control frame, past the control block. */
#define XENPV_FIFO_MAGIC	0x4f464946564e4558ULL	/* "XENPVFIFO" */
#define XENPV_FIFO_META_OFFSET	2048
struct xenpv_fifo_meta {
	u64 magic;
	u32 nr_pages;
};

/*
 * The home frames (set by xenpv_fifo_set_home() before the layer starts)
 * and what is mapped of them while the layer runs. fifo_cb is vCPU 0's
 * control block at the start of frame 0; fifo_meta our record in it.
 */
static unsigned long fifo_home;
static unsigned int fifo_home_nr;
static struct evtchn_fifo_control_block *fifo_cb;
static struct xenpv_fifo_meta *fifo_meta;

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

/*
 * For debugfs: EVTCHNOP_unmask calls (an unmask found the port pending),
 * and ports taken off a queue that were masked or no longer pending.
 */
static atomic_long_t fifo_unmask_calls;
static unsigned long fifo_skipped;	/* the upcall's alone */

#if IS_ENABLED(CONFIG_XENPV_KUNIT_TEST)
/* The pages this module placed, for xenpv_fifo_forget() only. */
static struct page *fifo_placed[1 + XENPV_FIFO_MAX_PAGES];
#endif

/*
 * Move a new zeroed page to home frame @i and map it there; @fill is the
 * value of every 32-bit word. Until Xen takes the page, fifo_unplace()
 * gives it back.
 */
static void *fifo_place(unsigned int i, u32 fill)
{
	struct xen_add_to_physmap xatp = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_gmfn,
		.gpfn = fifo_home + i,
	};
	u32 *page;
	void *va;
	unsigned int w;

	page = (u32 *)get_zeroed_page(GFP_KERNEL);
	if (!page)
		return NULL;
	for (w = 0; fill && w < PAGE_SIZE / sizeof(*page); w++)
		page[w] = fill;
	xatp.idx = xenpv_virt_to_gfn(page);
	if (xenpv_memory_op(XENMEM_add_to_physmap, &xatp)) {
		free_page((unsigned long)page);
		return NULL;
	}
#if IS_ENABLED(CONFIG_XENPV_KUNIT_TEST)
	fifo_placed[i] = virt_to_page(page);
#endif
	/* From here on the page is reached only through its home frame. */
	va = xenpv_hv->map_gpfn(fifo_home + i, 1);
	if (!va)
		pr_err("xenpv: events: cannot map FIFO frame 0x%lx; its page is lost\n",
		       fifo_home + i);
	return va;
}

/*
 * Home frame @i is ours again: Xen refused it. Its page is left where it
 * is (the kernel's frame it came from is a hole now); the next
 * fifo_place() of @i replaces it.
 */
static void fifo_unplace(void *va)
{
	xenpv_hv->unmap(va);
}

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
 * same word concurrently, from another CPU). Returns the old value.
 *
 * sync_cmpxchg(), not cmpxchg(): on a guest with one CPU the kernel
 * patches the lock prefix out of its own and its modules' atomics (SMP
 * alternatives), and an unlocked cmpxchg can overwrite the PENDING bit
 * Xen sets meanwhile: the event is lost.
 */
static u32 fifo_update(event_word_t *w, u32 clear, u32 set)
{
	u32 old = READ_ONCE(*w), prev;

	for (;;) {
		prev = sync_cmpxchg(w, old, (old & ~clear) | set);
		if (prev == old)
			return old;
		old = prev;
	}
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
	u32 old, prev;

	if (!w)
		return;
	old = READ_ONCE(*w) & ~FIFO_BUSY;
	for (;;) {
		prev = sync_cmpxchg(w, old, old & ~FIFO_MASKED);
		if (prev == old)
			break;
		old = prev & ~FIFO_BUSY;
	}
	if (READ_ONCE(*w) & FIFO_PENDING) {
		atomic_long_inc(&fifo_unmask_calls);
		xenpv_event_channel_op(EVTCHNOP_unmask, &u);
	}
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
	int rc;

	if (fifo_nr_pages >= XENPV_FIFO_MAX_PAGES ||
	    1 + fifo_nr_pages >= fifo_home_nr)
		return -ENOSPC;
	page = fifo_place(1 + fifo_nr_pages, FIFO_MASKED);
	if (!page)
		return -ENOMEM;
	ex.array_gfn = fifo_home + 1 + fifo_nr_pages;
	rc = xenpv_event_channel_op(EVTCHNOP_expand_array, &ex);
	if (rc) {
		fifo_unplace(page);
		return rc;
	}
	fifo_pages[fifo_nr_pages] = page;
	WRITE_ONCE(fifo_meta->nr_pages, fifo_nr_pages + 1);
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
	else
		WRITE_ONCE(fifo_skipped, fifo_skipped + 1);
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

/* debugfs: the raw event word, LINKED and LINK included. */
static void fifo_show(struct seq_file *m, evtchn_port_t port)
{
	event_word_t *w = fifo_word(port);
	u32 v = w ? READ_ONCE(*w) : 0;

	seq_printf(m, " word 0x%08x%s%s%s%s link %u", v,
		   v & FIFO_PENDING ? " P" : "", v & FIFO_MASKED ? " M" : "",
		   v & FIFO_LINKED ? " L" : "", v & FIFO_BUSY ? " B" : "",
		   v & EVTCHN_FIFO_LINK_MASK);
}

/* debugfs: vCPU 0's READY bits and the queue heads, Xen's and ours. */
static void fifo_show_queues(struct seq_file *m)
{
	unsigned int q;

	if (!fifo_cb)
		return;
	seq_printf(m, "fifo ready 0x%x unmask_calls %ld skipped %lu\n",
		   READ_ONCE(fifo_cb->ready),
		   atomic_long_read(&fifo_unmask_calls), READ_ONCE(fifo_skipped));
	for (q = 0; q < EVTCHN_FIFO_MAX_QUEUES; q++)
		if (READ_ONCE(fifo_cb->head[q]) || fifo_head[q])
			seq_printf(m, "fifo q%u head %u ours %u\n", q,
				   READ_ONCE(fifo_cb->head[q]), fifo_head[q]);
}

static void fifo_stop(void);

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
	.stop = fifo_stop,
	.show = fifo_show,
	.show_queues = fifo_show_queues,
};

/**
 * xenpv_fifo_set_home() - where the FIFO pages live
 * @gpfn: the first of the frames reserved for them (in the platform BAR),
 *	the same on every load; 0 for none
 * @nr: how many: one for the control block, one per event array page
 *
 * Context: process context, before xenpv_events_start().
 */
void xenpv_fifo_set_home(unsigned long gpfn, unsigned int nr)
{
	fifo_home = gpfn;
	fifo_home_nr = nr;
}

/* Unmap the frames of an earlier load, found incomplete. */
static void fifo_unmap_all(void)
{
	unsigned int i;

	for (i = 0; i < fifo_nr_pages; i++) {
		xenpv_hv->unmap(fifo_pages[i]);
		fifo_pages[i] = NULL;
	}
	fifo_nr_pages = 0;
	if (fifo_cb)
		xenpv_hv->unmap(fifo_cb);
	fifo_cb = NULL;
	fifo_meta = NULL;
}

/*
 * Map the control frame and, if it holds our record, the event array an
 * earlier load left with Xen. Returns true if FIFO is active.
 */
static bool fifo_adopt(void)
{
	struct xenpv_fifo_meta *meta;
	unsigned int i, nr;
	void *cb;

	cb = xenpv_hv->map_gpfn(fifo_home, 1);
	if (!cb)
		return false;	/* nothing there yet */
	meta = cb + XENPV_FIFO_META_OFFSET;
	nr = READ_ONCE(meta->nr_pages);
	if (READ_ONCE(meta->magic) != XENPV_FIFO_MAGIC ||
	    nr > XENPV_FIFO_MAX_PAGES || 1 + nr > fifo_home_nr) {
		xenpv_hv->unmap(cb);
		return false;
	}
	fifo_cb = cb;
	fifo_meta = meta;
	for (i = 0; i < nr; i++) {
		fifo_pages[i] = xenpv_hv->map_gpfn(fifo_home + 1 + i, 1);
		if (!fifo_pages[i])
			break;
		fifo_nr_pages = i + 1;
	}
	if (fifo_nr_pages != nr) {
		pr_err("xenpv: events: cannot map the FIFO event array of an earlier load\n");
		fifo_unmap_all();
		return false;
	}
	return true;
}

/* EVTCHNOP_init_control with a control block placed at home. */
static int fifo_fresh(unsigned int *link_bits)
{
	struct evtchn_init_control init = { .offset = 0, .vcpu = 0 };
	void *cb;
	int rc;

	cb = fifo_place(0, 0);
	if (!cb)
		return -ENOMEM;
	init.control_gfn = fifo_home;
	rc = xenpv_event_channel_op(EVTCHNOP_init_control, &init);
	if (rc) {
		fifo_unplace(cb);
		return rc;
	}
	fifo_cb = cb;
	fifo_meta = cb + XENPV_FIFO_META_OFFSET;
	fifo_meta->nr_pages = 0;
	WRITE_ONCE(fifo_meta->magic, XENPV_FIFO_MAGIC);
	*link_bits = init.link_bits;
	return 0;
}

/**
 * xenpv_fifo_init() - use the FIFO ABI
 * @si: the mapped shared_info page (unused by FIFO; kept for symmetry)
 * @want: switch the domain to FIFO if it is not yet
 *
 * Adopts the control block and event array of an earlier load if Xen has
 * them (whatever @want says: Xen cannot go back); else, if @want,
 * registers vCPU 0's control block with Xen.
 *
 * Context: process context, under xenpv_events_mutex, before the upcall
 * is enabled.
 * Return: the ABI's operations, or NULL for the 2-level ABI (no home, not
 * wanted, or Xen refused).
 */
const struct xenpv_evtchn_abi *xenpv_fifo_init(struct shared_info *si,
					       bool want)
{
	unsigned int link_bits;
	int rc;

	memset(fifo_head, 0, sizeof(fifo_head));
	if (!fifo_home || fifo_home_nr < 2)
		return NULL;
	if (fifo_adopt()) {
		pr_info("xenpv: events: FIFO ABI adopted from an earlier load (%u array pages)%s\n",
			fifo_nr_pages, want ? "" : "; Xen keeps FIFO until the domain reboots");
		return &xenpv_fifo_abi;
	}
	if (!want)
		return NULL;
	rc = fifo_fresh(&link_bits);
	if (rc) {
		pr_warn("xenpv: events: EVTCHNOP_init_control failed (%d), using the 2-level ABI\n",
			rc);
		return NULL;
	}
	pr_info("xenpv: events: FIFO ABI active (%u link bits), control block at gfn 0x%lx\n",
		link_bits, fifo_home);
	return &xenpv_fifo_abi;
}

/* The layer stops: unmap; the pages stay with Xen for the next load. */
static void fifo_stop(void)
{
	fifo_unmap_all();
	memset(fifo_head, 0, sizeof(fifo_head));
}

#if IS_ENABLED(CONFIG_XENPV_KUNIT_TEST)
/**
 * xenpv_fifo_forget() - free the FIFO pages after a simulated Xen is gone
 *
 * Only for the KUnit suites: with a real Xen these pages must never be
 * freed. Frees every page this module placed, so that the next
 * simulation starts from scratch.
 *
 * Context: process context, with the events layer stopped and the
 * simulation that used the pages already stopped.
 */
void xenpv_fifo_forget(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(fifo_placed); i++) {
		if (fifo_placed[i])
			__free_page(fifo_placed[i]);
		fifo_placed[i] = NULL;
	}
}
#endif
