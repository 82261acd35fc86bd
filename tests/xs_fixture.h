/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit fixture shared by the suites that need xenstore: the simulated
 * hypervisor, the real events layer over it, the simulated xenstored and
 * the real xenstore client, connected, with the client's timeout cut
 * short so that nothing in a test can wait long.
 */
#ifndef _XENPV_TESTS_XS_FIXTURE_H
#define _XENPV_TESTS_XS_FIXTURE_H

#include <linux/delay.h>
#include <linux/jiffies.h>

struct kunit;
struct xenpv_sim;
struct xenpv_sim_xs;

#define XENPV_FIXTURE_TIMEOUT_MS	1000
#define XENPV_FIXTURE_WAIT_MS		3000	/* longer than the timeout */
#define XENPV_FIXTURE_HOME		"/local/domain/7"

struct xenpv_xs_fixture {
	struct xenpv_sim *sim;
	struct xenpv_sim_xs *xs;
	unsigned int saved_timeout;
};

int xenpv_xs_fixture_start(struct kunit *test, struct xenpv_xs_fixture *f);
void xenpv_xs_fixture_stop(struct xenpv_xs_fixture *f);

/* Poll @cond every few ms, for XENPV_FIXTURE_WAIT_MS at most. */
#define xenpv_fixture_wait_for(cond)					\
({									\
	unsigned long __end = jiffies +					\
			      msecs_to_jiffies(XENPV_FIXTURE_WAIT_MS);	\
	bool __ok;							\
	while (!(__ok = (cond)) && time_before(jiffies, __end))		\
		usleep_range(2000, 5000);				\
	__ok;								\
})

#endif /* _XENPV_TESTS_XS_FIXTURE_H */
