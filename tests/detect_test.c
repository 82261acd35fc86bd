// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: detection of Xen from CPUID and the version hypercalls
 * (pvops/hypervisor.c), against the simulated hypervisor.
 */

#include <kunit/test.h>
#include <xen/interface/features.h>
#include <xen/interface/xen.h>
#include <xenpv/hypervisor.h>

#include "sim/sim.h"

static int detect_init(struct kunit *test)
{
	test->priv = xenpv_sim_start(test);
	return test->priv ? 0 : -ENOMEM;
}

static void detect_exit(struct kunit *test)
{
	xenpv_sim_stop(test->priv);
}

static void detect_finds_xen_at_first_leaf(struct kunit *test)
{
	struct xenpv_xen_info info;

	KUNIT_ASSERT_EQ(test, xenpv_detect_cpuid(&info), 0);
	KUNIT_EXPECT_EQ(test, info.cpuid_base, 0x40000000u);
	KUNIT_EXPECT_EQ(test, info.max_leaf, 0x40000005u);
	KUNIT_EXPECT_EQ(test, info.major, 4);
	KUNIT_EXPECT_EQ(test, info.minor, 17);
}

/* With Viridian enabled, Xen's leaves move up by 0x100. */
static void detect_finds_xen_behind_viridian(struct kunit *test)
{
	struct xenpv_sim *sim = test->priv;
	struct xenpv_xen_info info;

	sim->cpuid_base = 0x40000100;
	sim->max_leaf = 0x40000105;
	KUNIT_ASSERT_EQ(test, xenpv_detect_cpuid(&info), 0);
	KUNIT_EXPECT_EQ(test, info.cpuid_base, 0x40000100u);
	KUNIT_EXPECT_EQ(test, info.major, 4);
}

static void detect_no_xen(struct kunit *test)
{
	struct xenpv_sim *sim = test->priv;
	struct xenpv_xen_info info;

	sim->has_xen = false;
	KUNIT_EXPECT_EQ(test, xenpv_detect_cpuid(&info), -ENODEV);
}

/* A signature whose range lacks the version and hypercall leaves. */
static void detect_rejects_short_range(struct kunit *test)
{
	struct xenpv_sim *sim = test->priv;
	struct xenpv_xen_info info;

	sim->max_leaf = 0x40000001;
	KUNIT_EXPECT_EQ(test, xenpv_detect_cpuid(&info), -ENODEV);
}

/* A max leaf past the range is another hypervisor's garbage. */
static void detect_rejects_wild_max_leaf(struct kunit *test)
{
	struct xenpv_sim *sim = test->priv;
	struct xenpv_xen_info info;

	sim->max_leaf = 0x40000200;
	KUNIT_EXPECT_EQ(test, xenpv_detect_cpuid(&info), -ENODEV);
}

static void detect_hvm_leaf(struct kunit *test)
{
	struct xenpv_sim *sim = test->priv;
	struct xenpv_xen_info info;

	sim->vcpu_id = 3;
	KUNIT_ASSERT_EQ(test, xenpv_detect_cpuid(&info), 0);
	KUNIT_EXPECT_EQ(test, info.vcpu_id, 3u);

	/* Without the present flag, ebx means nothing. */
	sim->hvm_features = 0;
	KUNIT_ASSERT_EQ(test, xenpv_detect_cpuid(&info), 0);
	KUNIT_EXPECT_EQ(test, info.vcpu_id, 0u);

	/* Too few leaves: the HVM leaf is not read at all. */
	sim->hvm_features = BIT(3);
	sim->max_leaf = 0x40000003;
	KUNIT_ASSERT_EQ(test, xenpv_detect_cpuid(&info), 0);
	KUNIT_EXPECT_EQ(test, info.hvm_features, 0u);
}

static void detect_version_and_features(struct kunit *test)
{
	struct xenpv_xen_info info;

	KUNIT_ASSERT_EQ(test, xenpv_detect_cpuid(&info), 0);
	KUNIT_ASSERT_EQ(test, xenpv_detect_version(&info), 0);
	KUNIT_EXPECT_STREQ(test, info.extraversion, ".5-sim");
	KUNIT_EXPECT_TRUE(test,
			  info.features & BIT(XENFEAT_hvm_safe_pvclock));
}

static void detect_version_mismatch(struct kunit *test)
{
	struct xenpv_sim *sim = test->priv;
	struct xenpv_xen_info info;

	sim->version_hypercall = (4 << 16) | 18;
	KUNIT_ASSERT_EQ(test, xenpv_detect_cpuid(&info), 0);
	KUNIT_EXPECT_EQ(test, xenpv_detect_version(&info), -EPROTO);
}

static void detect_hypercall_failure(struct kunit *test)
{
	struct xenpv_sim *sim = test->priv;
	struct xenpv_xen_info info;

	KUNIT_ASSERT_EQ(test, xenpv_detect_cpuid(&info), 0);
	sim->fail_nr = __HYPERVISOR_xen_version;
	sim->fail_rc = -38;
	KUNIT_EXPECT_EQ(test, xenpv_detect_version(&info), -EIO);
}

/* Xen fills all 16 bytes; the copy must still be terminated. */
static void detect_extraversion_unterminated(struct kunit *test)
{
	struct xenpv_sim *sim = test->priv;
	struct xenpv_xen_info info;

	memset(sim->extraversion, 'x', sizeof(sim->extraversion));
	KUNIT_ASSERT_EQ(test, xenpv_detect_cpuid(&info), 0);
	KUNIT_ASSERT_EQ(test, xenpv_detect_version(&info), 0);
	KUNIT_EXPECT_EQ(test, strlen(info.extraversion),
			sizeof(info.extraversion) - 1);
}

static struct kunit_case detect_cases[] = {
	KUNIT_CASE(detect_finds_xen_at_first_leaf),
	KUNIT_CASE(detect_finds_xen_behind_viridian),
	KUNIT_CASE(detect_no_xen),
	KUNIT_CASE(detect_rejects_short_range),
	KUNIT_CASE(detect_rejects_wild_max_leaf),
	KUNIT_CASE(detect_hvm_leaf),
	KUNIT_CASE(detect_version_and_features),
	KUNIT_CASE(detect_version_mismatch),
	KUNIT_CASE(detect_hypercall_failure),
	KUNIT_CASE(detect_extraversion_unterminated),
	{}
};

static struct kunit_suite detect_suite = {
	.name = "xenpv-detect",
	.init = detect_init,
	.exit = detect_exit,
	.test_cases = detect_cases,
};

kunit_test_suite(detect_suite);
