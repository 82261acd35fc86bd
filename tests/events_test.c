// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the events layer against the simulated hypervisor, once with the
 * 2-level ABI and once with FIFO (the same cases, two suites).
 *
 * Ports are real Linux IRQs here too: under UML the layer allocates its
 * IRQ descriptors, binds them in its irq_domain and request_irq()s them;
 * the simulation calls xenpv_events_upcall() as the platform interrupt
 * would. An upcall that falls due with interrupts off (an unmask inside
 * genirq, under the descriptor lock) waits, as a real interrupt would,
 * until the test calls xenpv_sim_deliver().
 */

#include <kunit/test.h>
#include <linux/kthread.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/workqueue.h>
#include <xen/interface/event_channel.h>
#include <xen/interface/hvm/params.h>
#include <xenpv/events.h>
#include <xenpv/hypervisor.h>

#include "../events/events.h"
#include "sim/sim.h"

#define EVT_LOG_MAX	32

/* What the test handlers saw. */
struct evt_rec {
	unsigned int count;
	unsigned int irq;
	evtchn_port_t port;
	bool eoi_in_handler;		/* call xenpv_irq_lateeoi() at once */
	unsigned int eoi_flags;
	unsigned int reraise;		/* send on @reraise_port this often */
	evtchn_port_t reraise_port;
};

#define EVT_BOUND_MAX	8

struct evt_test {
	struct xenpv_sim *sim;
	bool fifo;
	unsigned int nr_bound;		/* IRQs evt_bind() bound, to undo */
	unsigned int bound_irq[EVT_BOUND_MAX];
	void *bound_dev[EVT_BOUND_MAX];
	unsigned int log_len;
	evtchn_port_t log[EVT_LOG_MAX];	/* ports, in delivery order */
};

static struct evt_test *evt_cur;

static irqreturn_t evt_handler(int irq, void *dev)
{
	struct evt_rec *r = dev;

	r->count++;
	if (evt_cur->log_len < EVT_LOG_MAX)
		evt_cur->log[evt_cur->log_len++] = r->port;
	if (r->reraise) {
		r->reraise--;
		xenpv_notify_remote_via_evtchn(r->reraise_port);
	}
	if (r->eoi_in_handler)
		xenpv_irq_lateeoi(irq, r->eoi_flags);
	return IRQ_HANDLED;
}

/*
 * Where the FIFO pages go: frames the simulated physmap holds (nothing
 * else uses them), enough for the simulation's ports.
 */
#define EVT_FIFO_HOME	0xf0100UL
#define EVT_FIFO_FRAMES	(1 + XENPV_SIM_FIFO_PAGES)

static int evt_start(struct kunit *test, bool fifo)
{
	struct evt_test *t;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->sim = xenpv_sim_start(test);
	if (!t->sim)
		return -ENOMEM;
	t->fifo = fifo;
	t->sim->upcall = xenpv_events_upcall;
	t->sim->params[HVM_PARAM_CALLBACK_IRQ] = 1;
	evt_cur = t;
	test->priv = t;
	xenpv_fifo_set_home(EVT_FIFO_HOME, EVT_FIFO_FRAMES);
	if (xenpv_events_start(t->sim->shared_info, fifo)) {
		xenpv_sim_stop(t->sim);
		t->sim = NULL;
		return -EIO;
	}
	return 0;
}

static int evt_init_2l(struct kunit *test)
{
	return evt_start(test, false);
}

static int evt_init_fifo(struct kunit *test)
{
	return evt_start(test, true);
}

static void evt_exit(struct kunit *test)
{
	struct evt_test *t = test->priv;
	unsigned int i;

	/* Unbind what the case left bound (a second unbind is refused). */
	for (i = 0; i < t->nr_bound; i++)
		xenpv_unbind_from_irqhandler(t->bound_irq[i], t->bound_dev[i]);
	xenpv_events_exit();
	xenpv_sim_stop(t->sim);
	/* The simulated Xen is gone: its FIFO pages may go too. */
	xenpv_fifo_forget();
	xenpv_fifo_set_home(0, 0);
	evt_cur = NULL;
}

/*
 * A loopback channel: events sent on *@a arrive on *@b. Like Xen, the sim
 * marks the newly bound *@b pending (notifications to an unbound port are
 * lost); the cases count their own events only, so that one is dropped.
 */
static void evt_pair(struct kunit *test, evtchn_port_t *a, evtchn_port_t *b)
{
	KUNIT_ASSERT_EQ(test, xenpv_evtchn_alloc_unbound(DOMID_SELF, a), 0);
	KUNIT_ASSERT_EQ(test, xenpv_evtchn_bind_interdomain(DOMID_SELF, *a, b),
			0);
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_pending(evt_cur->sim, *b));
	xenpv_abi->clear_pending(*b);
}

static unsigned int evt_bind(struct kunit *test, evtchn_port_t port,
			     struct evt_rec *r, bool lateeoi)
{
	int irq;

	r->port = port;
	irq = xenpv_bind_evtchn_to_irqhandler(port, evt_handler, 0,
					      "xenpv-test", r, lateeoi);
	KUNIT_ASSERT_GT(test, irq, 0);
	r->irq = irq;
	if (evt_cur->nr_bound < EVT_BOUND_MAX) {
		evt_cur->bound_irq[evt_cur->nr_bound] = irq;
		evt_cur->bound_dev[evt_cur->nr_bound++] = r;
	}
	/* request_irq() unmasked with interrupts off: let that settle. */
	xenpv_sim_deliver(evt_cur->sim);
	return irq;
}

/* Bind @port with evt_handler and no flags; the result as returned. */
static int evt_try_bind(evtchn_port_t port, struct evt_rec *r)
{
	return xenpv_bind_evtchn_to_irqhandler(port, evt_handler, 0, "x", r,
					       false);
}

static void evt_abi_in_use(struct kunit *test)
{
	struct evt_test *t = test->priv;

	KUNIT_EXPECT_STREQ(test, xenpv_events_abi_name(),
			   t->fifo ? "fifo" : "2-level");
	KUNIT_EXPECT_EQ(test, t->sim->fifo, t->fifo);
}

/* One send, one call of the handler; the port is not left pending. */
static void evt_delivery(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_rec r = {};
	evtchn_port_t a, b;

	evt_pair(test, &a, &b);
	evt_bind(test, b, &r, false);
	KUNIT_EXPECT_EQ(test, xenpv_irq_to_evtchn(r.irq), (int)b);
	KUNIT_EXPECT_EQ(test, r.count, 0u);
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	KUNIT_EXPECT_EQ(test, r.count, 1u);
	KUNIT_EXPECT_FALSE(test, xenpv_sim_port_pending(t->sim, b));
	KUNIT_EXPECT_FALSE(test, xenpv_sim_port_masked(t->sim, b));
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	KUNIT_EXPECT_EQ(test, r.count, 2u);
	KUNIT_EXPECT_EQ(test, xenpv_unbind_from_irqhandler(r.irq, &r), 0);
	KUNIT_EXPECT_EQ(test, xenpv_evtchn_close(a), 0);
}

/*
 * Raised while masked: kept, not delivered; raised again while pending:
 * still one event; delivered once at unmask.
 */
static void evt_masked_then_unmasked(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_rec r = {}, other = {};
	evtchn_port_t a, b, c, d;

	evt_pair(test, &a, &b);
	evt_pair(test, &c, &d);
	evt_bind(test, b, &r, false);
	evt_bind(test, d, &other, false);
	KUNIT_ASSERT_EQ(test, xenpv_evtchn_mask(b), 0);
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_masked(t->sim, b));
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	KUNIT_EXPECT_EQ(test, r.count, 0u);
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_pending(t->sim, b));
	/* An upcall for a neighbouring port does not take the masked one. */
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(c), 0);
	KUNIT_EXPECT_EQ(test, other.count, 1u);
	KUNIT_EXPECT_EQ(test, r.count, 0u);
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_pending(t->sim, b));

	KUNIT_ASSERT_EQ(test, xenpv_evtchn_unmask(b), 0);
	xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, r.count, 1u);
	KUNIT_EXPECT_FALSE(test, xenpv_sim_port_pending(t->sim, b));
	xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, r.count, 1u);
}

/*
 * Masked after it was raised but before the interrupt fired (already
 * queued, with FIFO): the upcall skips it; the unmask delivers it.
 */
static void evt_masked_after_raise(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_rec r = {};
	unsigned long flags;
	evtchn_port_t a, b;

	evt_pair(test, &a, &b);
	evt_bind(test, b, &r, false);
	t->sim->params[HVM_PARAM_CALLBACK_IRQ] = 0;
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	KUNIT_ASSERT_EQ(test, xenpv_evtchn_mask(b), 0);
	local_irq_save(flags);
	xenpv_events_upcall();
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, r.count, 0u);
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_pending(t->sim, b));

	t->sim->params[HVM_PARAM_CALLBACK_IRQ] = 1;
	KUNIT_ASSERT_EQ(test, xenpv_evtchn_unmask(b), 0);
	xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, r.count, 1u);
	KUNIT_EXPECT_FALSE(test, xenpv_sim_port_pending(t->sim, b));
}

/* disable_irq() holds events back; enable_irq() delivers them, once. */
static void evt_disable_enable_irq(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_rec r = {};
	evtchn_port_t a, b;

	evt_pair(test, &a, &b);
	evt_bind(test, b, &r, false);
	disable_irq(r.irq);
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, r.count, 0u);
	enable_irq(r.irq);
	xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, r.count, 1u);
}

/* An event that arrived before its port was bound is not lost. */
static void evt_pending_before_bind(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_rec r = {};
	evtchn_port_t a, b;

	evt_pair(test, &a, &b);
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_pending(t->sim, b));
	evt_bind(test, b, &r, false);
	KUNIT_EXPECT_EQ(test, r.count, 1u);
}

/*
 * A port that the layer does not know, found pending and unmasked (someone
 * unmasked it behind the layer's back): the upcall masks it and leaves it
 * pending, and hands it to nobody.
 */
static void evt_unknown_port_masked(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evtchn_alloc_unbound au = {
		.dom = DOMID_SELF, .remote_dom = 0,
	};
	struct evtchn_unmask um;
	evtchn_port_t a, b;

	/* Some port of the layer's: with FIFO, it sets up the event array. */
	evt_pair(test, &a, &b);
	KUNIT_ASSERT_EQ(test, xenpv_event_channel_op(EVTCHNOP_alloc_unbound,
						     &au), 0);
	KUNIT_ASSERT_EQ(test, xenpv_sim_remote_bind(t->sim, au.port), 0);
	um.port = au.port;
	KUNIT_ASSERT_EQ(test, xenpv_event_channel_op(EVTCHNOP_unmask, &um), 0);
	KUNIT_EXPECT_FALSE(test, xenpv_sim_port_masked(t->sim, au.port));
	KUNIT_ASSERT_EQ(test, xenpv_sim_notify_guest(t->sim, au.port), 0);
	KUNIT_EXPECT_EQ(test, t->sim->upcalls, 1u);
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_masked(t->sim, au.port));
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_pending(t->sim, au.port));
}

/*
 * An event pending for a port when it is unbound is dropped: the old
 * handler never sees it, even when the upcall runs afterwards.
 */
static void evt_unbind_drops_pending(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_rec stale = {}, fresh = {};
	evtchn_port_t a, b, c, d;
	unsigned long flags;

	evt_pair(test, &a, &b);
	evt_bind(test, b, &stale, false);
	/* The event arrives, but the interrupt has not fired yet. */
	t->sim->params[HVM_PARAM_CALLBACK_IRQ] = 0;
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_pending(t->sim, b));
	KUNIT_EXPECT_EQ(test, xenpv_unbind_from_irqhandler(stale.irq, &stale),
			0);
	/* The layer opened b: unbinding closed it, a is unbound again. */
	KUNIT_EXPECT_EQ(test, t->sim->ports[b].state, XENPV_SIM_FREE);
	KUNIT_EXPECT_EQ(test, t->sim->ports[a].state, XENPV_SIM_UNBOUND);

	/* Now the interrupt fires: nothing for the old handler. */
	t->sim->params[HVM_PARAM_CALLBACK_IRQ] = 1;
	local_irq_save(flags);
	xenpv_events_upcall();
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, stale.count, 0u);

	/* A new channel, maybe on the old port number, works. */
	evt_pair(test, &c, &d);
	evt_bind(test, d, &fresh, false);
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(c), 0);
	KUNIT_EXPECT_EQ(test, fresh.count, 1u);
	KUNIT_EXPECT_EQ(test, stale.count, 0u);
}

/*
 * A port that came from elsewhere (not opened by the layer) stays open
 * after unbind, masked, with nothing pending.
 */
static void evt_foreign_port_stays_open(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evtchn_alloc_unbound au = {
		.dom = DOMID_SELF, .remote_dom = 0,
	};
	struct evt_rec r = {};

	KUNIT_ASSERT_EQ(test, xenpv_event_channel_op(EVTCHNOP_alloc_unbound,
						     &au), 0);
	KUNIT_ASSERT_EQ(test, xenpv_sim_remote_bind(t->sim, au.port), 0);
	evt_bind(test, au.port, &r, false);
	t->sim->params[HVM_PARAM_CALLBACK_IRQ] = 0;
	KUNIT_ASSERT_EQ(test, xenpv_sim_notify_guest(t->sim, au.port), 0);
	KUNIT_EXPECT_EQ(test, xenpv_unbind_from_irqhandler(r.irq, &r), 0);
	KUNIT_EXPECT_EQ(test, t->sim->ports[au.port].state,
			XENPV_SIM_INTERDOMAIN);
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_masked(t->sim, au.port));
	KUNIT_EXPECT_FALSE(test, xenpv_sim_port_pending(t->sim, au.port));
	KUNIT_EXPECT_EQ(test, r.count, 0u);
	/* Not the layer's to close. */
	KUNIT_EXPECT_EQ(test, xenpv_evtchn_close(au.port), -EINVAL);
}

/* VIRQs: bound on vCPU 0, delivered, closed on unbind. */
static void evt_virq(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_rec r = {};
	evtchn_port_t p, q;

	KUNIT_ASSERT_EQ(test, xenpv_evtchn_bind_virq(VIRQ_DEBUG, &p), 0);
	KUNIT_EXPECT_NE(test, xenpv_evtchn_bind_virq(VIRQ_DEBUG, &q), 0);
	evt_bind(test, p, &r, false);
	KUNIT_ASSERT_EQ(test, xenpv_sim_raise_virq(t->sim, VIRQ_DEBUG), 0);
	KUNIT_EXPECT_EQ(test, r.count, 1u);
	KUNIT_EXPECT_EQ(test, xenpv_unbind_from_irqhandler(r.irq, &r), 0);
	KUNIT_EXPECT_EQ(test, t->sim->ports[p].state, XENPV_SIM_FREE);
}

/*
 * Several ports pending at once are each delivered once, and a port that
 * keeps re-raising itself does not starve the others: the order is
 * first-come (FIFO) or one pass per scan (2-level).
 */
static void evt_no_starvation(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_rec r1 = {}, r2 = {}, r3 = {};
	evtchn_port_t a1, b1, a2, b2, a3, b3;
	unsigned long flags;
	unsigned int i;

	evt_pair(test, &a1, &b1);
	evt_pair(test, &a2, &b2);
	evt_pair(test, &a3, &b3);
	evt_bind(test, b1, &r1, false);
	evt_bind(test, b2, &r2, false);
	evt_bind(test, b3, &r3, false);
	r1.reraise = 5;
	r1.reraise_port = a1;

	/* All three arrive before the interrupt fires. */
	t->sim->params[HVM_PARAM_CALLBACK_IRQ] = 0;
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a1), 0);
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a2), 0);
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a3), 0);
	local_irq_save(flags);
	xenpv_events_upcall();
	local_irq_restore(flags);

	KUNIT_EXPECT_EQ(test, r1.count, 6u);
	KUNIT_EXPECT_EQ(test, r2.count, 1u);
	KUNIT_EXPECT_EQ(test, r3.count, 1u);
	KUNIT_ASSERT_GE(test, t->log_len, 4u);
	KUNIT_EXPECT_EQ(test, t->log[0], b1);
	KUNIT_EXPECT_EQ(test, t->log[1], b2);
	KUNIT_EXPECT_EQ(test, t->log[2], b3);
	for (i = 3; i < t->log_len; i++)
		KUNIT_EXPECT_EQ(test, t->log[i], b1);
}

/*
 * xenpv_events_upcall() says when vCPU 0's flag is still set after its
 * rounds, so that the vector route (an edge interrupt, raised only when
 * the flag goes from 0 to 1) calls it again: calling until it says no
 * delivers every event, and leaves the flag clear.
 */
static void evt_upcall_reports_flag(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct vcpu_info *vi = &t->sim->shared_info->vcpu_info[0];
	struct evt_rec r = {};
	evtchn_port_t a, b;
	unsigned long flags;
	unsigned int calls = 1;

	evt_pair(test, &a, &b);
	evt_bind(test, b, &r, false);
	r.reraise = 20;
	r.reraise_port = a;
	t->sim->params[HVM_PARAM_CALLBACK_IRQ] = 0;
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	local_irq_save(flags);
	while (xenpv_events_upcall() && calls < 100)
		calls++;
	local_irq_restore(flags);
	KUNIT_EXPECT_EQ(test, r.count, 21u);
	KUNIT_EXPECT_EQ(test, READ_ONCE(vi->evtchn_upcall_pending), 0);
	/*
	 * 2-level serves the port once per round, so 21 events need more
	 * than one call; FIFO drains its queue within a round.
	 */
	if (!t->fifo)
		KUNIT_EXPECT_GT(test, calls, 1u);
	/* Nothing pending: one call, and it says so. */
	local_irq_save(flags);
	KUNIT_EXPECT_FALSE(test, xenpv_events_upcall());
	local_irq_restore(flags);
}

/* lateeoi: no second delivery before the EOI, one right after it. */
static void evt_lateeoi_holds_until_eoi(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_rec r = {};
	evtchn_port_t a, b;

	evt_pair(test, &a, &b);
	evt_bind(test, b, &r, true);
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	KUNIT_EXPECT_EQ(test, r.count, 1u);
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_masked(t->sim, b));

	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, r.count, 1u);
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_pending(t->sim, b));

	xenpv_irq_lateeoi(r.irq, 0);
	xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, r.count, 2u);
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_masked(t->sim, b));
	/* The EOI of the second event; a duplicate EOI changes nothing. */
	xenpv_irq_lateeoi(r.irq, 0);
	KUNIT_EXPECT_FALSE(test, xenpv_sim_port_masked(t->sim, b));
	xenpv_irq_lateeoi(r.irq, 0);
	xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, r.count, 2u);
	KUNIT_EXPECT_FALSE(test, xenpv_sim_port_masked(t->sim, b));
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	KUNIT_EXPECT_EQ(test, r.count, 3u);
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_masked(t->sim, b));
}

/* The backoff policy itself: pure arithmetic, no clock. */
static void evt_lateeoi_backoff_policy(struct kunit *test)
{
	struct xenpv_eoi_backoff b = {};
	unsigned long d, prev = 0;
	unsigned int i;

	for (i = 0; i < XENPV_EOI_FREE_SPURIOUS; i++)
		KUNIT_EXPECT_EQ(test, xenpv_eoi_backoff_next(&b, true), 0UL);
	KUNIT_EXPECT_EQ(test, xenpv_eoi_backoff_next(&b, true),
			XENPV_EOI_DELAY_MIN);
	prev = XENPV_EOI_DELAY_MIN;
	for (i = 0; i < 40; i++) {
		d = xenpv_eoi_backoff_next(&b, true);
		KUNIT_EXPECT_EQ(test, d, min(prev * 2, XENPV_EOI_DELAY_MAX));
		prev = d;
	}
	KUNIT_EXPECT_EQ(test, prev, XENPV_EOI_DELAY_MAX);
	/* Work found: back to immediate EOIs, with the free ones again. */
	KUNIT_EXPECT_EQ(test, xenpv_eoi_backoff_next(&b, false), 0UL);
	for (i = 0; i < XENPV_EOI_FREE_SPURIOUS; i++)
		KUNIT_EXPECT_EQ(test, xenpv_eoi_backoff_next(&b, true), 0UL);
	KUNIT_EXPECT_EQ(test, xenpv_eoi_backoff_next(&b, true),
			XENPV_EOI_DELAY_MIN);
}

/*
 * A storming port whose driver reports spurious events: the first few
 * EOIs unmask at once, then the unmask is left to delayed work and the
 * port stays masked meanwhile. The delay is checked from the backoff state
 * and the queued work, not by waiting: to keep the work from running
 * before it is inspected, the port starts at the longest delay.
 */
static void evt_lateeoi_storm_throttled(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_rec r = { .eoi_in_handler = true,
			     .eoi_flags = XENPV_EOI_SPURIOUS };
	struct xenpv_port *p;
	evtchn_port_t a, b;
	unsigned int i;

	evt_pair(test, &a, &b);
	evt_bind(test, b, &r, true);
	p = xenpv_port_of_irq(r.irq);
	KUNIT_ASSERT_NOT_NULL(test, p);

	for (i = 1; i <= XENPV_EOI_FREE_SPURIOUS; i++) {
		KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
		xenpv_sim_deliver(t->sim);
		KUNIT_EXPECT_EQ(test, r.count, i);
		KUNIT_EXPECT_FALSE(test, delayed_work_pending(&p->eoi_work));
	}
	KUNIT_EXPECT_EQ(test, p->eoi.spurious, XENPV_EOI_FREE_SPURIOUS);
	KUNIT_EXPECT_EQ(test, p->eoi.delay, 0UL);

	/* Next spurious EOI: delayed, by the longest delay. */
	p->eoi.delay = XENPV_EOI_DELAY_MAX;
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, r.count, XENPV_EOI_FREE_SPURIOUS + 1);
	KUNIT_EXPECT_EQ(test, p->eoi.delay, XENPV_EOI_DELAY_MAX);
	KUNIT_EXPECT_TRUE(test, delayed_work_pending(&p->eoi_work));
	KUNIT_EXPECT_TRUE(test, xenpv_sim_port_masked(t->sim, b));

	/* The storm goes on: nothing is serviced while throttled. */
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, r.count, XENPV_EOI_FREE_SPURIOUS + 1);

	/* The delayed EOI, run now: the held event comes through. */
	mod_delayed_work(system_wq, &p->eoi_work, 0);
	flush_delayed_work(&p->eoi_work);
	xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, r.count, XENPV_EOI_FREE_SPURIOUS + 2);
	/* ... and its own spurious EOI is delayed again, still at the cap. */
	KUNIT_EXPECT_TRUE(test, delayed_work_pending(&p->eoi_work));

	/* Unbinding cancels the delayed EOI. */
	KUNIT_EXPECT_EQ(test, xenpv_unbind_from_irqhandler(r.irq, &r), 0);
}

static void evt_bad_input(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_rec r = {}, r2 = {};
	evtchn_port_t a, b;
	int irq;

	/* Ports out of range, or port 0. */
	KUNIT_EXPECT_EQ(test, xenpv_notify_remote_via_evtchn(0), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_notify_remote_via_evtchn(1u << 20),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, evt_try_bind(0, &r), -EINVAL);
	KUNIT_EXPECT_EQ(test, evt_try_bind(1u << 20, &r), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_evtchn_mask(1u << 20), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_evtchn_close(1u << 20), -EINVAL);

	/* A closed port (never opened), and one closed after use. */
	KUNIT_EXPECT_EQ(test, evt_try_bind(500, &r), -EINVAL);
	evt_pair(test, &a, &b);
	KUNIT_EXPECT_EQ(test, xenpv_evtchn_close(b), 0);
	KUNIT_EXPECT_EQ(test, xenpv_evtchn_close(b), -EINVAL);
	KUNIT_EXPECT_EQ(test, evt_try_bind(b, &r), -EINVAL);
	KUNIT_EXPECT_EQ(test, t->sim->ports[b].state, XENPV_SIM_FREE);

	/* A port bound twice; closing a port that has an IRQ. */
	irq = evt_bind(test, a, &r, false);
	KUNIT_EXPECT_EQ(test, evt_try_bind(a, &r2), -EBUSY);
	KUNIT_EXPECT_EQ(test, xenpv_evtchn_close(a), -EBUSY);

	/* Unbind with the wrong cookie, twice, and IRQs that are not ours. */
	KUNIT_EXPECT_EQ(test, xenpv_unbind_from_irqhandler(irq, &r2), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_unbind_from_irqhandler(irq, &r), 0);
	KUNIT_EXPECT_EQ(test, xenpv_unbind_from_irqhandler(irq, &r), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_unbind_from_irqhandler(0, &r), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_unbind_from_irqhandler(~0u, &r), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_irq_to_evtchn(irq), -EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_notify_remote_via_irq(irq), -EINVAL);
	KUNIT_EXPECT_EQ(test, t->sim->ports[a].state, XENPV_SIM_FREE);
	/* lateeoi on an IRQ that is not ours: a warning, nothing else. */
	xenpv_irq_lateeoi(irq, 0);
	xenpv_irq_lateeoi(~0u, XENPV_EOI_SPURIOUS);
	KUNIT_EXPECT_EQ(test, r.count, 0u);
}

/* With the layer stopped every call says so instead of crashing. */
static void evt_stopped_layer(struct kunit *test)
{
	struct evt_rec r = {};
	evtchn_port_t p;

	xenpv_events_exit();
	KUNIT_EXPECT_STREQ(test, xenpv_events_abi_name(), "none");
	KUNIT_EXPECT_EQ(test, xenpv_evtchn_alloc_unbound(DOMID_SELF, &p),
			-ENODEV);
	KUNIT_EXPECT_EQ(test, xenpv_notify_remote_via_evtchn(1), -ENODEV);
	KUNIT_EXPECT_EQ(test, evt_try_bind(1, &r), -ENODEV);
	xenpv_events_upcall();
	/* A second exit (from evt_exit()) is harmless too. */
}

/* exit closes what is still open. */
static void evt_exit_closes_ports(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_rec r = {};
	evtchn_port_t a, b;

	evt_pair(test, &a, &b);
	evt_bind(test, b, &r, false);
	xenpv_events_exit();
	KUNIT_EXPECT_EQ(test, t->sim->ports[a].state, XENPV_SIM_FREE);
	KUNIT_EXPECT_EQ(test, t->sim->ports[b].state, XENPV_SIM_FREE);
	KUNIT_EXPECT_NULL(test, xenpv_port_of_irq(r.irq));
}

struct evt_selftest_run {
	int rc;
	struct completion done;
};

static int evt_selftest_thread(void *arg)
{
	struct evt_selftest_run *run = arg;

	run->rc = xenpv_events_selftest();
	complete(&run->done);
	return 0;
}

/*
 * The self-test in a thread, while this one plays the interrupt that the
 * simulator holds back while interrupts are off: the storm's delayed
 * unmask runs from a workqueue with interrupts off, and the event it lets
 * through arrives only then.
 */
static void evt_selftest_passes(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_selftest_run run = { .rc = -EINPROGRESS };
	struct task_struct *task;
	unsigned int p;

	init_completion(&run.done);
	task = kthread_run(evt_selftest_thread, &run, "xenpv-selftest");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	while (!wait_for_completion_timeout(&run.done, msecs_to_jiffies(1)))
		xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, run.rc, 0);
	for (p = 1; p < XENPV_SIM_PORTS; p++)
		KUNIT_EXPECT_EQ(test, t->sim->ports[p].state, XENPV_SIM_FREE);
}

/* No interrupt, no delivery: the selftest must notice (one timeout). */
static void evt_selftest_detects_no_delivery(struct kunit *test)
{
	struct evt_test *t = test->priv;
	unsigned int p;

	t->sim->params[HVM_PARAM_CALLBACK_IRQ] = 0;
	KUNIT_EXPECT_EQ(test, xenpv_events_selftest(), -ETIMEDOUT);
	for (p = 1; p < XENPV_SIM_PORTS; p++)
		KUNIT_EXPECT_EQ(test, t->sim->ports[p].state, XENPV_SIM_FREE);
}

static struct kunit_case evt_cases[] = {
	KUNIT_CASE(evt_abi_in_use),
	KUNIT_CASE(evt_delivery),
	KUNIT_CASE(evt_masked_then_unmasked),
	KUNIT_CASE(evt_masked_after_raise),
	KUNIT_CASE(evt_disable_enable_irq),
	KUNIT_CASE(evt_pending_before_bind),
	KUNIT_CASE(evt_unknown_port_masked),
	KUNIT_CASE(evt_unbind_drops_pending),
	KUNIT_CASE(evt_foreign_port_stays_open),
	KUNIT_CASE(evt_virq),
	KUNIT_CASE(evt_no_starvation),
	KUNIT_CASE(evt_upcall_reports_flag),
	KUNIT_CASE(evt_lateeoi_holds_until_eoi),
	KUNIT_CASE(evt_lateeoi_backoff_policy),
	KUNIT_CASE(evt_lateeoi_storm_throttled),
	KUNIT_CASE(evt_bad_input),
	KUNIT_CASE(evt_stopped_layer),
	KUNIT_CASE(evt_exit_closes_ports),
	KUNIT_CASE(evt_selftest_passes),
	KUNIT_CASE_SLOW(evt_selftest_detects_no_delivery),
	{}
};

static struct kunit_suite evt_2l_suite = {
	.name = "xenpv_events_2l",
	.init = evt_init_2l,
	.exit = evt_exit,
	.test_cases = evt_cases,
};

static struct kunit_suite evt_fifo_suite = {
	.name = "xenpv_events_fifo",
	.init = evt_init_fifo,
	.exit = evt_exit,
	.test_cases = evt_cases,
};

/* FIFO refused by Xen: the layer falls back to 2-level. */
static void evt_fifo_fallback(struct kunit *test)
{
	struct xenpv_sim *sim = xenpv_sim_start(test);

	KUNIT_ASSERT_NOT_NULL(test, sim);
	xenpv_fifo_set_home(EVT_FIFO_HOME, EVT_FIFO_FRAMES);
	sim->fail_nr = __HYPERVISOR_event_channel_op;
	sim->fail_rc = -38;
	KUNIT_EXPECT_EQ(test, xenpv_events_start(sim->shared_info, true), 0);
	KUNIT_EXPECT_STREQ(test, xenpv_events_abi_name(), "2-level");
	KUNIT_EXPECT_FALSE(test, sim->fifo);
	KUNIT_EXPECT_EQ(test, xenpv_events_start(sim->shared_info, true),
			-EBUSY);
	xenpv_events_exit();
	xenpv_sim_stop(sim);
	xenpv_fifo_forget();
	xenpv_fifo_set_home(0, 0);
}

/* No frames for the FIFO pages: 2-level, and Xen is never asked. */
static void evt_fifo_needs_home(struct kunit *test)
{
	struct xenpv_sim *sim = xenpv_sim_start(test);

	KUNIT_ASSERT_NOT_NULL(test, sim);
	KUNIT_EXPECT_EQ(test, xenpv_events_start(sim->shared_info, true), 0);
	KUNIT_EXPECT_STREQ(test, xenpv_events_abi_name(), "2-level");
	KUNIT_EXPECT_FALSE(test, sim->fifo);
	xenpv_events_exit();
	xenpv_sim_stop(sim);
}

/*
 * The events layer stops and starts again (xenpv.ko unloaded and loaded)
 * while Xen keeps FIFO: the second start finds the pages at home and
 * adopts them without a second EVTCHNOP_init_control (Xen would refuse
 * it), even when 2-level is asked for; events flow again.
 */
static void evt_fifo_adopted_after_restart(struct kunit *test)
{
	struct evt_test *t = test->priv;
	struct evt_rec r = {};
	evtchn_port_t a, b;
	unsigned int calls;

	KUNIT_ASSERT_STREQ(test, xenpv_events_abi_name(), "fifo");
	/* Use the event array before the restart. */
	evt_pair(test, &a, &b);
	xenpv_events_exit();
	t->nr_bound = 0;
	KUNIT_ASSERT_TRUE(test, t->sim->fifo);

	calls = t->sim->calls[__HYPERVISOR_event_channel_op];
	KUNIT_ASSERT_EQ(test, xenpv_events_start(t->sim->shared_info, false), 0);
	KUNIT_EXPECT_STREQ(test, xenpv_events_abi_name(), "fifo");
	KUNIT_EXPECT_EQ(test, t->sim->calls[__HYPERVISOR_event_channel_op],
			calls);

	evt_pair(test, &a, &b);
	evt_bind(test, b, &r, false);
	KUNIT_ASSERT_EQ(test, xenpv_notify_remote_via_evtchn(a), 0);
	xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, r.count, 1U);
}

static struct kunit_case evt_fallback_cases[] = {
	KUNIT_CASE(evt_fifo_fallback),
	KUNIT_CASE(evt_fifo_needs_home),
	{}
};

static struct kunit_suite evt_fallback_suite = {
	.name = "xenpv_events_fifo_fallback",
	.test_cases = evt_fallback_cases,
};

static struct kunit_case evt_restart_cases[] = {
	KUNIT_CASE(evt_fifo_adopted_after_restart),
	{}
};

static struct kunit_suite evt_restart_suite = {
	.name = "xenpv_events_fifo_restart",
	.init = evt_init_fifo,
	.exit = evt_exit,
	.test_cases = evt_restart_cases,
};

kunit_test_suites(&evt_2l_suite, &evt_fifo_suite, &evt_fallback_suite,
		  &evt_restart_suite);
