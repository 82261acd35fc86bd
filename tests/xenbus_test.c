// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the xenbus bus, the frontend helpers and control/, against the
 * simulated xenstored (tests/sim/xenstore.c) over the real events layer
 * and xenstore client. Watches run in the "xenpv-xenwatch" thread, so the
 * tests poll for their effects, with a bound.
 */

#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <xen/interface/hvm/params.h>
#include <xenpv/events.h>
#include <xenpv/hypervisor.h>
#include <xenpv/xenbus.h>
#include <xenpv/xenstore.h>

#include "../events/events.h"
#include "../xenbus/bus.h"
#include "../xenbus/xenbus.h"
#include "sim/sim.h"
#include "xs_fixture.h"

#define XBT_HOME	XENPV_FIXTURE_HOME
/* Its watch path (device/vbd/9/...) is over 64 bytes long. */
#define XBT_LONG_NODE	\
	XBT_HOME "/device/vbd/9/a-node-whose-name-makes-the-watch-path-longer-than-64-bytes"
#define XBT_BACKEND	"/local/domain/0/backend/vtest/7/0"

#define xbt_wait_for(cond)	xenpv_fixture_wait_for(cond)

struct xbt {
	struct xenpv_xs_fixture f;	/* sim, events, xenstored, client */
	struct xenpv_sim_xs *xs;	/* f.xs */
	const struct xenpv_control_ops *saved_ops;
	bool bus_up;
};

/* What the test driver and the test control ops saw. */
static struct {
	unsigned int probes, removes, changes, poweroffs, reboots;
	enum xenbus_state last;
	domid_t otherend_id;
	char otherend[64];
	u8 sysrq;
} xbt_seen;

static void xbt_poweroff(void)
{
	xbt_seen.poweroffs++;
}

static void xbt_reboot(void)
{
	xbt_seen.reboots++;
}

static void xbt_sysrq(u8 key)
{
	xbt_seen.sysrq = key;
}

static const struct xenpv_control_ops xbt_control_ops = {
	.poweroff = xbt_poweroff,
	.reboot = xbt_reboot,
	.sysrq = xbt_sysrq,
};

static int xbt_probe(struct xenpv_device *dev,
		     const struct xenpv_device_id *id)
{
	xbt_seen.probes++;
	xbt_seen.otherend_id = dev->otherend_id;
	strscpy(xbt_seen.otherend, dev->otherend, sizeof(xbt_seen.otherend));
	return 0;
}

static void xbt_changed(struct xenpv_device *dev, enum xenbus_state state)
{
	xbt_seen.changes++;
	xbt_seen.last = state;
}

static void xbt_remove(struct xenpv_device *dev)
{
	xbt_seen.removes++;
}

static const struct xenpv_device_id xbt_ids[] = {
	{ "vtest" },
	{ "" }
};

static struct xenpv_driver xbt_driver = {
	.name = "xenpv-kunit-vtest",
	.ids = xbt_ids,
	.probe = xbt_probe,
	.otherend_changed = xbt_changed,
	.remove = xbt_remove,
};

static void xbt_add_device(struct xbt *t, const char *type, const char *id,
			   const char *backend, const char *backend_id)
{
	char path[96];

	snprintf(path, sizeof(path), XBT_HOME "/device/%s/%s/backend", type,
		 id);
	xenpv_sim_xs_set(t->xs, path, backend);
	snprintf(path, sizeof(path), XBT_HOME "/device/%s/%s/backend-id",
		 type, id);
	xenpv_sim_xs_set(t->xs, path, backend_id);
	snprintf(path, sizeof(path), XBT_HOME "/device/%s/%s/state", type, id);
	xenpv_sim_xs_set(t->xs, path, "1");
}

static bool xbt_has(const char *nodename)
{
	struct xenpv_device *d = xenpv_bus_find(nodename);

	if (d)
		put_device(&d->dev);
	return d;
}

static bool xbt_node_is(struct xbt *t, const char *path, const char *want)
{
	char *v = xenpv_sim_xs_get(t->xs, path);
	bool same = v && !strcmp(v, want);

	kfree(v);
	return same;
}

/* Wait until xenpv cleared @path (an acknowledged control/ request). */
static bool xbt_cleared(struct xbt *t, const char *path)
{
	return xbt_wait_for(xbt_node_is(t, path, ""));
}

static int xbt_init(struct kunit *test)
{
	struct xbt *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	int rc;

	if (!t)
		return -ENOMEM;
	memset(&xbt_seen, 0, sizeof(xbt_seen));
	rc = xenpv_xs_fixture_start(test, &t->f);
	if (rc)
		return rc;
	t->xs = t->f.xs;
	t->saved_ops = xenpv_control_ops;
	xenpv_control_ops = &xbt_control_ops;
	test->priv = t;
	return 0;
}

/* Devices placed in the store before this are found by the first scan. */
static void xbt_start_bus(struct kunit *test)
{
	struct xbt *t = test->priv;

	KUNIT_ASSERT_EQ(test, xenpv_xenbus_init(), 0);
	t->bus_up = true;
}

static void xbt_exit(struct kunit *test)
{
	struct xbt *t = test->priv;

	if (t->bus_up)
		xenpv_xenbus_exit();
	xenpv_control_ops = t->saved_ops;
	xenpv_xs_fixture_stop(&t->f);
}

static void xenbus_scan_finds_devices(struct kunit *test)
{
	struct xbt *t = test->priv;

	xbt_add_device(t, "vbd", "51712", "/local/domain/0/backend/vbd/7/51712",
		       "0");
	xbt_add_device(t, "vif", "0", "/local/domain/0/backend/vif/7/0", "0");
	xbt_start_bus(test);
	KUNIT_EXPECT_TRUE(test, xbt_has("device/vbd/51712"));
	KUNIT_EXPECT_TRUE(test, xbt_has("device/vif/0"));
	KUNIT_EXPECT_FALSE(test, xbt_has("device/vif/1"));
}

static void xenbus_hotplug_adds_and_removes(struct kunit *test)
{
	struct xbt *t = test->priv;

	xbt_start_bus(test);
	KUNIT_EXPECT_FALSE(test, xbt_has("device/vbd/768"));
	xbt_add_device(t, "vbd", "768", "/local/domain/0/backend/vbd/7/768",
		       "0");
	KUNIT_EXPECT_TRUE(test, xbt_wait_for(xbt_has("device/vbd/768")));

	KUNIT_ASSERT_EQ(test, xenpv_xs_rm(XENPV_XBT_NIL, "device/vbd/768",
					  NULL), 0);
	KUNIT_EXPECT_TRUE(test, xbt_wait_for(!xbt_has("device/vbd/768")));
}

/*
 * A device whose only event comes from a node with a long name (the
 * watch path is longer than the bus's parse buffer) is still added.
 */
static void xenbus_hotplug_long_node_path(struct kunit *test)
{
	struct xbt *t = test->priv;

	xbt_start_bus(test);
	xenpv_sim_xs_set(t->xs, XBT_LONG_NODE, "1");
	KUNIT_EXPECT_TRUE(test, xbt_wait_for(xbt_has("device/vbd/9")));
}

/* Names that are no safe path component or device name are ignored. */
static void xenbus_bad_names_are_ignored(struct kunit *test)
{
	struct xbt *t = test->priv;

	xbt_add_device(t, "vbd", "x.y", "/b", "0");
	xbt_add_device(t, "VBD", "1", "/b", "0");
	xbt_add_device(t, "vbd", "12345678901234567890", "/b", "0");
	xbt_add_device(t, "vbd", "2", "/b", "0");
	xbt_start_bus(test);
	KUNIT_EXPECT_TRUE(test, xbt_has("device/vbd/2"));
	KUNIT_EXPECT_FALSE(test, xbt_has("device/vbd/x.y"));
	KUNIT_EXPECT_FALSE(test, xbt_has("device/VBD/1"));
	KUNIT_EXPECT_FALSE(test, xbt_has("device/vbd/12345678901234567890"));
}

/*
 * One vtest device whose backend (domain 0) starts in @state, the bus
 * started and xbt_driver registered.
 */
static void xbt_start_one(struct kunit *test, const char *state)
{
	struct xbt *t = test->priv;

	xbt_add_device(t, "vtest", "0", XBT_BACKEND, "0");
	xenpv_sim_xs_set(t->xs, XBT_BACKEND "/state", state);
	xbt_start_bus(test);
	KUNIT_ASSERT_EQ(test, xenpv_register_frontend(&xbt_driver), 0);
}

/*
 * The driver sees the backend's state once per change: a duplicate
 * InitWait is not passed on, a skipped Initialised is not invented.
 */
static void xenbus_otherend_changes(struct kunit *test)
{
	struct xbt *t = test->priv;

	xbt_start_one(test, "2");

	KUNIT_EXPECT_EQ(test, xbt_seen.probes, 1u);
	KUNIT_EXPECT_EQ(test, xbt_seen.otherend_id, 0);
	KUNIT_EXPECT_STREQ(test, xbt_seen.otherend, XBT_BACKEND);
	KUNIT_EXPECT_TRUE(test, xbt_wait_for(xbt_seen.changes == 1));
	KUNIT_EXPECT_EQ(test, xbt_seen.last, XenbusStateInitWait);

	/* The same state again: no call. Then a skip to Connected. */
	xenpv_sim_xs_set(t->xs, XBT_BACKEND "/state", "2");
	xenpv_sim_xs_set(t->xs, XBT_BACKEND "/state", "4");
	KUNIT_EXPECT_TRUE(test, xbt_wait_for(xbt_seen.last ==
					     XenbusStateConnected));
	KUNIT_EXPECT_EQ(test, xbt_seen.changes, 2u);

	/* Garbage in the state node reads as Unknown. */
	xenpv_sim_xs_set(t->xs, XBT_BACKEND "/state", "42");
	KUNIT_EXPECT_TRUE(test, xbt_wait_for(xbt_seen.last ==
					     XenbusStateUnknown));

	xenpv_unregister_frontend(&xbt_driver);
	KUNIT_EXPECT_EQ(test, xbt_seen.removes, 1u);
	KUNIT_EXPECT_TRUE(test, xbt_node_is(t, XBT_HOME "/device/vtest/0/state",
					    "6"));
}

/*
 * A frontend still Initialising (a reloaded driver) sees the backend
 * finish closing an earlier connection: the bus keeps it from the driver
 * and asks again, and the backend's next InitWait reaches the driver.
 */
static void xenbus_reload_sees_old_close(struct kunit *test)
{
	struct xbt *t = test->priv;

	xbt_start_one(test, "4");
	KUNIT_EXPECT_TRUE(test, xbt_wait_for(xbt_seen.changes == 1));

	xenpv_sim_xs_set(t->xs, XBT_BACKEND "/state", "5");
	xenpv_sim_xs_set(t->xs, XBT_BACKEND "/state", "6");
	xenpv_sim_xs_set(t->xs, XBT_BACKEND "/state", "2");
	KUNIT_EXPECT_TRUE(test, xbt_wait_for(xbt_seen.last ==
					     XenbusStateInitWait));
	/* Closing and Closed never reached the driver. */
	KUNIT_EXPECT_EQ(test, xbt_seen.changes, 2u);
	KUNIT_EXPECT_TRUE(test, xbt_node_is(t, XBT_HOME "/device/vtest/0/state",
					    "1"));
	xenpv_unregister_frontend(&xbt_driver);
}

/* A backend-id that is no ordinary domain: the driver is never probed. */
static void xenbus_bad_otherend_is_refused(struct kunit *test)
{
	struct xbt *t = test->priv;

	xbt_add_device(t, "vtest", "0", XBT_BACKEND, "32752"); /* DOMID_SELF */
	xbt_add_device(t, "vtest", "1", "relative/path", "0");
	xbt_start_bus(test);
	KUNIT_ASSERT_EQ(test, xenpv_register_frontend(&xbt_driver), 0);
	KUNIT_EXPECT_EQ(test, xbt_seen.probes, 0u);
	KUNIT_EXPECT_TRUE(test, xbt_has("device/vtest/0"));
	xenpv_unregister_frontend(&xbt_driver);
}

static void xenbus_switch_state_and_fatal(struct kunit *test)
{
	struct xbt *t = test->priv;
	struct xenpv_device *dev;
	char *err;
	int rc;

	xbt_add_device(t, "vtest", "0", XBT_BACKEND, "0");
	xbt_start_bus(test);
	dev = xenpv_bus_find("device/vtest/0");
	KUNIT_ASSERT_NOT_NULL(test, dev);

	rc = xenpv_xenbus_switch_state(dev, XenbusStateInitialised);
	KUNIT_EXPECT_EQ(test, rc, 0);
	KUNIT_EXPECT_TRUE(test, xbt_node_is(t, XBT_HOME "/device/vtest/0/state",
					    "3"));

	xenpv_xenbus_dev_fatal(dev, -EINVAL, "testing %d", 42);
	err = xenpv_sim_xs_get(t->xs, XBT_HOME "/error/device/vtest/0/error");
	KUNIT_EXPECT_STREQ(test, err, "22 testing 42");
	kfree(err);
	KUNIT_EXPECT_TRUE(test, xbt_node_is(t, XBT_HOME "/device/vtest/0/state",
					    "5"));

	/* Never recreate the directory of a removed device. */
	KUNIT_ASSERT_EQ(test, xenpv_xs_rm(XENPV_XBT_NIL, "device/vtest/0",
					  NULL), 0);
	rc = xenpv_xenbus_switch_state(dev, XenbusStateClosed);
	KUNIT_EXPECT_EQ(test, rc, -ENOENT);
	KUNIT_EXPECT_FALSE(test, xenpv_xs_exists(XENPV_XBT_NIL,
						 "device/vtest/0", NULL));
	put_device(&dev->dev);
}

/*
 * A reload with another layout: the keys of the old one go, the others
 * stay, absent keys are no error.
 */
static void xenbus_rm_keys_old_layout(struct kunit *test)
{
	static const struct xenpv_xenbus_key keys[] = {
		{ "ring-page-order", 0 }, { "ring-ref", 4 }, { "queue-", 2 },
		{ "never-written", 0 },
	};
	struct xbt *t = test->priv;

	xenpv_sim_xs_set(t->xs, XBT_HOME "/device/vtest/0/ring-page-order", "2");
	xenpv_sim_xs_set(t->xs, XBT_HOME "/device/vtest/0/ring-ref0", "8");
	xenpv_sim_xs_set(t->xs, XBT_HOME "/device/vtest/0/ring-ref3", "11");
	xenpv_sim_xs_set(t->xs, XBT_HOME "/device/vtest/0/queue-1/ring-ref", "9");
	xenpv_sim_xs_set(t->xs, XBT_HOME "/device/vtest/0/ring-ref", "12");
	xenpv_sim_xs_set(t->xs, XBT_HOME "/device/vtest/0/ring-ref4", "13");

	KUNIT_EXPECT_EQ(test, xenpv_xenbus_rm_keys(XENPV_XBT_NIL,
						   "device/vtest/0", keys,
						   ARRAY_SIZE(keys)), 0);
	KUNIT_EXPECT_FALSE(test, xenpv_xs_exists(XENPV_XBT_NIL, "device/vtest/0",
						 "ring-page-order"));
	KUNIT_EXPECT_FALSE(test, xenpv_xs_exists(XENPV_XBT_NIL, "device/vtest/0",
						 "ring-ref0"));
	KUNIT_EXPECT_FALSE(test, xenpv_xs_exists(XENPV_XBT_NIL, "device/vtest/0",
						 "ring-ref3"));
	KUNIT_EXPECT_FALSE(test, xenpv_xs_exists(XENPV_XBT_NIL, "device/vtest/0",
						 "queue-1"));
	/* Not in the table, or past its count: kept. */
	KUNIT_EXPECT_TRUE(test, xbt_node_is(t, XBT_HOME "/device/vtest/0/ring-ref",
					    "12"));
	KUNIT_EXPECT_TRUE(test, xbt_node_is(t, XBT_HOME "/device/vtest/0/ring-ref4",
					    "13"));
}

static void xenbus_control_shutdown(struct kunit *test)
{
	struct xbt *t = test->priv;

	xbt_start_bus(test);
	KUNIT_EXPECT_TRUE(test, xbt_node_is(t, XBT_HOME "/control/feature-poweroff",
					    "1"));
	KUNIT_EXPECT_TRUE(test, xbt_node_is(t, XBT_HOME "/control/feature-reboot",
					    "1"));

	xenpv_sim_xs_set(t->xs, XBT_HOME "/control/shutdown", "poweroff");
	KUNIT_EXPECT_TRUE(test, xbt_wait_for(xbt_seen.poweroffs == 1));
	/* Acknowledged by clearing the node. */
	KUNIT_EXPECT_TRUE(test, xbt_cleared(t, XBT_HOME "/control/shutdown"));

	xenpv_sim_xs_set(t->xs, XBT_HOME "/control/shutdown", "reboot");
	KUNIT_EXPECT_TRUE(test, xbt_wait_for(xbt_seen.reboots == 1));

	/* Not supported, or unknown: acknowledged, nothing done. */
	xenpv_sim_xs_set(t->xs, XBT_HOME "/control/shutdown", "suspend");
	KUNIT_EXPECT_TRUE(test, xbt_cleared(t, XBT_HOME "/control/shutdown"));
	xenpv_sim_xs_set(t->xs, XBT_HOME "/control/shutdown", "dance");
	KUNIT_EXPECT_TRUE(test, xbt_cleared(t, XBT_HOME "/control/shutdown"));
	KUNIT_EXPECT_EQ(test, xbt_seen.poweroffs, 1u);
	KUNIT_EXPECT_EQ(test, xbt_seen.reboots, 1u);

	/* The direct entry point: nothing pending. */
	KUNIT_EXPECT_EQ(test, xenpv_control_handle_shutdown(), -ENOENT);
}

static void xenbus_control_sysrq(struct kunit *test)
{
	struct xbt *t = test->priv;

	xbt_start_bus(test);
	xenpv_sim_xs_set(t->xs, XBT_HOME "/control/sysrq", "s");
	KUNIT_EXPECT_TRUE(test, xbt_wait_for(xbt_seen.sysrq == 's'));
	KUNIT_EXPECT_TRUE(test, xbt_cleared(t, XBT_HOME "/control/sysrq"));
}

/* Unloading withdraws what was advertised. */
static void xenbus_exit_withdraws_features(struct kunit *test)
{
	struct xbt *t = test->priv;
	char *v;

	xbt_start_bus(test);
	xenpv_xenbus_exit();
	t->bus_up = false;
	v = xenpv_sim_xs_get(t->xs, XBT_HOME "/control/feature-poweroff");
	KUNIT_EXPECT_NULL(test, v);
	kfree(v);
}

static struct kunit_case xenbus_cases[] = {
	KUNIT_CASE(xenbus_scan_finds_devices),
	KUNIT_CASE(xenbus_rm_keys_old_layout),
	KUNIT_CASE(xenbus_reload_sees_old_close),
	KUNIT_CASE(xenbus_hotplug_adds_and_removes),
	KUNIT_CASE(xenbus_hotplug_long_node_path),
	KUNIT_CASE(xenbus_bad_names_are_ignored),
	KUNIT_CASE(xenbus_otherend_changes),
	KUNIT_CASE(xenbus_bad_otherend_is_refused),
	KUNIT_CASE(xenbus_switch_state_and_fatal),
	KUNIT_CASE(xenbus_control_shutdown),
	KUNIT_CASE(xenbus_control_sysrq),
	KUNIT_CASE(xenbus_exit_withdraws_features),
	{}
};

static struct kunit_suite xenbus_suite = {
	.name = "xenpv-xenbus",
	.init = xbt_init,
	.exit = xbt_exit,
	.test_cases = xenbus_cases,
};

kunit_test_suite(xenbus_suite);
