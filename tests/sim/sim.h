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
	void (*upcall)(void);
	unsigned int upcalls;
	bool upcall_deferred;
	bool upcall_reasserted;
	unsigned int upcall_rounds_max;
	bool fifo;
	struct evtchn_fifo_control_block *fifo_cb;
	event_word_t *fifo_array[XENPV_SIM_FIFO_PAGES];
	unsigned int fifo_nr_pages;
	u32 fifo_tail[EVTCHN_FIFO_MAX_QUEUES];
};

struct xenpv_sim *xenpv_sim_start(struct kunit *test);
void xenpv_sim_stop(struct xenpv_sim *sim);

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

/* Internal to the simulation (tests/sim/*.c). */
long xenpv_sim_evtchn_op(struct xenpv_sim *sim, int cmd, void *arg,
			 bool *upcall);
void xenpv_sim_run_upcall(struct xenpv_sim *sim);

#endif /* _XENPV_TESTS_SIM_H */
