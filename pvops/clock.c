// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: a clocksource read from Xen's vcpu_time_info.
 *
 * Reads vCPU 0's record in shared_info with the local TSC: Xen keeps an
 * HVM guest's TSC consistent across its vCPUs, and all vCPUs see the
 * record. Unless Xen marks the record TSC-stable, reads are clamped so the
 * clock never goes backwards between CPUs.
 *
 * Like mainline, a stable TSC stays preferred: the rating is 275, below
 * the TSC's 300, when the TSC is invariant and not marked unstable, and
 * 400 (chosen over the TSC) otherwise. It can always be chosen by hand
 * through /sys/devices/system/clocksource/clocksource0/current_clocksource.
 */

#include <linux/atomic.h>
#include <linux/clocksource.h>
#include <asm/msr.h>

#include "pvops.h"

#define XENPV_CLOCK_RATING_STABLE_TSC	275
#define XENPV_CLOCK_RATING		400
#define XENPV_PVCLOCK_TSC_STABLE	BIT(0)

static const struct pvclock_vcpu_time_info *xenpv_clock_time;
static atomic64_t xenpv_clock_last = ATOMIC64_INIT(0);

static u64 notrace xenpv_clock_read(struct clocksource *cs)
{
	const struct pvclock_vcpu_time_info *t = xenpv_clock_time;
	s64 last, now;

	now = xenpv_pvclock_ns(t, rdtsc_ordered());
	if (READ_ONCE(t->flags) & XENPV_PVCLOCK_TSC_STABLE)
		return now;

	last = atomic64_read(&xenpv_clock_last);
	do {
		if (now < last)
			return last;
	} while (!atomic64_try_cmpxchg(&xenpv_clock_last, &last, now));
	return now;
}

static struct clocksource xenpv_clocksource = {
	.name = "xenpv",
	.rating = XENPV_CLOCK_RATING,
	.read = xenpv_clock_read,
	.mask = CLOCKSOURCE_MASK(64),
	.flags = CLOCK_SOURCE_IS_CONTINUOUS,
};

/**
 * xenpv_clock_init() - register the clocksource
 * @si: mapped shared_info
 * @tsc_stable: the TSC is invariant and trusted, so keep it preferred
 *
 * Context: process context.
 * Return: 0 or a negative errno.
 */
int xenpv_clock_init(struct shared_info *si, bool tsc_stable)
{
	xenpv_clock_time = &si->vcpu_info[0].time;
	xenpv_clocksource.rating = tsc_stable ? XENPV_CLOCK_RATING_STABLE_TSC :
						XENPV_CLOCK_RATING;
	return clocksource_register_hz(&xenpv_clocksource, NSEC_PER_SEC);
}

/**
 * xenpv_clock_exit() - unregister the clocksource
 *
 * Timekeeping switches to the best remaining clocksource first.
 *
 * Context: process context.
 */
void xenpv_clock_exit(void)
{
	clocksource_unregister(&xenpv_clocksource);
}
