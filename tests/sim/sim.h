/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A simulated Xen for the KUnit suites.
 *
 * It implements struct xenpv_hv_ops in software: CPUID leaves, the
 * hypercalls xenpv makes (decoding the same argument structures Xen
 * decodes), a physmap backed by kernel pages, and the remote end of event
 * channels. The layer code under test cannot tell it from Xen, except that
 * the simulation is synchronous: a notification to the guest runs the
 * upcall handler before the hypercall that caused it returns.
 *
 * One simulation exists at a time (the ops table has no context
 * argument); xenpv_sim_start() installs it, xenpv_sim_stop() removes it.
 */
#ifndef _XENPV_TESTS_SIM_H
#define _XENPV_TESTS_SIM_H

#include <linux/math.h>
#include <linux/mm.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <xen/interface/xen.h>
#include <xen/interface/event_channel.h>
#include <xen/interface/hvm/params.h>

struct kunit;

#define XENPV_SIM_PORTS		1024	/* 2-level ABI on 64-bit: 4096 max */
#define XENPV_SIM_PHYSMAP	64
#define XENPV_SIM_HYPERCALLS	64
#define XENPV_SIM_DOMID		7	/* the guest's own domain id */

enum xenpv_sim_port_state {
	XENPV_SIM_FREE = 0,
	XENPV_SIM_UNBOUND,	/* waiting for @remote_dom to bind */
	XENPV_SIM_INTERDOMAIN,	/* connected to @remote_dom */
	XENPV_SIM_VIRQ,
	XENPV_SIM_IPI,
};

struct xenpv_sim_port {
	enum xenpv_sim_port_state state;
	domid_t remote_dom;
	u32 remote_port;	/* loopback: our own port; else a token */
	u32 virq;
	u32 vcpu;
	unsigned int sent;	/* EVTCHNOP_send by the guest on this port */
	u8 priority;		/* FIFO queue (EVTCHN_FIFO_PRIORITY_*) */
	bool fifo_held;		/* FIFO: pending, but no event word yet */
};

/* FIFO: event array pages the simulation accepts (words for every port). */
#define XENPV_SIM_FIFO_PAGES	DIV_ROUND_UP(XENPV_SIM_PORTS, PAGE_SIZE / 4)
/* Upcalls run back to back at most, while events keep arriving in them. */
#define XENPV_SIM_UPCALL_ROUNDS	16

/* Grant table (tests/sim/grant.c): frames Xen can hold, backend mappings. */
#define XENPV_SIM_GNT_FRAMES	32
#define XENPV_SIM_GNT_MAPS	32

/* One mapping of a guest grant by a backend (Xen's maptrack entry). */
struct xenpv_sim_gnt_map {
	bool used;
	bool write;
	domid_t dom;
	u32 ref;
};

struct xenpv_sim_frame {
	unsigned long gpfn;
	unsigned int space;	/* XENMAPSPACE_* */
	unsigned long idx;
	void *page;		/* what the guest sees at @gpfn */
};

/**
 * struct xenpv_sim - the state of the simulated hypervisor
 * @lock: protects everything below; taken inside hypercalls, so never
 *	held while calling @upcall.
 * @has_xen: CPUID shows Xen; false simulates bare metal
 * @cpuid_base: where Xen's leaves start
 * @max_leaf: what the first leaf reports
 * @version: (major << 16) | minor
 * @version_hypercall: what XENVER_version returns (normally @version)
 * @hvm_features: leaf base + 4, eax
 * @vcpu_id: leaf base + 4, ebx
 * @features: XENVER_get_features submap 0
 * @extraversion: XENVER_extraversion
 * @params: HVM parameters
 * @shared_info: Xen's shared_info page
 * @physmap: frames added with XENMEM_add_to_physmap
 * @ports: event channel ports; port 0 is never valid
 * @calls: how many times each hypercall number was made
 * @fail_nr: make the next hypercall @fail_nr fail with @fail_rc
 *	(-1 = none)
 * @fail_rc: the Xen errno for @fail_nr
 * @shutdown_reason: SCHEDOP_shutdown's reason, or -1
 * @upcall: called (without @lock) when an event is made pending for the
 *	guest and the upcall is enabled (HVM_PARAM_CALLBACK_IRQ non-zero)
 * @upcalls: how many times @upcall ran
 * @upcall_deferred: an upcall was due while the guest had interrupts off
 *	(as a real interrupt would, it waits): xenpv_sim_deliver() runs it
 * @upcall_reasserted: an event arrived while @upcall ran, so it runs
 *	again when it returns (a level interrupt), up to
 *	XENPV_SIM_UPCALL_ROUNDS times in a row
 * @upcall_rounds_max: the most rounds one delivery took
 * @fifo: EVTCHNOP_init_control succeeded: events use the FIFO ABI
 * @fifo_cb: vCPU 0's control block (in the guest's page)
 * @fifo_array: the event array pages the guest gave with expand_array
 * @fifo_nr_pages: how many of @fifo_array are set
 * @fifo_tail: the tail port of each FIFO queue, 0 when none (Xen-private)
 * @gnt_frames: Xen's grant table frames, allocated as the table grows
 * @gnt_nr_frames: how many frames the grant table has
 * @gnt_max_frames: the max_nr_frames GNTTABOP_query_size reports and the
 *	table's limit; 0 means XENPV_SIM_GNT_FRAMES
 * @gnt_maps: the backend's current mappings of the guest's grants
 * @remote_send: if set, called (without @lock, after the hypercall) when
 *	the guest sends on an interdomain port whose remote end is another
 *	domain: the simulated xenstored (tests/sim/xenstore.c) runs there
 * @remote_send_due: the port for @remote_send, set under @lock by
 *	EVTCHNOP_send and taken by sim_hypercall() before it unlocks
 */
struct xenpv_sim {
	spinlock_t lock;	/* see @lock above */
	bool has_xen;
	u32 cpuid_base;
	u32 max_leaf;
	u32 version;
	u32 version_hypercall;
	u32 hvm_features;
	u32 vcpu_id;
	u32 features;
	char extraversion[16];
	u64 params[HVM_NR_PARAMS];
	struct shared_info *shared_info;
	struct xenpv_sim_frame physmap[XENPV_SIM_PHYSMAP];
	struct xenpv_sim_port ports[XENPV_SIM_PORTS];
	unsigned int calls[XENPV_SIM_HYPERCALLS];
	int fail_nr;
	int fail_rc;
	int shutdown_reason;
	bool (*upcall)(void);
	unsigned int upcalls;
	bool upcall_deferred;
	bool upcall_reasserted;
	unsigned int upcall_rounds_max;
	bool fifo;
	struct evtchn_fifo_control_block *fifo_cb;
	event_word_t *fifo_array[XENPV_SIM_FIFO_PAGES];
	unsigned int fifo_nr_pages;
	u32 fifo_tail[EVTCHN_FIFO_MAX_QUEUES];
	void *gnt_frames[XENPV_SIM_GNT_FRAMES];
	unsigned int gnt_nr_frames;
	unsigned int gnt_max_frames;
	struct xenpv_sim_gnt_map gnt_maps[XENPV_SIM_GNT_MAPS];
	void (*remote_send)(struct xenpv_sim *sim, u32 port);
	u32 remote_send_due;
};

struct xenpv_sim *xenpv_sim_start(struct kunit *test);
void xenpv_sim_stop(struct xenpv_sim *sim);
struct xenpv_sim_frame *xenpv_sim_find_gpfn(struct xenpv_sim *s,
					    unsigned long gpfn);

/* The backend side: raise @port for the guest, as a remote send would. */
int xenpv_sim_notify_guest(struct xenpv_sim *sim, u32 port);
/* The backend side: bind to a port the guest allocated unbound. */
int xenpv_sim_remote_bind(struct xenpv_sim *sim, u32 port);
/* Raise a VIRQ bound on the guest's vcpu 0. */
int xenpv_sim_raise_virq(struct xenpv_sim *sim, u32 virq);

/* Run an upcall that waited for interrupts to be enabled (see above). */
void xenpv_sim_deliver(struct xenpv_sim *sim);
/* Is @port pending / masked, in whichever ABI is active? */
bool xenpv_sim_port_pending(struct xenpv_sim *sim, u32 port);
bool xenpv_sim_port_masked(struct xenpv_sim *sim, u32 port);

/* Internal to the simulation (the files of tests/sim). */
long xenpv_sim_evtchn_op(struct xenpv_sim *sim, int cmd, void *arg,
			 bool *upcall);
void xenpv_sim_run_upcall(struct xenpv_sim *sim);

/*
 * Grant table, backend side (tests/sim/grant.c). Results are Xen's GNTST_*
 * values (0 or negative), as a backend's grant operations would see them.
 * A suite that lets the guest map grant frames calls xenpv_sim_grant_free()
 * before xenpv_sim_stop().
 */
struct xen_add_to_physmap;
long xenpv_sim_physmap_place(struct xenpv_sim *s, struct xen_add_to_physmap *x,
			     void *page);
long xenpv_sim_grant_table_op(struct xenpv_sim *sim, unsigned int cmd,
			      void *arg, unsigned int count);
long xenpv_sim_grant_add_to_physmap(struct xenpv_sim *sim,
				    struct xen_add_to_physmap *x);
int xenpv_sim_grant_map(struct xenpv_sim *sim, domid_t dom, u32 ref,
			bool write, struct page **page);
int xenpv_sim_grant_unmap(struct xenpv_sim *sim, int handle);
int xenpv_sim_grant_copy(struct xenpv_sim *sim, domid_t dom, u32 ref,
			 unsigned int offset, void *buf, size_t len,
			 bool to_guest);
void *xenpv_sim_grant_entry(struct xenpv_sim *sim, u32 ref);
void xenpv_sim_grant_free(struct xenpv_sim *sim);

/*
 * A simulated xenstored (tests/sim/xenstore.c): a node tree served over a
 * ring page it allocates, reported as HVM_PARAM_STORE_PFN (and mapped by
 * map_gpfn()), and an interdomain port to domain 0 reported as
 * HVM_PARAM_STORE_EVTCHN. It runs in the guest's context, each time the
 * guest sends on that port, and raises the port when it wrote replies.
 * Paths given to the helpers are absolute.
 */
struct xenpv_sim_xs;
struct xenstore_domain_interface;
struct xenpv_sim_xs *xenpv_sim_xs_start(struct xenpv_sim *sim);
void xenpv_sim_xs_stop(struct xenpv_sim_xs *xs);
int xenpv_sim_xs_set(struct xenpv_sim_xs *xs, const char *path,
		     const char *value);
char *xenpv_sim_xs_get(struct xenpv_sim_xs *xs, const char *path);
/* Keep requests unanswered until release; release answers last first. */
void xenpv_sim_xs_hold(struct xenpv_sim_xs *xs);
void xenpv_sim_xs_release(struct xenpv_sim_xs *xs);
unsigned int xenpv_sim_xs_nr_held(struct xenpv_sim_xs *xs);
u32 xenpv_sim_xs_held_id(struct xenpv_sim_xs *xs, unsigned int i);
/* Read requests but never answer them. */
void xenpv_sim_xs_mute(struct xenpv_sim_xs *xs, bool mute);
/* The next @n commits (TRANSACTION_END "T") fail with EAGAIN. */
void xenpv_sim_xs_tx_eagain(struct xenpv_sim_xs *xs, unsigned int n);
/* Requests of @type received (XS_TYPE_COUNT: all). */
unsigned int xenpv_sim_xs_count(struct xenpv_sim_xs *xs, u32 type);
/* Watches the guest has registered. */
unsigned int xenpv_sim_xs_nr_watches(struct xenpv_sim_xs *xs);
/* Send raw bytes on the reply ring, as a broken xenstored would. */
int xenpv_sim_xs_inject(struct xenpv_sim_xs *xs, const void *bytes,
			unsigned int len);
/* The ring page, for tests that corrupt it; kick raises the port. */
struct xenstore_domain_interface *xenpv_sim_xs_ring(struct xenpv_sim_xs *xs);
void xenpv_sim_xs_kick(struct xenpv_sim_xs *xs);

#endif /* _XENPV_TESTS_SIM_H */
