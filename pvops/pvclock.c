// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: Xen's per-vCPU time arithmetic (vcpu_time_info), without any
 * hardware access, so that KUnit checks it on known vectors.
 *
 * Xen publishes, per vCPU: a TSC stamp, the system time in ns at that
 * stamp, and a scale (mul, shift) from TSC ticks to ns:
 *   ns = system_time + ((tsc - tsc_timestamp) << shift) * mul / 2^32
 * with a negative shift meaning a right shift. Xen bumps @version to an
 * odd value while it updates the record and to the next even value after.
 */

#include <linux/math64.h>
#include <asm/barrier.h>
#include <linux/compiler.h>

#include "pvops.h"

/**
 * xenpv_pvclock_scale() - convert a TSC delta to ns with Xen's scale
 * @delta: TSC ticks
 * @mul: tsc_to_system_mul, a 32.32 fixed-point factor below 1.0
 * @shift: tsc_shift, applied to @delta first
 *
 * Context: any.
 * Return: nanoseconds.
 */
u64 xenpv_pvclock_scale(u64 delta, u32 mul, s8 shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	return mul_u64_u32_shr(delta, mul, 32);
}

/**
 * xenpv_pvclock_ns() - Xen system time from a vcpu_time_info and a TSC
 * @t: the vCPU's time record in shared_info
 * @tsc: a TSC value read on that vCPU after @t was last updated
 *
 * Retries while Xen updates the record. A TSC below the stamp (read
 * before an update landed) counts as no time elapsed, never as a huge
 * unsigned delta.
 *
 * Context: any; notrace-safe.
 * Return: nanoseconds of Xen system time.
 */
u64 notrace xenpv_pvclock_ns(const struct pvclock_vcpu_time_info *t, u64 tsc)
{
	u64 stamp, sys, delta;
	u32 version, mul;
	s8 shift;

	do {
		version = READ_ONCE(t->version);
		/* Read the fields after the version; pairs with Xen's wmb. */
		smp_rmb();
		stamp = READ_ONCE(t->tsc_timestamp);
		sys = READ_ONCE(t->system_time);
		mul = READ_ONCE(t->tsc_to_system_mul);
		shift = READ_ONCE(t->tsc_shift);
		/* Re-read the version only after the fields. */
		smp_rmb();
	} while ((version & 1) || version != READ_ONCE(t->version));

	delta = tsc > stamp ? tsc - stamp : 0;
	return sys + xenpv_pvclock_scale(delta, mul, shift);
}
