// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the xenstore client against the simulated xenstored
 * (tests/sim/xenstore.c), over the real events layer: requests go through
 * the ring page and EVTCHNOP_send, replies come back through the upcall,
 * the store port's IRQ, the reader work and, for watches, the
 * "xenpv-xenwatch" thread.
 *
 * A broken xenstored is played by injecting raw bytes into the reply ring
 * or by corrupting the ring's indices; a hung one by muting the server.
 * The client's timeout is cut to XST_TIMEOUT_MS so that nothing here can
 * wait long, and every wait in the tests themselves is bounded.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <xen/interface/hvm/params.h>
#include <xen/interface/io/xs_wire.h>
#include <xenpv/events.h>
#include <xenpv/hypervisor.h>
#include <xenpv/xenstore.h>

#include "../events/events.h"
#include "../xenbus/xenbus.h"
#include "sim/sim.h"
#include "xs_fixture.h"

#define XST_TIMEOUT_MS	XENPV_FIXTURE_TIMEOUT_MS
#define XST_WAIT_MS	XENPV_FIXTURE_WAIT_MS
#define XST_HOME	XENPV_FIXTURE_HOME

#define xst_wait_for(cond)	xenpv_fixture_wait_for(cond)

static int xst_init(struct kunit *test)
{
	struct xenpv_xs_fixture *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	int rc;

	if (!t)
		return -ENOMEM;
	rc = xenpv_xs_fixture_start(test, t);
	if (!rc)
		test->priv = t;
	return rc;
}

static void xst_exit(struct kunit *test)
{
	xenpv_xs_fixture_stop(test->priv);
}

/* A request run from its own thread, so that several can be in flight. */
struct xst_req {
	struct completion done;
	u32 type;		/* XS_READ or XS_WRITE */
	const char *node;	/* under "data" */
	char *val;		/* read: the value */
	int rc;
};

static int xst_req_thread(void *arg)
{
	struct xst_req *r = arg;

	if (r->type == XS_WRITE) {
		r->rc = xenpv_xs_write(XENPV_XBT_NIL, "data", r->node, "v");
	} else {
		r->val = xenpv_xs_read(XENPV_XBT_NIL, "data", r->node, NULL);
		if (IS_ERR(r->val)) {
			r->rc = PTR_ERR(r->val);
			r->val = NULL;
		}
	}
	complete(&r->done);
	return 0;
}

static struct xst_req *xst_req_start(struct kunit *test, u32 type,
				     const char *node)
{
	struct xst_req *r = kzalloc(sizeof(*r), GFP_KERNEL);
	struct task_struct *task;

	KUNIT_ASSERT_NOT_NULL(test, r);
	init_completion(&r->done);
	r->type = type;
	r->node = node;
	task = kthread_run(xst_req_thread, r, "xst-req");
	if (IS_ERR(task)) {
		kfree(r);
		KUNIT_FAIL_AND_ABORT(test, "kthread_run failed");
	}
	return r;
}

/* Wait for the request to finish; its rc. Frees it unless it hung. */
static int xst_req_finish(struct kunit *test, struct xst_req *r, char **val)
{
	int rc;

	if (!wait_for_completion_timeout(&r->done,
					 msecs_to_jiffies(XST_WAIT_MS))) {
		/* Leaked on purpose: the thread still uses it. */
		KUNIT_FAIL(test, "request did not finish");
		return -EINPROGRESS;
	}
	rc = r->rc;
	if (val)
		*val = r->val;
	else
		kfree(r->val);
	kfree(r);
	return rc;
}

/* A reply header followed by @len bytes of @body, sent raw. */
static void xst_inject(struct kunit *test, u32 type, u32 req_id, u32 hdr_len,
		       const void *body, unsigned int len)
{
	struct xenpv_xs_fixture *t = test->priv;
	struct xsd_sockmsg hdr = {
		.type = type, .req_id = req_id, .len = hdr_len,
	};
	char buf[64];

	KUNIT_ASSERT_LE(test, sizeof(hdr) + len, sizeof(buf));
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), body, len);
	KUNIT_ASSERT_EQ(test, xenpv_sim_xs_inject(t->xs, buf,
						  sizeof(hdr) + len), 0);
}

/* The connection still works: a write and a read round trip. */
static void xst_expect_alive(struct kunit *test)
{
	char *val;

	KUNIT_EXPECT_FALSE(test, xenpv_xs_is_dead());
	KUNIT_EXPECT_EQ(test, xenpv_xs_write(XENPV_XBT_NIL, "data", "alive",
					     "yes"), 0);
	val = xenpv_xs_read(XENPV_XBT_NIL, "data", "alive", NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(val));
	KUNIT_EXPECT_STREQ(test, val, "yes");
	kfree(val);
}

/*---- Basic operations ----*/

static void xs_read_write_directory_rm(struct kunit *test)
{
	struct xenpv_xs_fixture *t = test->priv;
	unsigned int len = 0, num = 0;
	char **names;
	char *val;

	KUNIT_ASSERT_EQ(test, xenpv_xs_write(XENPV_XBT_NIL, "data", "a",
					     "hello"), 0);
	KUNIT_ASSERT_EQ(test, xenpv_xs_write(XENPV_XBT_NIL, "data/b", "",
					     ""), 0);
	/* Relative paths are below the guest's home. */
	val = xenpv_sim_xs_get(t->xs, XST_HOME "/data/a");
	KUNIT_EXPECT_STREQ(test, val, "hello");
	kfree(val);

	val = xenpv_xs_read(XENPV_XBT_NIL, XST_HOME "/data", "a", &len);
	KUNIT_ASSERT_FALSE(test, IS_ERR(val));
	KUNIT_EXPECT_STREQ(test, val, "hello");
	KUNIT_EXPECT_EQ(test, len, 5u);
	kfree(val);

	val = xenpv_xs_read(XENPV_XBT_NIL, "data/b", NULL, &len);
	KUNIT_ASSERT_FALSE(test, IS_ERR(val));
	KUNIT_EXPECT_EQ(test, len, 0u);
	KUNIT_EXPECT_STREQ(test, val, "");
	kfree(val);

	KUNIT_EXPECT_EQ(test, xenpv_xs_mkdir(XENPV_XBT_NIL, "data", "c"), 0);
	names = xenpv_xs_directory(XENPV_XBT_NIL, "data", "", &num);
	KUNIT_ASSERT_FALSE(test, IS_ERR(names));
	KUNIT_ASSERT_EQ(test, num, 3u);
	KUNIT_EXPECT_STREQ(test, names[0], "a");
	KUNIT_EXPECT_STREQ(test, names[1], "b");
	KUNIT_EXPECT_STREQ(test, names[2], "c");
	kfree(names);

	names = xenpv_xs_directory(XENPV_XBT_NIL, "data", "c", &num);
	KUNIT_ASSERT_FALSE(test, IS_ERR(names));
	KUNIT_EXPECT_EQ(test, num, 0u);
	kfree(names);

	KUNIT_EXPECT_TRUE(test, xenpv_xs_exists(XENPV_XBT_NIL, "data", "a"));
	KUNIT_EXPECT_EQ(test, xenpv_xs_rm(XENPV_XBT_NIL, "data", "a"), 0);
	KUNIT_EXPECT_FALSE(test, xenpv_xs_exists(XENPV_XBT_NIL, "data", "a"));
	KUNIT_EXPECT_NULL(test, xenpv_sim_xs_get(t->xs, XST_HOME "/data/a"));
	/* The subtree goes with its parent. */
	KUNIT_EXPECT_EQ(test, xenpv_xs_rm(XENPV_XBT_NIL, "data", NULL), 0);
	KUNIT_EXPECT_FALSE(test, xenpv_xs_exists(XENPV_XBT_NIL, "data", "c"));
	KUNIT_EXPECT_EQ(test, xenpv_sim_xs_count(t->xs, XS_RM), 2u);
}

static void xs_errors_map_to_errno(struct kunit *test)
{
	static const struct {
		const char *name;
		int err;
	} map[] = {
		{ "ENOENT", -ENOENT }, { "EAGAIN", -EAGAIN },
		{ "EACCES", -EACCES }, { "EINVAL", -EINVAL },
		{ "EEXIST", -EEXIST }, { "ENOSPC", -ENOSPC },
		{ "EBUSY", -EBUSY }, { "EROFS", -EROFS },
		{ "EISCONN", -EISCONN }, { "E2BIG", -E2BIG },
		{ "EPERM", -EPERM }, { "ENOMEM", -ENOMEM },
		{ "EIO", -EIO }, { "ENOSYS", -EOPNOTSUPP },
		{ "EISDIR", -EISDIR }, { "ENOTEMPTY", -ENOTEMPTY },
	};
	struct xenpv_xs_fixture *t = test->priv;
	struct xst_req *r;
	unsigned int i;
	void *val;

	for (i = 0; i < ARRAY_SIZE(map); i++)
		KUNIT_EXPECT_EQ_MSG(test, xenpv_xs_errno(map[i].name),
				    map[i].err, "%s", map[i].name);
	KUNIT_EXPECT_EQ(test, xenpv_xs_errno("EWHATEVER"), -EINVAL);

	/* From the wire: a missing node. */
	val = xenpv_xs_read(XENPV_XBT_NIL, "data", "missing", NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(val), -ENOENT);
	KUNIT_EXPECT_EQ(test, xenpv_xs_rm(XENPV_XBT_NIL, "nothing", "here"),
			-ENOENT);
	/* xenstored's rule: a missing node under an existing parent is OK. */
	KUNIT_EXPECT_EQ(test, xenpv_xs_rm(XENPV_XBT_NIL, "", "nothing"), 0);

	/* An XS_ERROR reply of another kind, to a request in flight. */
	xenpv_sim_xs_hold(t->xs);
	r = xst_req_start(test, XS_READ, "x");
	KUNIT_ASSERT_TRUE(test, xst_wait_for(xenpv_sim_xs_nr_held(t->xs) == 1));
	xst_inject(test, XS_ERROR, xenpv_sim_xs_held_id(t->xs, 0), 6,
		   "EROFS", 6);
	KUNIT_EXPECT_EQ(test, xst_req_finish(test, r, NULL), -EROFS);
	/* The late real reply has nobody to go to. */
	xenpv_sim_xs_release(t->xs);
	xst_expect_alive(test);
}

/*---- Many requests in flight ----*/

#define XST_NR_CONCURRENT	6

static void xs_concurrent_requests_matched_by_req_id(struct kunit *test)
{
	static const char * const nodes[XST_NR_CONCURRENT] = {
		"k0", "k1", "k2", "k3", "k4", "k5",
	};
	struct xst_req *r[XST_NR_CONCURRENT];
	struct xenpv_xs_fixture *t = test->priv;
	struct xenpv_xs_stats before, after;
	char path[64], want[16];
	unsigned int i;
	char *val;

	for (i = 0; i < XST_NR_CONCURRENT; i++) {
		snprintf(path, sizeof(path), XST_HOME "/data/%s", nodes[i]);
		snprintf(want, sizeof(want), "value-%u", i * 7);
		KUNIT_ASSERT_EQ(test, xenpv_sim_xs_set(t->xs, path, want), 0);
	}
	xenpv_xs_get_stats(&before);
	/* All requests reach xenstored before any reply... */
	xenpv_sim_xs_hold(t->xs);
	for (i = 0; i < XST_NR_CONCURRENT; i++)
		r[i] = xst_req_start(test, XS_READ, nodes[i]);
	KUNIT_ASSERT_TRUE(test, xst_wait_for(xenpv_sim_xs_nr_held(t->xs) ==
					     XST_NR_CONCURRENT));
	/* ...their ids are distinct... */
	for (i = 1; i < XST_NR_CONCURRENT; i++)
		KUNIT_EXPECT_NE(test, xenpv_sim_xs_held_id(t->xs, i),
				xenpv_sim_xs_held_id(t->xs, i - 1));
	/* ...and the replies come back last first. */
	xenpv_sim_xs_release(t->xs);
	for (i = 0; i < XST_NR_CONCURRENT; i++) {
		snprintf(want, sizeof(want), "value-%u", i * 7);
		val = NULL;
		KUNIT_EXPECT_EQ(test, xst_req_finish(test, r[i], &val), 0);
		if (val)
			KUNIT_EXPECT_STREQ(test, val, want);
		kfree(val);
	}
	xenpv_xs_get_stats(&after);
	KUNIT_EXPECT_EQ(test, after.unknown_ids, before.unknown_ids);
	KUNIT_EXPECT_EQ(test, after.bad_replies, before.bad_replies);
}

/*---- Watches ----*/

struct xst_watch {
	struct xenpv_xs_watch w;
	unsigned int events;
	char last[64];
	struct completion block;	/* the first callback waits for it */
	bool blocking;
};

static void xst_watch_cb(struct xenpv_xs_watch *w, const char *path,
			 const char *token)
{
	struct xst_watch *x = container_of(w, struct xst_watch, w);

	strscpy(x->last, path, sizeof(x->last));
	WRITE_ONCE(x->events, x->events + 1);
	if (x->blocking && x->events == 1)
		wait_for_completion_timeout(&x->block,
					    msecs_to_jiffies(XST_WAIT_MS));
}

static void xst_watch_setup(struct xst_watch *x, const char *path)
{
	memset(x, 0, sizeof(*x));
	x->w.path = path;
	x->w.callback = xst_watch_cb;
	init_completion(&x->block);
}

static void xs_watch_fires_and_unwatch_stops_it(struct kunit *test)
{
	struct xenpv_xs_fixture *t = test->priv;
	struct xst_watch *x, *rel;

	x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	rel = kunit_kzalloc(test, sizeof(*rel), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x);
	KUNIT_ASSERT_NOT_NULL(test, rel);
	xst_watch_setup(x, XST_HOME "/data/w");
	xst_watch_setup(rel, "data/w");

	KUNIT_ASSERT_EQ(test, xenpv_xs_watch(&x->w), 0);
	KUNIT_ASSERT_EQ(test, xenpv_xs_watch(&rel->w), 0);
	KUNIT_EXPECT_STRNEQ(test, x->w.token, rel->w.token);
	KUNIT_EXPECT_EQ(test, xenpv_sim_xs_nr_watches(t->xs), 2u);
	/* The initial event. */
	KUNIT_ASSERT_TRUE(test, xst_wait_for(READ_ONCE(x->events) == 1));
	KUNIT_EXPECT_STREQ(test, x->last, XST_HOME "/data/w");

	/* A change below the path, by the other side. */
	KUNIT_ASSERT_EQ(test, xenpv_sim_xs_set(t->xs, XST_HOME "/data/w/x",
					       "1"), 0);
	KUNIT_ASSERT_TRUE(test, xst_wait_for(READ_ONCE(x->events) == 2));
	KUNIT_EXPECT_STREQ(test, x->last, XST_HOME "/data/w/x");
	KUNIT_ASSERT_TRUE(test, xst_wait_for(READ_ONCE(rel->events) == 2));
	KUNIT_EXPECT_STREQ(test, rel->last, "data/w/x");

	/* Our own write, and a path beside it that must not fire. */
	KUNIT_ASSERT_EQ(test, xenpv_xs_write(XENPV_XBT_NIL, "data", "wx",
					     "no"), 0);
	KUNIT_ASSERT_EQ(test, xenpv_xs_write(XENPV_XBT_NIL, "data", "w",
					     "yes"), 0);
	KUNIT_ASSERT_TRUE(test, xst_wait_for(READ_ONCE(x->events) == 3));
	KUNIT_EXPECT_STREQ(test, x->last, XST_HOME "/data/w");

	KUNIT_EXPECT_EQ(test, xenpv_xs_watch(&x->w), -EBUSY);
	KUNIT_EXPECT_EQ(test, xenpv_xs_unwatch(&x->w), 0);
	KUNIT_EXPECT_EQ(test, xenpv_xs_unwatch(&rel->w), 0);
	KUNIT_EXPECT_EQ(test, xenpv_xs_unwatch(&x->w), -ENOENT);
	KUNIT_EXPECT_EQ(test, xenpv_sim_xs_nr_watches(t->xs), 0u);
	KUNIT_ASSERT_EQ(test, xenpv_sim_xs_set(t->xs, XST_HOME "/data/w",
					       "2"), 0);
	msleep(50);
	KUNIT_EXPECT_EQ(test, READ_ONCE(x->events), 3u);
	KUNIT_EXPECT_EQ(test, x->w.dropped, 0ul);
}

struct xst_tx_arg {
	struct kunit *test;
	struct xenpv_xs_fixture *t;
	struct xst_watch *x;
	unsigned int runs;
};

/* In the transaction: write, then see a watch fire before the commit. */
static int xst_tx_body_with_watch(struct xenpv_xs_transaction tx, void *arg)
{
	struct xst_tx_arg *a = arg;
	int rc;

	a->runs++;
	rc = xenpv_xs_write(tx, "data", "txnode", "in-tx");
	if (rc)
		return rc;
	rc = xenpv_sim_xs_set(a->t->xs, XST_HOME "/data/watched", "ping");
	if (rc)
		return rc;
	if (!xst_wait_for(READ_ONCE(a->x->events) >= 2))
		return -ETIME;
	return 0;
}

static void xs_watch_fires_during_transaction(struct kunit *test)
{
	struct xenpv_xs_fixture *t = test->priv;
	struct xst_tx_arg a = { .test = test, .t = t };
	struct xst_watch *x;
	char *val;

	x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x);
	xst_watch_setup(x, XST_HOME "/data/watched");
	a.x = x;
	KUNIT_ASSERT_EQ(test, xenpv_xs_watch(&x->w), 0);
	KUNIT_ASSERT_TRUE(test, xst_wait_for(READ_ONCE(x->events) == 1));

	KUNIT_EXPECT_EQ(test, xenpv_xs_transact(xst_tx_body_with_watch, &a),
			0);
	KUNIT_EXPECT_EQ(test, a.runs, 1u);
	KUNIT_EXPECT_STREQ(test, x->last, XST_HOME "/data/watched");
	val = xenpv_xs_read(XENPV_XBT_NIL, "data", "txnode", NULL);
	KUNIT_ASSERT_FALSE(test, IS_ERR(val));
	KUNIT_EXPECT_STREQ(test, val, "in-tx");
	kfree(val);
	KUNIT_EXPECT_EQ(test, xenpv_sim_xs_count(t->xs, XS_TRANSACTION_START),
			1u);
	KUNIT_EXPECT_EQ(test, xenpv_sim_xs_count(t->xs, XS_TRANSACTION_END),
			1u);
	KUNIT_EXPECT_EQ(test, xenpv_xs_unwatch(&x->w), 0);
}

/* XSA-349: a watch whose callback is stuck keeps a bounded queue. */
static void xs_watch_queue_is_bounded(struct kunit *test)
{
	struct xenpv_xs_fixture *t = test->priv;
	struct xenpv_xs_stats before, after;
	struct xst_watch *x;
	char val[8];
	unsigned int i;

	x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x);
	xst_watch_setup(x, XST_HOME "/data/storm");
	x->w.max_pending = 4;
	x->blocking = true;
	xenpv_xs_get_stats(&before);
	KUNIT_ASSERT_EQ(test, xenpv_xs_watch(&x->w), 0);
	/* The initial event's callback now blocks. */
	KUNIT_ASSERT_TRUE(test, xst_wait_for(READ_ONCE(x->events) == 1));

	for (i = 0; i < 20; i++) {
		snprintf(val, sizeof(val), "%u", i);
		KUNIT_ASSERT_EQ(test, xenpv_sim_xs_set(t->xs,
						       XST_HOME "/data/storm",
						       val), 0);
	}
	/* All 20 events are read off the ring; 16 of them are dropped. */
	KUNIT_EXPECT_TRUE(test, xst_wait_for(READ_ONCE(x->w.dropped) == 16));
	complete(&x->block);
	KUNIT_EXPECT_TRUE(test, xst_wait_for(READ_ONCE(x->events) == 5));
	msleep(50);
	KUNIT_EXPECT_EQ(test, READ_ONCE(x->events), 5u);
	KUNIT_EXPECT_STREQ(test, x->last, XST_HOME "/data/storm");
	xenpv_xs_get_stats(&after);
	KUNIT_EXPECT_EQ(test, after.dropped_events - before.dropped_events,
			16ul);
	KUNIT_EXPECT_EQ(test, xenpv_xs_unwatch(&x->w), 0);
	xst_expect_alive(test);
}

/*---- Transactions ----*/

static int xst_tx_body_count(struct xenpv_xs_transaction tx, void *arg)
{
	struct xst_tx_arg *a = arg;

	a->runs++;
	if (!tx.id)
		return -EINVAL;
	return xenpv_xs_printf(tx, "data", "counter", "%u", a->runs);
}

static void xs_transact_retries_on_eagain(struct kunit *test)
{
	struct xenpv_xs_fixture *t = test->priv;
	struct xst_tx_arg a = { .test = test, .t = t };
	struct xenpv_xs_transaction bogus = { .id = 999 };
	unsigned int n = 0;

	/* Two conflicts, then a commit. */
	xenpv_sim_xs_tx_eagain(t->xs, 2);
	KUNIT_EXPECT_EQ(test, xenpv_xs_transact(xst_tx_body_count, &a), 0);
	KUNIT_EXPECT_EQ(test, a.runs, 3u);
	KUNIT_EXPECT_EQ(test, xenpv_xs_scanf(XENPV_XBT_NIL, "data", "counter",
					     "%u", &n), 1);
	KUNIT_EXPECT_EQ(test, n, 3u);

	/* Conflicts forever: give up after the bound. */
	a.runs = 0;
	xenpv_sim_xs_tx_eagain(t->xs, 100);
	KUNIT_EXPECT_EQ(test, xenpv_xs_transact(xst_tx_body_count, &a),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, a.runs, (unsigned int)XENPV_XS_TRANSACT_TRIES);
	xenpv_sim_xs_tx_eagain(t->xs, 0);

	/* An unknown transaction id is refused by xenstored. */
	KUNIT_EXPECT_EQ(test, xenpv_xs_transaction_end(bogus, false), -ENOENT);
}

/*---- A broken or hung xenstored ----*/

static void xs_unknown_req_id_is_dropped(struct kunit *test)
{
	struct xenpv_xs_stats before, after;

	xenpv_xs_get_stats(&before);
	xst_inject(test, XS_READ, 0xdeadbeef, 3, "abc", 3);
	KUNIT_EXPECT_TRUE(test, xst_wait_for((xenpv_xs_get_stats(&after),
					      after.unknown_ids ==
					      before.unknown_ids + 1)));
	xst_expect_alive(test);
}

static void xs_wrong_type_or_missing_nul_is_rejected(struct kunit *test)
{
	struct xenpv_xs_fixture *t = test->priv;
	struct xenpv_xs_stats before, after;
	struct xst_req *r;

	xenpv_xs_get_stats(&before);
	/* A read answered with a directory reply. */
	xenpv_sim_xs_hold(t->xs);
	r = xst_req_start(test, XS_READ, "x");
	KUNIT_ASSERT_TRUE(test, xst_wait_for(xenpv_sim_xs_nr_held(t->xs) == 1));
	xst_inject(test, XS_DIRECTORY, xenpv_sim_xs_held_id(t->xs, 0), 2,
		   "a", 2);
	KUNIT_EXPECT_EQ(test, xst_req_finish(test, r, NULL), -EIO);
	xenpv_sim_xs_release(t->xs);

	/* A write answered "OK" without its NUL. */
	xenpv_sim_xs_hold(t->xs);
	r = xst_req_start(test, XS_WRITE, "y");
	KUNIT_ASSERT_TRUE(test, xst_wait_for(xenpv_sim_xs_nr_held(t->xs) == 1));
	xst_inject(test, XS_WRITE, xenpv_sim_xs_held_id(t->xs, 0), 2, "OK", 2);
	KUNIT_EXPECT_EQ(test, xst_req_finish(test, r, NULL), -EIO);
	xenpv_sim_xs_release(t->xs);

	/* An error reply without its NUL, and watch events without one. */
	xenpv_sim_xs_hold(t->xs);
	r = xst_req_start(test, XS_READ, "z");
	KUNIT_ASSERT_TRUE(test, xst_wait_for(xenpv_sim_xs_nr_held(t->xs) == 1));
	xst_inject(test, XS_ERROR, xenpv_sim_xs_held_id(t->xs, 0), 6,
		   "ENOENT", 6);
	KUNIT_EXPECT_EQ(test, xst_req_finish(test, r, NULL), -EIO);
	xenpv_sim_xs_release(t->xs);
	xst_inject(test, XS_WATCH_EVENT, 0, 4, "a\0bc", 4);
	xst_inject(test, XS_WATCH_EVENT, 0, 2, "a", 2);

	KUNIT_EXPECT_TRUE(test, xst_wait_for((xenpv_xs_get_stats(&after),
					      after.bad_events ==
					      before.bad_events + 2)));
	KUNIT_EXPECT_EQ(test, after.bad_replies, before.bad_replies + 3);
	/* The three real replies came after their requests were gone. */
	KUNIT_EXPECT_EQ(test, after.unknown_ids, before.unknown_ids + 3);
	xst_expect_alive(test);
}

static void xs_oversized_reply_breaks_connection(struct kunit *test)
{
	struct xenpv_xs_fixture *t = test->priv;
	struct xenpv_xs_stats before, after;
	unsigned long start;
	struct xst_req *r;
	void *val;

	xenpv_xs_get_stats(&before);
	xenpv_sim_xs_hold(t->xs);
	r = xst_req_start(test, XS_READ, "x");
	KUNIT_ASSERT_TRUE(test, xst_wait_for(xenpv_sim_xs_nr_held(t->xs) == 1));
	start = jiffies;
	xst_inject(test, XS_READ, xenpv_sim_xs_held_id(t->xs, 0),
		   XENSTORE_PAYLOAD_MAX + 1, "", 0);
	/* The waiter fails at once, not at its timeout. */
	KUNIT_EXPECT_EQ(test, xst_req_finish(test, r, NULL), -EIO);
	KUNIT_EXPECT_LT(test, jiffies - start,
			msecs_to_jiffies(XST_TIMEOUT_MS / 2));
	KUNIT_EXPECT_TRUE(test, xenpv_xs_is_dead());
	val = xenpv_xs_read(XENPV_XBT_NIL, "data", "x", NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(val), -EIO);
	KUNIT_EXPECT_EQ(test, xenpv_xs_write(XENPV_XBT_NIL, "data", "x", "1"),
			-EIO);
	xenpv_xs_get_stats(&after);
	KUNIT_EXPECT_EQ(test, after.protocol_errors,
			before.protocol_errors + 1);
	xenpv_sim_xs_release(t->xs);
}

static void xs_bad_reply_index_breaks_connection(struct kunit *test)
{
	struct xenpv_xs_fixture *t = test->priv;
	struct xenstore_domain_interface *intf = xenpv_sim_xs_ring(t->xs);
	void *val;

	/* More bytes announced than the ring can hold. */
	WRITE_ONCE(intf->rsp_prod, READ_ONCE(intf->rsp_cons) +
		   XENSTORE_RING_SIZE + 1);
	xenpv_sim_xs_kick(t->xs);
	KUNIT_EXPECT_TRUE(test, xst_wait_for(xenpv_xs_is_dead()));
	val = xenpv_xs_read(XENPV_XBT_NIL, "data", "x", NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(val), -EIO);
}

static void xs_bad_request_index_breaks_connection(struct kunit *test)
{
	struct xenpv_xs_fixture *t = test->priv;
	struct xenstore_domain_interface *intf = xenpv_sim_xs_ring(t->xs);

	/* The consumer claims to be ahead of what we produced. */
	WRITE_ONCE(intf->req_cons, READ_ONCE(intf->req_prod) + 100);
	KUNIT_EXPECT_EQ(test, xenpv_xs_write(XENPV_XBT_NIL, "data", "x", "1"),
			-EIO);
	KUNIT_EXPECT_TRUE(test, xenpv_xs_is_dead());
}

static void xs_hung_server_times_out(struct kunit *test)
{
	struct xenpv_xs_fixture *t = test->priv;
	struct xenpv_xs_stats before, after;
	unsigned long start;
	void *val;

	xenpv_xs_get_stats(&before);
	xenpv_sim_xs_mute(t->xs, true);
	start = jiffies;
	val = xenpv_xs_read(XENPV_XBT_NIL, "data", "x", NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(val), -ETIMEDOUT);
	KUNIT_EXPECT_GE(test, jiffies - start,
			msecs_to_jiffies(XST_TIMEOUT_MS) - 1);
	xenpv_xs_get_stats(&after);
	KUNIT_EXPECT_EQ(test, after.timeouts, before.timeouts + 1);
	/* A slow xenstored is not a broken one. */
	xenpv_sim_xs_mute(t->xs, false);
	xst_expect_alive(test);
}

static void xs_exit_fails_waiting_requests(struct kunit *test)
{
	struct xenpv_xs_fixture *t = test->priv;
	struct xst_req *r;
	void *val;

	xenpv_sim_xs_hold(t->xs);
	r = xst_req_start(test, XS_READ, "x");
	KUNIT_ASSERT_TRUE(test, xst_wait_for(xenpv_sim_xs_nr_held(t->xs) == 1));
	xenpv_xs_exit();
	KUNIT_EXPECT_EQ(test, xst_req_finish(test, r, NULL), -EIO);
	val = xenpv_xs_read(XENPV_XBT_NIL, "data", "x", NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(val), -ENODEV);
}

/*---- Limits ----*/

static void xs_payload_limit(struct kunit *test)
{
	/* "data/big" and its NUL take 9 bytes of the payload. */
	const unsigned int max_val = XENSTORE_PAYLOAD_MAX - 9;
	struct xenpv_xs_fixture *t = test->priv;
	unsigned int writes, len = 0;
	char *big, *val, *dir;

	big = kunit_kzalloc(test, XENSTORE_PAYLOAD_MAX + 2, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, big);
	memset(big, 'v', max_val + 1);

	/* One byte over: refused before anything is sent. */
	writes = xenpv_sim_xs_count(t->xs, XS_WRITE);
	KUNIT_EXPECT_EQ(test, xenpv_xs_write(XENPV_XBT_NIL, "data", "big",
					     big), -E2BIG);
	KUNIT_EXPECT_EQ(test, xenpv_sim_xs_count(t->xs, XS_WRITE), writes);

	/* Exactly the maximum: crosses the 1 KiB ring in pieces. */
	big[max_val] = '\0';
	KUNIT_EXPECT_EQ(test, xenpv_xs_write(XENPV_XBT_NIL, "data", "big",
					     big), 0);
	val = xenpv_xs_read(XENPV_XBT_NIL, "data", "big", &len);
	KUNIT_ASSERT_FALSE(test, IS_ERR(val));
	KUNIT_EXPECT_EQ(test, len, max_val);
	KUNIT_EXPECT_EQ(test, memcmp(val, big, max_val), 0);
	kfree(val);

	/* A reply of exactly XENSTORE_PAYLOAD_MAX bytes. */
	memset(big, 'w', XENSTORE_PAYLOAD_MAX);
	big[XENSTORE_PAYLOAD_MAX] = '\0';
	KUNIT_ASSERT_EQ(test, xenpv_sim_xs_set(t->xs, XST_HOME "/data/max",
					       big), 0);
	val = xenpv_xs_read(XENPV_XBT_NIL, XST_HOME "/data/max", NULL, &len);
	KUNIT_ASSERT_FALSE(test, IS_ERR(val));
	KUNIT_EXPECT_EQ(test, len, (unsigned int)XENSTORE_PAYLOAD_MAX);
	kfree(val);

	/* A path longer than XENSTORE_ABS_PATH_MAX. */
	dir = kunit_kzalloc(test, XENSTORE_ABS_PATH_MAX + 2, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, dir);
	memset(dir, 'd', XENSTORE_ABS_PATH_MAX + 1);
	val = xenpv_xs_read(XENPV_XBT_NIL, dir, NULL, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(val), -ENAMETOOLONG);
	xst_expect_alive(test);
}

/*---- Helpers ----*/

static void xs_scanf_printf_gather(struct kunit *test)
{
	char *s = NULL, *s2 = NULL;
	int a = 0, b = 0;

	KUNIT_ASSERT_EQ(test, xenpv_xs_printf(XENPV_XBT_NIL, "data", "num",
					      "%d", 42), 0);
	KUNIT_ASSERT_EQ(test, xenpv_xs_write(XENPV_XBT_NIL, "data", "str",
					     "abc"), 0);
	KUNIT_EXPECT_EQ(test, xenpv_xs_scanf(XENPV_XBT_NIL, "data", "num",
					     "%d", &a), 1);
	KUNIT_EXPECT_EQ(test, a, 42);
	KUNIT_EXPECT_EQ(test, xenpv_xs_scanf(XENPV_XBT_NIL, "data", "str",
					     "%d", &a), -ERANGE);
	KUNIT_EXPECT_EQ(test, xenpv_xs_scanf(XENPV_XBT_NIL, "data", "none",
					     "%d", &a), -ENOENT);

	KUNIT_EXPECT_EQ(test, xenpv_xs_gather(XENPV_XBT_NIL, "data",
					      "num", "%d", &b,
					      "str", NULL, &s, NULL), 0);
	KUNIT_EXPECT_EQ(test, b, 42);
	KUNIT_EXPECT_STREQ(test, s, "abc");
	kfree(s);

	/* All or nothing: the string read first is freed again. */
	KUNIT_EXPECT_EQ(test, xenpv_xs_gather(XENPV_XBT_NIL, "data",
					      "str", NULL, &s2,
					      "none", "%d", &b, NULL),
			-ENOENT);
	KUNIT_EXPECT_NULL(test, s2);
	KUNIT_EXPECT_EQ(test, xenpv_xs_gather(XENPV_XBT_NIL, "data",
					      "str", "%d", &b, NULL), -EINVAL);
}

static void xs_permissions(struct kunit *test)
{
	static const char * const perms[] = { "n7", "r0" };
	static const char * const bad[] = { "x1", "r", "r+1", "w1\n", "b70000" };
	unsigned int i, num = 0;
	char **got;

	KUNIT_ASSERT_EQ(test, xenpv_xs_write(XENPV_XBT_NIL, "data", "p", "1"),
			0);
	got = xenpv_xs_get_perms(XENPV_XBT_NIL, "data", "p", &num);
	KUNIT_ASSERT_FALSE(test, IS_ERR(got));
	KUNIT_ASSERT_EQ(test, num, 1u);
	KUNIT_EXPECT_STREQ(test, got[0], "n0");
	kfree(got);

	KUNIT_EXPECT_EQ(test, xenpv_xs_set_perms(XENPV_XBT_NIL, "data", "p",
						 perms, 2), 0);
	got = xenpv_xs_get_perms(XENPV_XBT_NIL, "data", "p", &num);
	KUNIT_ASSERT_FALSE(test, IS_ERR(got));
	KUNIT_ASSERT_EQ(test, num, 2u);
	KUNIT_EXPECT_STREQ(test, got[0], "n7");
	KUNIT_EXPECT_STREQ(test, got[1], "r0");
	kfree(got);

	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_EQ_MSG(test, xenpv_xs_set_perms(XENPV_XBT_NIL, "data",
							     "p", &bad[i], 1),
				    -EINVAL, "%s", bad[i]);
	KUNIT_EXPECT_EQ(test, xenpv_xs_set_perms(XENPV_XBT_NIL, "data", "p",
						 perms, 0), -EINVAL);
}

/*---- Connecting again ----*/

static void xs_reconnect_resets_watches(struct kunit *test)
{
	struct xenpv_xs_fixture *t = test->priv;
	u32 port = t->sim->params[HVM_PARAM_STORE_EVTCHN];
	struct xenpv_xs_stats before, after;
	struct xst_watch *x;

	x = kunit_kzalloc(test, sizeof(*x), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, x);
	xst_watch_setup(x, XST_HOME "/data/left");
	KUNIT_ASSERT_EQ(test, xenpv_xs_watch(&x->w), 0);
	/* Without the feature flag, no reset at connect. */
	KUNIT_EXPECT_EQ(test, xenpv_sim_xs_count(t->xs, XS_RESET_WATCHES), 0u);

	/* Leave as an unloading module would, its watch still there. */
	xenpv_xs_exit();
	/* The toolstack's port is still open for the next load. */
	KUNIT_EXPECT_EQ(test, t->sim->ports[port].state,
			XENPV_SIM_INTERDOMAIN);
	KUNIT_EXPECT_EQ(test, xenpv_sim_xs_nr_watches(t->xs), 1u);

	KUNIT_ASSERT_EQ(test, xenpv_sim_xs_set(t->xs, XST_HOME
			"/control/platform-feature-xs_reset_watches", "1"), 0);
	/* Half a message for nobody: the next connection skips it. */
	KUNIT_ASSERT_EQ(test, xenpv_sim_xs_inject(t->xs, "garbage", 7), 0);
	xenpv_xs_get_stats(&before);
	KUNIT_ASSERT_EQ(test, xenpv_xs_init(), 0);
	xenpv_sim_deliver(t->sim);
	KUNIT_EXPECT_EQ(test, xenpv_sim_xs_count(t->xs, XS_RESET_WATCHES), 1u);
	KUNIT_EXPECT_EQ(test, xenpv_sim_xs_nr_watches(t->xs), 0u);
	/* Its "OK" came in time and was taken as one. */
	xenpv_xs_get_stats(&after);
	KUNIT_EXPECT_EQ(test, after.bad_replies, before.bad_replies);
	KUNIT_EXPECT_EQ(test, after.timeouts, before.timeouts);
	KUNIT_EXPECT_EQ(test, xenpv_xs_unwatch(&x->w), -ENOENT);
	xst_expect_alive(test);
	KUNIT_EXPECT_EQ(test, xenpv_xs_init(), -EBUSY);
}

static struct kunit_case xenstore_cases[] = {
	KUNIT_CASE(xs_read_write_directory_rm),
	KUNIT_CASE(xs_errors_map_to_errno),
	KUNIT_CASE(xs_concurrent_requests_matched_by_req_id),
	KUNIT_CASE(xs_watch_fires_and_unwatch_stops_it),
	KUNIT_CASE(xs_watch_fires_during_transaction),
	KUNIT_CASE(xs_watch_queue_is_bounded),
	KUNIT_CASE(xs_transact_retries_on_eagain),
	KUNIT_CASE(xs_unknown_req_id_is_dropped),
	KUNIT_CASE(xs_wrong_type_or_missing_nul_is_rejected),
	KUNIT_CASE(xs_oversized_reply_breaks_connection),
	KUNIT_CASE(xs_bad_reply_index_breaks_connection),
	KUNIT_CASE(xs_bad_request_index_breaks_connection),
	KUNIT_CASE(xs_hung_server_times_out),
	KUNIT_CASE(xs_exit_fails_waiting_requests),
	KUNIT_CASE(xs_payload_limit),
	KUNIT_CASE(xs_scanf_printf_gather),
	KUNIT_CASE(xs_permissions),
	KUNIT_CASE(xs_reconnect_resets_watches),
	{}
};

static struct kunit_suite xenstore_suite = {
	.name = "xenpv-xenstore",
	.init = xst_init,
	.exit = xst_exit,
	.test_cases = xenstore_cases,
};

/*---- The ring on its own ----*/

static void xs_ring_wraps_and_checks_indices(struct kunit *test)
{
	struct xenstore_domain_interface *intf;
	struct xenpv_xs_ring r;
	u8 in[300], out[400];
	unsigned int i;

	intf = kunit_kzalloc(test, sizeof(*intf), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, intf);
	for (i = 0; i < sizeof(in); i++)
		in[i] = i * 13 + 1;
	/* 256 bytes before the end of the ring, and of the u32 range. */
	intf->req_prod = 0xffffff00;
	intf->req_cons = 0xffffff00;
	intf->rsp_prod = 0xffffff00;
	intf->rsp_cons = 0xffffff00;
	KUNIT_ASSERT_EQ(test, xenpv_xs_ring_attach(&r, intf), 0);

	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_write(&r, in, sizeof(in)), 300);
	KUNIT_EXPECT_EQ(test, intf->req_prod, 0xffffff00u + 300);
	KUNIT_EXPECT_EQ(test, memcmp(intf->req + 0x300, in, 256), 0);
	KUNIT_EXPECT_EQ(test, memcmp(intf->req, in + 256, 44), 0);
	/* Fill it: only what fits goes in. */
	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_write(&r, in, sizeof(in)), 300);
	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_write(&r, in, sizeof(in)), 300);
	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_write(&r, in, sizeof(in)), 124);
	KUNIT_EXPECT_FALSE(test, xenpv_xs_ring_writable(&r));
	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_write(&r, in, 1), 0);
	intf->req_cons += 10;
	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_write(&r, in, sizeof(in)), 10);

	/* Replies, wrapping the same way. */
	KUNIT_EXPECT_FALSE(test, xenpv_xs_ring_readable(&r));
	memcpy(intf->rsp + 0x300, in, 256);
	memcpy(intf->rsp, in + 256, 44);
	intf->rsp_prod += 300;
	KUNIT_EXPECT_TRUE(test, xenpv_xs_ring_readable(&r));
	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_read(&r, out, 100), 100);
	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_read(&r, out + 100, 300), 200);
	KUNIT_EXPECT_EQ(test, memcmp(out, in, 300), 0);
	KUNIT_EXPECT_EQ(test, intf->rsp_cons, 0xffffff00u + 300);
	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_read(&r, out, 1), 0);

	/* Impossible indices: refused, nothing changes. */
	intf->rsp_prod = r.rsp_cons + XENSTORE_RING_SIZE + 1;
	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_read(&r, out, 1), -EIO);
	KUNIT_EXPECT_EQ(test, intf->rsp_cons, 0xffffff00u + 300);
	intf->req_cons = r.req_prod + 1;
	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_write(&r, in, 1), -EIO);
	KUNIT_EXPECT_EQ(test, intf->req_prod, r.req_prod);
	/* Our own indices in the page are never trusted. */
	intf->rsp_cons = 0;
	intf->rsp_prod = r.rsp_cons;
	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_read(&r, out, 1), 0);

	/* A new user skips the replies left in the ring... */
	memset(intf, 0, sizeof(*intf));
	intf->rsp_prod = 7;
	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_attach(&r, intf), 7);
	KUNIT_EXPECT_EQ(test, intf->rsp_cons, 7u);
	KUNIT_EXPECT_FALSE(test, xenpv_xs_ring_readable(&r));
	/* ...and refuses a page whose indices are impossible. */
	intf->req_cons = 1;
	KUNIT_EXPECT_EQ(test, xenpv_xs_ring_attach(&r, intf), -EIO);
}

static struct kunit_case xenstore_ring_cases[] = {
	KUNIT_CASE(xs_ring_wraps_and_checks_indices),
	{}
};

static struct kunit_suite xenstore_ring_suite = {
	.name = "xenpv-xenstore-ring",
	.test_cases = xenstore_ring_cases,
};

kunit_test_suites(&xenstore_ring_suite, &xenstore_suite);
