// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the simulated hypervisor itself. The other suites trust it to
 * behave like Xen; these cases pin down the behaviour they rely on.
 */

#include <kunit/test.h>
#include <linux/bitops.h>
#include <xen/interface/event_channel.h>
#include <xen/interface/hvm/params.h>
#include <xen/interface/memory.h>
#include <xen/interface/sched.h>
#include <xenpv/hypervisor.h>

#include "sim/sim.h"

static unsigned int sim_test_upcalls;

static bool sim_test_upcall(void)
{
	sim_test_upcalls++;
	return false;
}

static int sim_test_init(struct kunit *test)
{
	sim_test_upcalls = 0;
	test->priv = xenpv_sim_start(test);
	return test->priv ? 0 : -ENOMEM;
}

static void sim_test_exit(struct kunit *test)
{
	xenpv_sim_stop(test->priv);
}

static u32 sim_test_alloc_unbound(struct kunit *test)
{
	struct evtchn_alloc_unbound a = {
		.dom = DOMID_SELF, .remote_dom = DOMID_SELF,
	};

	KUNIT_ASSERT_EQ(test, xenpv_event_channel_op(EVTCHNOP_alloc_unbound,
						     &a), 0);
	return a.port;
}

static void sim_unknown_hypercall_is_enosys(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, xenpv_hypercall(__HYPERVISOR_mmu_update, 0, 0, 0),
			-38L);
	KUNIT_EXPECT_EQ(test, xenpv_event_channel_op(99, NULL), -38);
}

static void sim_shared_info_via_physmap(struct kunit *test)
{
	struct xenpv_sim *sim = test->priv;
	struct xen_add_to_physmap x = {
		.domid = DOMID_SELF, .space = XENMAPSPACE_shared_info,
		.idx = 0, .gpfn = 0xf0000,
	};

	KUNIT_EXPECT_NULL(test, xenpv_hv->map_gpfn(0xf0000, 1));
	KUNIT_ASSERT_EQ(test, xenpv_memory_op(XENMEM_add_to_physmap, &x), 0);
	KUNIT_EXPECT_PTR_EQ(test, xenpv_hv->map_gpfn(0xf0000, 1),
			    (void *)sim->shared_info);
	/* Moving it leaves nothing behind at the old frame. */
	x.gpfn = 0xf0001;
	KUNIT_ASSERT_EQ(test, xenpv_memory_op(XENMEM_add_to_physmap, &x), 0);
	KUNIT_EXPECT_NULL(test, xenpv_hv->map_gpfn(0xf0000, 1));
	KUNIT_EXPECT_NOT_NULL(test, xenpv_hv->map_gpfn(0xf0001, 1));
}

static void sim_hvm_params(struct kunit *test)
{
	u64 v = 0;

	KUNIT_ASSERT_EQ(test, xenpv_hvm_set_param(HVM_PARAM_STORE_PFN, 0xfeffc),
			0);
	KUNIT_ASSERT_EQ(test, xenpv_hvm_get_param(HVM_PARAM_STORE_PFN, &v), 0);
	KUNIT_EXPECT_EQ(test, v, 0xfeffcULL);
	KUNIT_EXPECT_EQ(test, xenpv_hvm_get_param(HVM_NR_PARAMS, &v), -22);
}

/* A loopback channel: send on one end, the other becomes pending. */
static void sim_loopback_delivery(struct kunit *test)
{
	struct xenpv_sim *sim = test->priv;
	struct shared_info *si = sim->shared_info;
	struct evtchn_bind_interdomain b = { .remote_dom = DOMID_SELF };
	struct evtchn_send s;
	struct evtchn_unmask u;
	u32 a;

	sim->upcall = sim_test_upcall;
	sim->params[HVM_PARAM_CALLBACK_IRQ] = 1;
	a = sim_test_alloc_unbound(test);
	b.remote_port = a;
	KUNIT_ASSERT_EQ(test, xenpv_event_channel_op(EVTCHNOP_bind_interdomain,
						     &b), 0);
	KUNIT_EXPECT_NE(test, b.local_port, a);

	/* Masked: pending, but no upcall. */
	s.port = b.local_port;
	KUNIT_ASSERT_EQ(test, xenpv_event_channel_op(EVTCHNOP_send, &s), 0);
	KUNIT_EXPECT_TRUE(test, test_bit(a, (unsigned long *)si->evtchn_pending));
	KUNIT_EXPECT_EQ(test, sim_test_upcalls, 0u);
	KUNIT_EXPECT_EQ(test, (int)si->vcpu_info[0].evtchn_upcall_pending, 0);

	/* Unmasking a pending port raises the upcall. */
	u.port = a;
	KUNIT_ASSERT_EQ(test, xenpv_event_channel_op(EVTCHNOP_unmask, &u), 0);
	KUNIT_EXPECT_EQ(test, sim_test_upcalls, 1u);
	KUNIT_EXPECT_EQ(test, (int)si->vcpu_info[0].evtchn_upcall_pending, 1);
	KUNIT_EXPECT_TRUE(test, test_bit(a / BITS_PER_LONG, (unsigned long *)
					 &si->vcpu_info[0].evtchn_pending_sel));
}

static void sim_no_upcall_without_callback(struct kunit *test)
{
	struct xenpv_sim *sim = test->priv;
	struct evtchn_bind_ipi b = { .vcpu = 0 };
	struct evtchn_unmask u;
	struct evtchn_send s;

	sim->upcall = sim_test_upcall;
	KUNIT_ASSERT_EQ(test, xenpv_event_channel_op(EVTCHNOP_bind_ipi, &b), 0);
	u.port = b.port;
	KUNIT_ASSERT_EQ(test, xenpv_event_channel_op(EVTCHNOP_unmask, &u), 0);
	s.port = b.port;
	KUNIT_ASSERT_EQ(test, xenpv_event_channel_op(EVTCHNOP_send, &s), 0);
	KUNIT_EXPECT_EQ(test, sim_test_upcalls, 0u);
}

static void sim_close_and_bad_ports(struct kunit *test)
{
	struct evtchn_close c;
	struct evtchn_status st;
	struct evtchn_send s;
	u32 a = sim_test_alloc_unbound(test);

	st.dom = DOMID_SELF;
	st.port = a;
	KUNIT_ASSERT_EQ(test, xenpv_event_channel_op(EVTCHNOP_status, &st), 0);
	KUNIT_EXPECT_EQ(test, st.status, (u32)EVTCHNSTAT_unbound);

	c.port = a;
	KUNIT_EXPECT_EQ(test, xenpv_event_channel_op(EVTCHNOP_close, &c), 0);
	KUNIT_EXPECT_EQ(test, xenpv_event_channel_op(EVTCHNOP_close, &c), -22);
	KUNIT_ASSERT_EQ(test, xenpv_event_channel_op(EVTCHNOP_status, &st), 0);
	KUNIT_EXPECT_EQ(test, st.status, (u32)EVTCHNSTAT_closed);

	c.port = 0;
	KUNIT_EXPECT_EQ(test, xenpv_event_channel_op(EVTCHNOP_close, &c), -22);
	s.port = XENPV_SIM_PORTS;
	KUNIT_EXPECT_EQ(test, xenpv_event_channel_op(EVTCHNOP_send, &s), -22);
}

static void sim_virq_binds_once(struct kunit *test)
{
	struct xenpv_sim *sim = test->priv;
	struct evtchn_bind_virq v = { .virq = VIRQ_TIMER, .vcpu = 0 };

	KUNIT_ASSERT_EQ(test, xenpv_event_channel_op(EVTCHNOP_bind_virq, &v), 0);
	KUNIT_EXPECT_EQ(test, xenpv_event_channel_op(EVTCHNOP_bind_virq, &v),
			-16);
	KUNIT_EXPECT_EQ(test, xenpv_sim_raise_virq(sim, VIRQ_TIMER), 0);
	KUNIT_EXPECT_TRUE(test, test_bit(v.port, (unsigned long *)
					 sim->shared_info->evtchn_pending));
	KUNIT_EXPECT_EQ(test, xenpv_sim_raise_virq(sim, VIRQ_DEBUG), -ENOENT);
}

static void sim_fault_injection_and_shutdown(struct kunit *test)
{
	struct xenpv_sim *sim = test->priv;
	struct sched_shutdown sd = { .reason = SHUTDOWN_poweroff };

	sim->fail_nr = __HYPERVISOR_sched_op;
	sim->fail_rc = -1;
	KUNIT_EXPECT_EQ(test, xenpv_sched_op(SCHEDOP_shutdown, &sd), -1);
	KUNIT_EXPECT_EQ(test, sim->shutdown_reason, -1);
	/* One failure only. */
	KUNIT_EXPECT_EQ(test, xenpv_sched_op(SCHEDOP_shutdown, &sd), 0);
	KUNIT_EXPECT_EQ(test, sim->shutdown_reason, SHUTDOWN_poweroff);
	KUNIT_EXPECT_EQ(test, sim->calls[__HYPERVISOR_sched_op], 2u);
}

static struct kunit_case sim_cases[] = {
	KUNIT_CASE(sim_unknown_hypercall_is_enosys),
	KUNIT_CASE(sim_shared_info_via_physmap),
	KUNIT_CASE(sim_hvm_params),
	KUNIT_CASE(sim_loopback_delivery),
	KUNIT_CASE(sim_no_upcall_without_callback),
	KUNIT_CASE(sim_close_and_bad_ports),
	KUNIT_CASE(sim_virq_binds_once),
	KUNIT_CASE(sim_fault_injection_and_shutdown),
	{}
};

static struct kunit_suite sim_suite = {
	.name = "xenpv-sim",
	.init = sim_test_init,
	.exit = sim_test_exit,
	.test_cases = sim_cases,
};

kunit_test_suite(sim_suite);
