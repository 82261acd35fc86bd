// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: Xen's TSC-to-ns arithmetic (pvops/pvclock.c) on known vectors.
 */

#include <kunit/test.h>
#include <asm/pvclock-abi.h>

#include "../pvops/pvops.h"

/* A 2 GHz TSC: mul = 0.5 in 32.32 fixed point, no shift. */
static void pvclock_scale_2ghz(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, xenpv_pvclock_scale(2000000000ULL, 0x80000000u, 0),
			1000000000ULL);
	KUNIT_EXPECT_EQ(test, xenpv_pvclock_scale(0, 0x80000000u, 0), 0ULL);
	KUNIT_EXPECT_EQ(test, xenpv_pvclock_scale(3, 0x80000000u, 0), 1ULL);
}

/* A 3 GHz TSC as Xen encodes it: shift -1, mul = 2/3. */
static void pvclock_scale_negative_shift(struct kunit *test)
{
	/* 3e9 ticks -> (3e9 >> 1) * 0xaaaaaaaa >> 32 = 999999999.77 */
	KUNIT_EXPECT_EQ(test, xenpv_pvclock_scale(3000000000ULL, 0xaaaaaaaau, -1),
			999999999ULL);
}

/* A slow 500 MHz TSC: shift +1, mul = 1.0 - 2^-32 (just below one). */
static void pvclock_scale_positive_shift(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, xenpv_pvclock_scale(500, 0xffffffffu, 1), 999ULL);
	KUNIT_EXPECT_EQ(test, xenpv_pvclock_scale(1ULL << 32, 0xffffffffu, 1),
			(2ULL << 32) - 2);
}

/* Hours of ticks must not overflow the 64x32 multiplication. */
static void pvclock_scale_large_delta(struct kunit *test)
{
	/* 10 hours at 2 GHz = 7.2e13 ticks. */
	KUNIT_EXPECT_EQ(test,
			xenpv_pvclock_scale(72000000000000ULL, 0x80000000u, 0),
			36000000000000ULL);
}

static void pvclock_ns_from_record(struct kunit *test)
{
	struct pvclock_vcpu_time_info t = {
		.version = 2,
		.tsc_timestamp = 1000000,
		.system_time = 5000000000ULL,
		.tsc_to_system_mul = 0x80000000u,
		.tsc_shift = 0,
	};

	KUNIT_EXPECT_EQ(test, xenpv_pvclock_ns(&t, 1000000), 5000000000ULL);
	KUNIT_EXPECT_EQ(test, xenpv_pvclock_ns(&t, 3000000), 5001000000ULL);
	/* A TSC from before the stamp: no time elapsed, not 2^64 ticks. */
	KUNIT_EXPECT_EQ(test, xenpv_pvclock_ns(&t, 999), 5000000000ULL);
}

static struct kunit_case pvclock_cases[] = {
	KUNIT_CASE(pvclock_scale_2ghz),
	KUNIT_CASE(pvclock_scale_negative_shift),
	KUNIT_CASE(pvclock_scale_positive_shift),
	KUNIT_CASE(pvclock_scale_large_delta),
	KUNIT_CASE(pvclock_ns_from_record),
	{}
};

static struct kunit_suite pvclock_suite = {
	.name = "xenpv-pvclock",
	.test_cases = pvclock_cases,
};

kunit_test_suite(pvclock_suite);
