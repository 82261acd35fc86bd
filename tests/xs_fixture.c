// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit fixture: a connected xenstore client over the simulation (see
 * xs_fixture.h).
 */

#include <kunit/test.h>
#include <xen/interface/hvm/params.h>
#include <xenpv/events.h>
#include <xenpv/xenstore.h>

#include "../events/events.h"
#include "../xenbus/xenbus.h"
#include "sim/sim.h"
#include "xs_fixture.h"

/**
 * xenpv_xs_fixture_start() - bring up sim, events, xenstored and client
 * @test: the test
 * @f: the fixture to fill
 *
 * Return: 0, or a negative errno with nothing left running.
 */
int xenpv_xs_fixture_start(struct kunit *test, struct xenpv_xs_fixture *f)
{
	f->sim = xenpv_sim_start(test);
	if (!f->sim)
		return -ENOMEM;
	f->sim->upcall = xenpv_events_upcall;
	f->sim->params[HVM_PARAM_CALLBACK_IRQ] = 1;
	if (xenpv_events_start(f->sim->shared_info, false))
		goto out_stop_sim;
	f->xs = xenpv_sim_xs_start(f->sim);
	if (!f->xs)
		goto out_stop_events;
	f->saved_timeout = xenpv_xs_timeout_ms;
	xenpv_xs_timeout_ms = XENPV_FIXTURE_TIMEOUT_MS;
	if (xenpv_xs_init())
		goto out_stop_xs;
	xenpv_sim_deliver(f->sim);
	return 0;

out_stop_xs:
	xenpv_xs_timeout_ms = f->saved_timeout;
	xenpv_sim_xs_stop(f->xs);
out_stop_events:
	xenpv_events_exit();
out_stop_sim:
	xenpv_sim_stop(f->sim);
	return -EIO;
}

/**
 * xenpv_xs_fixture_stop() - undo xenpv_xs_fixture_start()
 * @f: the fixture
 */
void xenpv_xs_fixture_stop(struct xenpv_xs_fixture *f)
{
	xenpv_xs_exit();
	xenpv_xs_timeout_ms = f->saved_timeout;
	xenpv_sim_xs_stop(f->xs);
	xenpv_events_exit();
	xenpv_sim_stop(f->sim);
}
