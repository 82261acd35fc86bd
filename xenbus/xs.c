// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: the xenstore client (the wire protocol is xs_wire.h).
 *
 * A request is a struct xsd_sockmsg header and a payload of at most
 * XENSTORE_PAYLOAD_MAX bytes, written whole into the request ring; its
 * req_id is unique among outstanding requests, and xenstored echoes it in
 * the reply, so any number of requests may be outstanding. Replies and
 * watch events come back on the reply ring, in any order.
 *
 * Who does what:
 * - a caller allocates a req_id (xs_reqs), writes its message under
 *   xs_write_mutex (waiting, bounded, for room in the ring), notifies
 *   xenstored and sleeps on a completion, bounded by xenpv.xs_timeout_ms;
 * - the store event channel's interrupt handler only kicks the reader
 *   work and wakes writers waiting for room;
 * - the reader work (xs_rx_work, one at a time on an ordered workqueue)
 *   reassembles messages from the reply ring, hands each reply to the
 *   request with its req_id and each watch event to the watch thread;
 * - the "xenpv-xenwatch" kthread calls watch callbacks, one at a time.
 *
 * xenstored lives in another domain and is not trusted to be correct:
 * impossible ring indices or a reply longer than XENSTORE_PAYLOAD_MAX
 * break the stream itself, so the connection is declared dead and every
 * caller gets -EIO from then on; a well-framed but wrong reply (unknown
 * req_id, wrong type, missing NUL) is dropped or failed with -EIO on its
 * own, and the connection goes on.
 */

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/err.h>
#include <linux/interrupt.h>
#include <linux/jiffies.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/random.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>
#include <xen/interface/hvm/params.h>
#include <xen/interface/io/xs_wire.h>
#include <xenpv/compat.h>
#include <xenpv/events.h>
#include <xenpv/hypervisor.h>
#include <xenpv/xenstore.h>

#include "xenbus.h"

unsigned int xenpv_xs_timeout_ms = 30000;
module_param_named(xs_timeout_ms, xenpv_xs_timeout_ms, uint, 0644);
MODULE_PARM_DESC(xs_timeout_ms,
		 "How long a xenstore request waits for its reply (ms, default 30000)");

enum xs_state {
	XS_DOWN,	/* not connected: calls return -ENODEV */
	XS_UP,
	XS_DEAD,	/* broken or being torn down: calls return -EIO */
};

/*
 * The connection. xs_state goes DOWN -> UP and back only under
 * xs_state_rwsem held for writing (xenpv_xs_init(), xenpv_xs_exit());
 * UP -> DEAD happens anywhere, once, by cmpxchg (xs_kill()). Every
 * request holds xs_state_rwsem for reading while it uses the ring, so
 * the ring, port, IRQ and workqueue below stay valid until it is done.
 */
static DECLARE_RWSEM(xs_state_rwsem);
static int xs_state = XS_DOWN;
static struct xenpv_xs_ring xs_ring;
static evtchn_port_t xs_port;
static int xs_irq;
static struct workqueue_struct *xs_rx_wq;

/*
 * Serialises writers of the request ring, so that each message goes in
 * whole. Held while waiting (bounded) for room; nothing else is taken
 * under it.
 */
static DEFINE_MUTEX(xs_write_mutex);
/* Writers waiting for room in the request ring; woken by the IRQ. */
static DECLARE_WAIT_QUEUE_HEAD(xs_ring_wq);

/*
 * Outstanding requests by req_id (its own xa_lock). A request belongs to
 * whoever erases it from here: the reader when the reply comes, the
 * caller when it gives up, xs_fail_all() when the connection dies. The
 * one that erased it completes it (or, for the caller, just returns).
 */
static DEFINE_XARRAY_ALLOC(xs_reqs);
static u32 xs_next_id;		/* under xs_reqs' lock (xa_alloc_cyclic) */

/* The reader's state: used only by xs_rx_work(), never concurrently. */
static struct xsd_sockmsg xs_rx_hdr;
static unsigned int xs_rx_hdr_got;
static unsigned int xs_rx_body_got;
static char *xs_rx_buf;		/* XENSTORE_PAYLOAD_MAX + 1 bytes */
static void xs_rx_work_fn(struct work_struct *work);
static DECLARE_WORK(xs_rx_work, xs_rx_work_fn);

/*
 * Watches and their queued events. xs_watch_lock protects xs_watches,
 * xs_events and every registered watch's @nr_pending and @dropped; it
 * is taken in process context only (reader work, watch thread, API
 * calls) and nothing is taken under it.
 */
static DEFINE_SPINLOCK(xs_watch_lock);
static LIST_HEAD(xs_watches);
static LIST_HEAD(xs_events);
static DECLARE_WAIT_QUEUE_HEAD(xs_watch_wq);
/*
 * Held by the watch thread from taking an event off xs_events until its
 * callback returned: xenpv_xs_unwatch() takes it once to wait for a
 * callback of the watch it removes. Outside xs_watch_lock.
 */
static DEFINE_MUTEX(xs_watch_cb_mutex);
static struct task_struct *xs_watch_task;
static u32 xs_token_nonce;
static atomic_t xs_token_seq = ATOMIC_INIT(0);

/**
 * struct xs_event - a watch event waiting for its callback
 * @list: on xs_events
 * @watch: the watch it is for
 * @path: the path that changed (in @data)
 * @token: the watch's token (in @data)
 * @data: the event's payload, "path\0token\0..."
 */
struct xs_event {
	struct list_head list;
	struct xenpv_xs_watch *watch;
	const char *path;
	const char *token;
	char data[];
};

/**
 * struct xs_req - one outstanding request
 * @type: XS_* of the request; the reply must have it (or be XS_ERROR)
 * @done: completed by whoever took the request out of xs_reqs
 * @err: 0 or a negative errno
 * @body: the reply's payload with a NUL appended, kmalloc'd
 * @len: the payload's length, without that NUL
 * @raw: for /dev/xen/xenbus: keep an XS_ERROR reply's string in @body
 *	instead of mapping it to @err
 * @reply_type: with @raw, the reply's type
 */
struct xs_req {
	u32 type;
	struct completion done;
	int err;
	char *body;
	unsigned int len;
	bool raw;
	u32 reply_type;
};

static struct {
	atomic_long_t bad_replies;
	atomic_long_t unknown_ids;
	atomic_long_t bad_events;
	atomic_long_t dropped_events;
	atomic_long_t timeouts;
	atomic_long_t protocol_errors;
} xs_stats;

/*
 * xenstored's error names (xs_wire.h has most; EPERM and ENOTSUP are
 * sent by newer daemons too). Its "ENOSYS", an unsupported request type,
 * is -EOPNOTSUPP here: -ENOSYS is only for system calls that do not exist.
 */
static const struct {
	const char *name;
	int err;
} xs_errors[] = {
	{ "EINVAL", EINVAL }, { "EACCES", EACCES }, { "EEXIST", EEXIST },
	{ "EISDIR", EISDIR }, { "ENOENT", ENOENT }, { "ENOMEM", ENOMEM },
	{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "ENOTEMPTY", ENOTEMPTY },
	{ "ENOSYS", EOPNOTSUPP }, { "EROFS", EROFS }, { "EBUSY", EBUSY },
	{ "EAGAIN", EAGAIN }, { "EISCONN", EISCONN }, { "E2BIG", E2BIG },
	{ "EPERM", EPERM }, { "ENOTSUP", EOPNOTSUPP },
};

/**
 * xenpv_xs_errno() - map one of xenstored's error names to an errno
 * @name: the payload of an XS_ERROR reply, e.g. "ENOENT"
 *
 * Context: any.
 * Return: the negative errno, or -EINVAL for a name xenpv does not know.
 */
int xenpv_xs_errno(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(xs_errors); i++)
		if (!strcmp(name, xs_errors[i].name))
			return -xs_errors[i].err;
	pr_warn_ratelimited("xenpv: xenstore: unknown error \"%.16s\"\n",
			    name);
	return -EINVAL;
}

/**
 * xenpv_xs_get_stats() - what the client rejected or dropped so far
 * @stats: filled in
 *
 * Context: any.
 */
void xenpv_xs_get_stats(struct xenpv_xs_stats *stats)
{
	stats->bad_replies = atomic_long_read(&xs_stats.bad_replies);
	stats->unknown_ids = atomic_long_read(&xs_stats.unknown_ids);
	stats->bad_events = atomic_long_read(&xs_stats.bad_events);
	stats->dropped_events = atomic_long_read(&xs_stats.dropped_events);
	stats->timeouts = atomic_long_read(&xs_stats.timeouts);
	stats->protocol_errors = atomic_long_read(&xs_stats.protocol_errors);
}

/**
 * xenpv_xs_is_dead() - was the connection given up?
 *
 * Context: any.
 * Return: true after a protocol error (until xenpv_xs_exit()).
 */
bool xenpv_xs_is_dead(void)
{
	return READ_ONCE(xs_state) == XS_DEAD;
}

static unsigned long xs_timeout(void)
{
	return max(msecs_to_jiffies(READ_ONCE(xenpv_xs_timeout_ms)), 1UL);
}

static int xs_state_errno(void)
{
	switch (READ_ONCE(xs_state)) {
	case XS_UP:
		return 0;
	case XS_DEAD:
		return -EIO;
	default:
		return -ENODEV;
	}
}

static void xs_notify(void)
{
	int rc = xenpv_notify_remote_via_evtchn(xs_port);

	if (rc)
		pr_warn_ratelimited("xenpv: xenstore: notify failed (%d)\n", rc);
}

/* Fail every outstanding request with -EIO. */
static void xs_fail_all(void)
{
	struct xs_req *req;
	unsigned long id;

	xa_for_each(&xs_reqs, id, req) {
		if (xa_cmpxchg(&xs_reqs, id, req, NULL, 0) != req)
			continue;
		req->err = -EIO;
		complete(&req->done);
	}
}

/*
 * UP -> DEAD, once; fail everyone waiting. @why is logged when a protocol
 * error killed the connection, NULL when xenpv_xs_exit() did.
 */
static void xs_kill(const char *why)
{
	if (cmpxchg(&xs_state, XS_UP, XS_DEAD) != XS_UP)
		return;
	if (why) {
		atomic_long_inc(&xs_stats.protocol_errors);
		pr_err("xenpv: xenstore: %s: connection given up\n", why);
	}
	/* Pairs with xs_talkv(): it sees DEAD, or we see its request. */
	smp_mb();
	xs_fail_all();
	wake_up_all(&xs_ring_wq);
}

/*---- Watch events ----*/

/* Called under xs_watch_lock. */
static struct xenpv_xs_watch *xs_find_watch(const char *token)
{
	struct xenpv_xs_watch *w;

	list_for_each_entry(w, &xs_watches, list)
		if (!strcmp(w->token, token))
			return w;
	return NULL;
}

/*
 * Is @w registered? A zeroed struct (list pointers NULL) is not, nor one
 * unregistered (list_del_init()). Called under xs_watch_lock.
 */
static bool xs_watch_listed(struct xenpv_xs_watch *w)
{
	return w->list.next && !list_empty(&w->list);
}

/* Drop the queued events of @w (all events if NULL). Under xs_watch_lock. */
static void xs_purge_events(struct xenpv_xs_watch *w, struct list_head *out)
{
	struct xs_event *ev, *tmp;

	list_for_each_entry_safe(ev, tmp, &xs_events, list) {
		if (w && ev->watch != w)
			continue;
		list_move(&ev->list, out);
		ev->watch->nr_pending--;
	}
}

static void xs_free_events(struct list_head *list)
{
	struct xs_event *ev, *tmp;

	list_for_each_entry_safe(ev, tmp, list, list)
		kfree(ev);
}

/*
 * A watch event from the reader: "path\0token\0", possibly followed by
 * more. Queue it for its watch, unless the watch has too many waiting.
 */
static void xs_queue_event(const char *body, unsigned int len)
{
	struct xenpv_xs_watch *w;
	struct xs_event *ev;
	size_t plen;

	if (!len || body[len - 1])
		goto bad_event;
	plen = strlen(body);
	if (plen + 1 >= len)
		goto bad_event;
	ev = kmalloc(struct_size(ev, data, len), GFP_KERNEL);
	if (!ev) {
		atomic_long_inc(&xs_stats.dropped_events);
		return;
	}
	memcpy(ev->data, body, len);
	ev->path = ev->data;
	ev->token = ev->data + plen + 1;

	spin_lock(&xs_watch_lock);
	w = xs_find_watch(ev->token);
	if (!w) {
		/* A watch removed meanwhile, or a stale one. */
		spin_unlock(&xs_watch_lock);
		kfree(ev);
		goto bad_event;
	}
	if (w->nr_pending >= (w->max_pending ?: XENPV_XS_WATCH_MAX_PENDING)) {
		w->dropped++;
		spin_unlock(&xs_watch_lock);
		kfree(ev);
		atomic_long_inc(&xs_stats.dropped_events);
		return;
	}
	w->nr_pending++;
	ev->watch = w;
	list_add_tail(&ev->list, &xs_events);
	spin_unlock(&xs_watch_lock);
	wake_up(&xs_watch_wq);
	return;

bad_event:
	atomic_long_inc(&xs_stats.bad_events);
}

static bool xs_events_ready(void)
{
	return !list_empty_careful(&xs_events) || kthread_should_stop();
}

static int xs_watch_thread(void *unused)
{
	struct xs_event *ev;

	for (;;) {
		wait_event_idle(xs_watch_wq, xs_events_ready());
		if (kthread_should_stop())
			break;
		mutex_lock(&xs_watch_cb_mutex);
		spin_lock(&xs_watch_lock);
		ev = list_first_entry_or_null(&xs_events, struct xs_event,
					      list);
		if (ev) {
			list_del(&ev->list);
			ev->watch->nr_pending--;
		}
		spin_unlock(&xs_watch_lock);
		/* The callback may unwatch, even free, its watch. */
		if (ev)
			ev->watch->callback(ev->watch, ev->path, ev->token);
		mutex_unlock(&xs_watch_cb_mutex);
		kfree(ev);
		cond_resched();
	}
	return 0;
}

/*---- The reader ----*/

/* A reply: hand it to its request. */
static void xs_dispatch_reply(const struct xsd_sockmsg *hdr, const char *body)
{
	struct xs_req *req = xa_erase(&xs_reqs, hdr->req_id);

	if (!req) {
		/* A request that timed out, or a reply nobody asked for. */
		atomic_long_inc(&xs_stats.unknown_ids);
		pr_warn_ratelimited("xenpv: xenstore: reply to unknown req_id %u dropped\n",
				    hdr->req_id);
		return;
	}
	if (hdr->type == XS_ERROR) {
		if (!hdr->len || body[hdr->len - 1]) {
			atomic_long_inc(&xs_stats.bad_replies);
			req->err = -EIO;
		} else if (req->raw) {
			req->reply_type = XS_ERROR;
			req->body = kmemdup(body, hdr->len + 1, GFP_KERNEL);
			req->len = hdr->len;
			if (!req->body)
				req->err = -ENOMEM;
		} else {
			req->err = xenpv_xs_errno(body);
		}
	} else if (hdr->type != req->type) {
		atomic_long_inc(&xs_stats.bad_replies);
		pr_warn_ratelimited("xenpv: xenstore: reply of type %u to a request of type %u\n",
				    hdr->type, req->type);
		req->err = -EIO;
	} else {
		req->reply_type = hdr->type;
		req->body = kmemdup(body, hdr->len + 1, GFP_KERNEL);
		req->len = hdr->len;
		if (!req->body)
			req->err = -ENOMEM;
	}
	complete(&req->done);
}

/*
 * Reads whatever the reply ring holds, a piece at a time, and dispatches
 * each message once it is whole.
 */
static void xs_rx_work_fn(struct work_struct *work)
{
	bool consumed = false;
	int n = 0;

	while (READ_ONCE(xs_state) == XS_UP) {
		if (xs_rx_hdr_got < sizeof(xs_rx_hdr)) {
			n = xenpv_xs_ring_read(&xs_ring,
					       (char *)&xs_rx_hdr + xs_rx_hdr_got,
					       sizeof(xs_rx_hdr) - xs_rx_hdr_got);
			if (n <= 0)
				goto out_check;
			consumed = true;
			xs_rx_hdr_got += n;
			if (xs_rx_hdr_got < sizeof(xs_rx_hdr))
				continue;
			if (xs_rx_hdr.len > XENSTORE_PAYLOAD_MAX) {
				xs_kill("reply longer than XENSTORE_PAYLOAD_MAX");
				break;
			}
			xs_rx_body_got = 0;
		}
		if (xs_rx_body_got < xs_rx_hdr.len) {
			n = xenpv_xs_ring_read(&xs_ring,
					       xs_rx_buf + xs_rx_body_got,
					       xs_rx_hdr.len - xs_rx_body_got);
			if (n <= 0)
				goto out_check;
			consumed = true;
			xs_rx_body_got += n;
			if (xs_rx_body_got < xs_rx_hdr.len)
				continue;
		}
		xs_rx_buf[xs_rx_hdr.len] = '\0';
		if (xs_rx_hdr.type == XS_WATCH_EVENT)
			xs_queue_event(xs_rx_buf, xs_rx_hdr.len);
		else
			xs_dispatch_reply(&xs_rx_hdr, xs_rx_buf);
		xs_rx_hdr_got = 0;
		cond_resched();
	}
	goto out_notify;

out_check:
	if (n < 0)
		xs_kill("impossible reply ring index");
out_notify:
	/* xenstored may be waiting for the room we freed. */
	if (consumed && READ_ONCE(xs_state) == XS_UP)
		xs_notify();
}

static irqreturn_t xs_interrupt(int irq, void *dev)
{
	queue_work(xs_rx_wq, &xs_rx_work);
	wake_up(&xs_ring_wq);
	return IRQ_HANDLED;
}

/*---- The writer ----*/

/*
 * Write @len bytes of the message being sent. @sent counts the bytes of
 * the message already in the ring: a message cut short breaks the
 * stream. Called under xs_write_mutex.
 */
static int xs_write_bytes(const void *data, unsigned int len,
			  unsigned int *sent)
{
	unsigned int off = 0;
	long left;
	int n;

	while (off < len) {
		n = xenpv_xs_ring_write(&xs_ring, data + off, len - off);
		if (n < 0) {
			xs_kill("impossible request ring index");
			return -EIO;
		}
		if (n) {
			off += n;
			*sent += n;
			continue;
		}
		/* Full: let xenstored drain it, and wait for room. */
		xs_notify();
		left = wait_event_timeout(xs_ring_wq,
					  xenpv_xs_ring_writable(&xs_ring) ||
					  READ_ONCE(xs_state) != XS_UP,
					  xs_timeout());
		if (READ_ONCE(xs_state) != XS_UP)
			return -EIO;
		if (!left) {
			if (!*sent)
				return -ETIMEDOUT;
			xs_kill("request ring stuck in the middle of a message");
			return -EIO;
		}
	}
	return 0;
}

/* Write one whole message and notify xenstored. */
static int xs_send(const struct xsd_sockmsg *hdr, const struct kvec *vec,
		   unsigned int nvec)
{
	unsigned int sent = 0, i;
	int rc;

	mutex_lock(&xs_write_mutex);
	rc = xs_write_bytes(hdr, sizeof(*hdr), &sent);
	for (i = 0; !rc && i < nvec; i++)
		rc = xs_write_bytes(vec[i].iov_base, vec[i].iov_len, &sent);
	if (!rc)
		xs_notify();
	mutex_unlock(&xs_write_mutex);
	return rc;
}

/*
 * Send a request and wait for its reply. Returns the reply's payload
 * (kmalloc'd, NUL-terminated after *@lenp bytes) or an ERR_PTR.
 */
/*
 * Send one request and wait for its reply. Returns 0 with the outcome in
 * @req (err, body, len), or a negative errno if no reply came.
 */
static int xs_request(struct xs_req *req, struct xenpv_xs_transaction t,
		      const struct kvec *vec, unsigned int nvec)
{
	struct xsd_sockmsg hdr = { .type = req->type, .tx_id = t.id };
	size_t len = 0;
	unsigned int i;
	u32 id;
	int rc;

	for (i = 0; i < nvec; i++)
		len += vec[i].iov_len;
	if (len > XENSTORE_PAYLOAD_MAX)
		return -E2BIG;
	hdr.len = len;
	init_completion(&req->done);

	down_read(&xs_state_rwsem);
	rc = xs_state_errno();
	if (rc)
		goto out_unlock;
	rc = xa_alloc_cyclic(&xs_reqs, &id, req, xa_limit_32b, &xs_next_id,
			     GFP_KERNEL);
	if (rc < 0)
		goto out_unlock;
	/* Pairs with xs_kill(): it sees our request, or we see DEAD. */
	smp_mb();
	rc = xs_state_errno();
	if (rc)
		goto out_forget;
	hdr.req_id = id;
	rc = xs_send(&hdr, vec, nvec);
	if (rc)
		goto out_forget;

	if (!wait_for_completion_timeout(&req->done, xs_timeout())) {
		if (xa_cmpxchg(&xs_reqs, id, req, NULL, 0) == req) {
			atomic_long_inc(&xs_stats.timeouts);
			rc = -ETIMEDOUT;
			goto out_unlock;
		}
		/* Taken just now by the reader or xs_kill(): no wait. */
		wait_for_completion(&req->done);
	}
	up_read(&xs_state_rwsem);
	return 0;

out_forget:
	if (xa_cmpxchg(&xs_reqs, id, req, NULL, 0) != req) {
		wait_for_completion(&req->done);
		kfree(req->body);
		req->body = NULL;
	}
out_unlock:
	up_read(&xs_state_rwsem);
	return rc;
}

static char *xs_talkv(struct xenpv_xs_transaction t, u32 type,
		      const struct kvec *vec, unsigned int nvec,
		      unsigned int *lenp)
{
	struct xs_req req = { .type = type };
	int rc;

	rc = xs_request(&req, t, vec, nvec);
	if (rc)
		return ERR_PTR(rc);
	if (req.err) {
		kfree(req.body);
		return ERR_PTR(req.err);
	}
	if (lenp)
		*lenp = req.len;
	return req.body;
}

/**
 * xenpv_xs_raw() - send a request as user space wrote it (/dev/xen/xenbus)
 * @type: XS_* request type
 * @tx_id: the transaction id, 0 for none
 * @body: the payload
 * @len: its length, at most XENSTORE_PAYLOAD_MAX
 * @reply_type: the reply's type: @type, or XS_ERROR
 * @reply: the reply's payload (an XS_ERROR's error name), kmalloc'd, with a
 *	NUL appended
 * @reply_len: the payload's length, without that NUL
 *
 * Context: process context; sleeps.
 * Return: 0 when a reply came, or a negative errno (-ETIMEDOUT, -EIO for a
 * dead connection or a malformed reply, ...).
 */
int xenpv_xs_raw(u32 type, u32 tx_id, const void *body, unsigned int len,
		 u32 *reply_type, void **reply, unsigned int *reply_len)
{
	struct xenpv_xs_transaction t = { .id = tx_id };
	struct kvec vec = { .iov_base = (void *)body, .iov_len = len };
	struct xs_req req = { .type = type, .raw = true };
	int rc;

	rc = xs_request(&req, t, &vec, 1);
	if (rc)
		return rc;
	if (req.err) {
		kfree(req.body);
		return req.err;
	}
	*reply_type = req.reply_type;
	*reply = req.body;
	*reply_len = req.len;
	return 0;
}

/* A request whose payload is one NUL-terminated string. */
static char *xs_single(struct xenpv_xs_transaction t, u32 type,
		       const char *string, unsigned int *lenp)
{
	struct kvec vec = {
		.iov_base = (void *)string, .iov_len = strlen(string) + 1,
	};

	return xs_talkv(t, type, &vec, 1, lenp);
}

/* "dir/node", or dir alone when node is empty; checked for length. */
static char *xs_join(const char *dir, const char *node)
{
	char *path;

	if (!dir)
		return ERR_PTR(-EINVAL);
	if (!node || !*node)
		path = kstrdup(dir, GFP_KERNEL);
	else if (!*dir)
		path = kstrdup(node, GFP_KERNEL);
	else
		path = kasprintf(GFP_KERNEL, "%s/%s", dir, node);
	if (!path)
		return ERR_PTR(-ENOMEM);
	if (!*path || strlen(path) > XENSTORE_ABS_PATH_MAX) {
		kfree(path);
		return ERR_PTR(*path ? -ENAMETOOLONG : -EINVAL);
	}
	return path;
}

/* A request on "dir/node" with no other argument. */
static char *xs_path_op(struct xenpv_xs_transaction t, u32 type,
			const char *dir, const char *node, unsigned int *lenp)
{
	char *path = xs_join(dir, node);
	char *body;

	if (IS_ERR(path))
		return path;
	body = xs_single(t, type, path, lenp);
	kfree(path);
	return body;
}

/* Check an "OK" reply and free it. */
static int xs_check_ok(char *body, unsigned int len)
{
	int rc = 0;

	if (IS_ERR(body))
		return PTR_ERR(body);
	if (!len || body[len - 1] || strcmp(body, "OK")) {
		atomic_long_inc(&xs_stats.bad_replies);
		rc = -EIO;
	}
	kfree(body);
	return rc;
}

/*
 * Split a payload of NUL-terminated strings into one kmalloc'd block: the
 * array of pointers, then the strings. Frees @body.
 */
static char **xs_split(char *body, unsigned int len, unsigned int *num)
{
	unsigned int n = 0, i;
	char **vec;
	char *p;

	if (IS_ERR(body))
		return ERR_CAST(body);
	if (len && body[len - 1]) {
		atomic_long_inc(&xs_stats.bad_replies);
		kfree(body);
		return ERR_PTR(-EIO);
	}
	for (i = 0; i < len; i++)
		if (!body[i])
			n++;
	vec = kmalloc(array_size(n, sizeof(*vec)) + len + 1, GFP_KERNEL);
	if (!vec) {
		kfree(body);
		return ERR_PTR(-ENOMEM);
	}
	p = (char *)(vec + n);
	memcpy(p, body, len);
	for (i = 0; i < n; i++) {
		vec[i] = p;
		p += strlen(p) + 1;
	}
	kfree(body);
	if (num)
		*num = n;
	return vec;
}

/*---- The API ----*/

/**
 * xenpv_xs_read() - read a node's value
 * @t: the transaction, or XENPV_XBT_NIL
 * @dir: the directory
 * @node: the node below @dir, or "" / NULL for @dir itself
 * @len: if not NULL, set to the value's length
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: the value, kmalloc'd, with a NUL appended (not counted in
 * *@len); free it with kfree(). An ERR_PTR() on failure: -ENOENT if the
 * node does not exist, or as described in <xenpv/xenstore.h>.
 */
void *xenpv_xs_read(struct xenpv_xs_transaction t, const char *dir,
		    const char *node, unsigned int *len)
{
	return xs_path_op(t, XS_READ, dir, node, len);
}

XENPV_EXPORT(xenpv_xs_read);

/**
 * xenpv_xs_write() - write a node's value, creating the node if needed
 * @t: the transaction, or XENPV_XBT_NIL
 * @dir: the directory
 * @node: the node below @dir, or "" / NULL for @dir itself
 * @string: the value (without its NUL)
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: 0, or a negative errno (-E2BIG if path and value exceed
 * XENSTORE_PAYLOAD_MAX).
 */
int xenpv_xs_write(struct xenpv_xs_transaction t, const char *dir,
		   const char *node, const char *string)
{
	struct kvec vec[2];
	unsigned int len;
	char *path, *body;

	path = xs_join(dir, node);
	if (IS_ERR(path))
		return PTR_ERR(path);
	vec[0].iov_base = path;
	vec[0].iov_len = strlen(path) + 1;
	vec[1].iov_base = (void *)string;
	vec[1].iov_len = strlen(string);
	body = xs_talkv(t, XS_WRITE, vec, ARRAY_SIZE(vec), &len);
	kfree(path);
	return xs_check_ok(body, len);
}

XENPV_EXPORT(xenpv_xs_write);

/**
 * xenpv_xs_directory() - list a node's children
 * @t: the transaction, or XENPV_XBT_NIL
 * @dir: the directory
 * @node: the node below @dir, or "" / NULL for @dir itself
 * @num: set to the number of children
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: an array of *@num names (not paths), in one kmalloc'd block:
 * free it with one kfree(). An ERR_PTR() on failure.
 */
char **xenpv_xs_directory(struct xenpv_xs_transaction t, const char *dir,
			  const char *node, unsigned int *num)
{
	unsigned int len = 0;
	char *body;

	body = xs_path_op(t, XS_DIRECTORY, dir, node, &len);
	return xs_split(body, len, num);
}

XENPV_EXPORT(xenpv_xs_directory);

/**
 * xenpv_xs_exists() - does a node exist?
 * @t: the transaction, or XENPV_XBT_NIL
 * @dir: the directory
 * @node: the node below @dir, or "" / NULL for @dir itself
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: true if it exists; false if not, or if xenstore could not be
 * asked.
 */
bool xenpv_xs_exists(struct xenpv_xs_transaction t, const char *dir,
		     const char *node)
{
	char **names = xenpv_xs_directory(t, dir, node, NULL);

	if (IS_ERR(names))
		return false;
	kfree(names);
	return true;
}

XENPV_EXPORT(xenpv_xs_exists);

/**
 * xenpv_xs_mkdir() - create a node with an empty value
 * @t: the transaction, or XENPV_XBT_NIL
 * @dir: the directory
 * @node: the node below @dir, or "" / NULL for @dir itself
 *
 * Succeeds if the node exists already.
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: 0 or a negative errno.
 */
int xenpv_xs_mkdir(struct xenpv_xs_transaction t, const char *dir,
		   const char *node)
{
	unsigned int len = 0;
	char *body;

	body = xs_path_op(t, XS_MKDIR, dir, node, &len);
	return xs_check_ok(body, len);
}

XENPV_EXPORT(xenpv_xs_mkdir);

/**
 * xenpv_xs_rm() - remove a node and everything below it
 * @t: the transaction, or XENPV_XBT_NIL
 * @dir: the directory
 * @node: the node below @dir, or "" / NULL for @dir itself
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: 0 (also when the node did not exist but its parent does:
 * xenstored answers so); -ENOENT if not even the parent exists; or a
 * negative errno.
 */
int xenpv_xs_rm(struct xenpv_xs_transaction t, const char *dir,
		const char *node)
{
	unsigned int len = 0;
	char *body;

	body = xs_path_op(t, XS_RM, dir, node, &len);
	return xs_check_ok(body, len);
}

XENPV_EXPORT(xenpv_xs_rm);

/**
 * xenpv_xs_get_perms() - read a node's permissions
 * @t: the transaction, or XENPV_XBT_NIL
 * @dir: the directory
 * @node: the node below @dir, or "" / NULL for @dir itself
 * @num: set to the number of entries
 *
 * Entries are xenstore's strings: a letter ('n' none, 'r' read, 'w'
 * write, 'b' both) and a domain id. The first names the owner and gives
 * everyone else's access; the others give one domain's access.
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: an array of *@num strings in one kmalloc'd block (one kfree()),
 * or an ERR_PTR().
 */
char **xenpv_xs_get_perms(struct xenpv_xs_transaction t, const char *dir,
			  const char *node, unsigned int *num)
{
	unsigned int len = 0;
	char *body;

	body = xs_path_op(t, XS_GET_PERMS, dir, node, &len);
	return xs_split(body, len, num);
}

XENPV_EXPORT(xenpv_xs_get_perms);

/* A letter of "nrwb", then a domain id in decimal digits only. */
static bool xs_perm_valid(const char *perm)
{
	size_t digits;
	u16 domid;

	if (!perm || !perm[0] || !strchr("nrwb", perm[0]))
		return false;
	digits = strspn(perm + 1, "0123456789");
	if (!digits || perm[1 + digits])
		return false;
	return !kstrtou16(perm + 1, 10, &domid);
}

/**
 * xenpv_xs_set_perms() - set a node's permissions
 * @t: the transaction, or XENPV_XBT_NIL
 * @dir: the directory
 * @node: the node below @dir, or "" / NULL for @dir itself
 * @perms: @num entries in the form xenpv_xs_get_perms() returns
 * @num: at least 1
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: 0, -EINVAL for a malformed entry, -E2BIG if it all exceeds
 * XENSTORE_PAYLOAD_MAX, or a negative errno from xenstored.
 */
int xenpv_xs_set_perms(struct xenpv_xs_transaction t, const char *dir,
		       const char *node, const char *const *perms,
		       unsigned int num)
{
	size_t total, off;
	unsigned int i, len = 0;
	char *path, *buf, *body;
	struct kvec vec;
	int rc;

	if (!num)
		return -EINVAL;
	for (i = 0; i < num; i++)
		if (!xs_perm_valid(perms[i]))
			return -EINVAL;
	path = xs_join(dir, node);
	if (IS_ERR(path))
		return PTR_ERR(path);
	total = strlen(path) + 1;
	for (i = 0; i < num && total <= XENSTORE_PAYLOAD_MAX; i++)
		total += strlen(perms[i]) + 1;
	rc = -E2BIG;
	if (total > XENSTORE_PAYLOAD_MAX)
		goto out_free_path;
	rc = -ENOMEM;
	buf = kmalloc(total, GFP_KERNEL);
	if (!buf)
		goto out_free_path;
	off = strlen(path) + 1;
	memcpy(buf, path, off);
	for (i = 0; i < num; i++) {
		size_t n = strlen(perms[i]) + 1;

		memcpy(buf + off, perms[i], n);
		off += n;
	}
	vec.iov_base = buf;
	vec.iov_len = total;
	body = xs_talkv(t, XS_SET_PERMS, &vec, 1, &len);
	rc = xs_check_ok(body, len);
	kfree(buf);
out_free_path:
	kfree(path);
	return rc;
}

XENPV_EXPORT(xenpv_xs_set_perms);

/**
 * xenpv_xs_scanf() - read a node and parse it with sscanf()
 * @t: the transaction, or XENPV_XBT_NIL
 * @dir: the directory
 * @node: the node below @dir, or "" / NULL for @dir itself
 * @fmt: the sscanf() format
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: the number of values parsed (> 0), -ERANGE if none could be,
 * or the negative errno of the read.
 */
int xenpv_xs_scanf(struct xenpv_xs_transaction t, const char *dir,
		   const char *node, const char *fmt, ...)
{
	va_list ap;
	char *val;
	int n;

	val = xenpv_xs_read(t, dir, node, NULL);
	if (IS_ERR(val))
		return PTR_ERR(val);
	va_start(ap, fmt);
	n = vsscanf(val, fmt, ap);
	va_end(ap);
	kfree(val);
	return n > 0 ? n : -ERANGE;
}

XENPV_EXPORT(xenpv_xs_scanf);

/**
 * xenpv_xs_printf() - write a node's value from a printf() format
 * @t: the transaction, or XENPV_XBT_NIL
 * @dir: the directory
 * @node: the node below @dir, or "" / NULL for @dir itself
 * @fmt: the printf() format
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: 0 or a negative errno, as xenpv_xs_write().
 */
int xenpv_xs_printf(struct xenpv_xs_transaction t, const char *dir,
		    const char *node, const char *fmt, ...)
{
	va_list ap;
	char *val;
	int rc;

	va_start(ap, fmt);
	val = kvasprintf(GFP_KERNEL, fmt, ap);
	va_end(ap);
	if (!val)
		return -ENOMEM;
	rc = xenpv_xs_write(t, dir, node, val);
	kfree(val);
	return rc;
}

XENPV_EXPORT(xenpv_xs_printf);

/*
 * One entry of xenpv_xs_gather(): read @name and either parse it with
 * @fmt into @result, or, with no @fmt, store the kmalloc'd value there.
 */
static int xs_gather_one(struct xenpv_xs_transaction t, const char *dir,
			 const char *name, const char *fmt, void *result)
{
	char *val = xenpv_xs_read(t, dir, name, NULL);
	int n;

	if (IS_ERR(val))
		return PTR_ERR(val);
	if (!fmt) {
		*(char **)result = val;
		return 0;
	}
	n = sscanf(val, fmt, result);
	kfree(val);
	return n == 1 ? 0 : -EINVAL;
}

/**
 * xenpv_xs_gather() - read several nodes of one directory
 * @t: the transaction, or XENPV_XBT_NIL
 * @dir: the directory
 *
 * Followed by triples (const char *name, const char *fmt, void *result)
 * and a NULL. With a format, the node is parsed with sscanf() and must
 * give exactly one value; with a NULL format, *(char **)result gets the
 * kmalloc'd value (the caller frees it). All or nothing: on failure the
 * strings this call allocated are freed and their pointers set to NULL.
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: 0, -EINVAL if a value did not parse, or the first read's error.
 */
int xenpv_xs_gather(struct xenpv_xs_transaction t, const char *dir, ...)
{
	unsigned int done = 0;
	const char *name;
	va_list ap;
	int rc = 0;

	va_start(ap, dir);
	while ((name = va_arg(ap, const char *))) {
		const char *fmt = va_arg(ap, const char *);
		void *result = va_arg(ap, void *);

		rc = xs_gather_one(t, dir, name, fmt, result);
		if (rc)
			break;
		done++;
	}
	va_end(ap);
	if (!rc)
		return 0;

	va_start(ap, dir);
	while (done--) {
		const char *fmt;
		char **result;

		name = va_arg(ap, const char *);
		fmt = va_arg(ap, const char *);
		result = va_arg(ap, char **);
		if (!fmt) {
			kfree(*result);
			*result = NULL;
		}
	}
	va_end(ap);
	return rc;
}

XENPV_EXPORT(xenpv_xs_gather);

/* XS_WATCH or XS_UNWATCH for @watch: its path and token. */
static int xs_watch_request(u32 type, struct xenpv_xs_watch *watch)
{
	struct kvec vec[2];
	unsigned int len = 0;
	char *body;

	vec[0].iov_base = (void *)watch->path;
	vec[0].iov_len = strlen(watch->path) + 1;
	vec[1].iov_base = watch->token;
	vec[1].iov_len = strlen(watch->token) + 1;
	if (vec[0].iov_len > XENSTORE_ABS_PATH_MAX + 1)
		return -ENAMETOOLONG;
	body = xs_talkv(XENPV_XBT_NIL, type, vec, ARRAY_SIZE(vec), &len);
	return xs_check_ok(body, len);
}

/*
 * Drop the queued events of @watch, which is no longer listed, and wait
 * for a callback that took one before (unless we are that callback).
 */
static void xs_forget_events(struct xenpv_xs_watch *watch)
{
	LIST_HEAD(purged);

	spin_lock(&xs_watch_lock);
	xs_purge_events(watch, &purged);
	spin_unlock(&xs_watch_lock);
	xs_free_events(&purged);
	if (current != xs_watch_task) {
		mutex_lock(&xs_watch_cb_mutex);
		mutex_unlock(&xs_watch_cb_mutex);
	}
}

/**
 * xenpv_xs_watch() - start watching a path
 * @watch: @path and @callback set, the rest zeroed (or @max_pending set)
 *
 * xenstored sends one event at once, then one for every change to @path
 * or below it (and for the removal of a parent). @watch must stay valid
 * until xenpv_xs_unwatch() returned; after that it may be registered
 * again. Takes xs_watch_lock.
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: 0; -EINVAL without a path or callback; -EBUSY if @watch is
 * registered already; or a negative errno (then it is not registered).
 */
int xenpv_xs_watch(struct xenpv_xs_watch *watch)
{
	int rc;

	if (!watch || !watch->path || !watch->callback)
		return -EINVAL;
	spin_lock(&xs_watch_lock);
	if (xs_watch_listed(watch)) {
		spin_unlock(&xs_watch_lock);
		return -EBUSY;
	}
	snprintf(watch->token, sizeof(watch->token), "%08x.%x",
		 xs_token_nonce, (u32)atomic_inc_return(&xs_token_seq));
	watch->nr_pending = 0;
	watch->dropped = 0;
	/* Listed first: the first event may come before the reply. */
	list_add_tail(&watch->list, &xs_watches);
	spin_unlock(&xs_watch_lock);

	rc = xs_watch_request(XS_WATCH, watch);
	if (!rc)
		return 0;

	spin_lock(&xs_watch_lock);
	list_del_init(&watch->list);
	spin_unlock(&xs_watch_lock);
	xs_forget_events(watch);
	return rc;
}

XENPV_EXPORT(xenpv_xs_watch);

/**
 * xenpv_xs_unwatch() - stop watching
 * @watch: registered with xenpv_xs_watch()
 *
 * When this returns, the callback is not running for @watch (unless this
 * is called from that callback) and will not be called again, and
 * @watch may be freed. xenstored is told too; if that fails the watch is
 * still gone on this side, and events xenstored sends for it are dropped.
 *
 * Context: process context; sleeps. No locks held by the caller. May be
 * called from any watch callback. Takes xs_watch_lock, and
 * xs_watch_cb_mutex unless called from a callback.
 * Return: 0; -ENOENT if @watch was not registered (or xenpv_xs_exit()
 * forgot it); or the negative errno of the XS_UNWATCH request (the watch
 * is gone on this side anyway).
 */
int xenpv_xs_unwatch(struct xenpv_xs_watch *watch)
{
	int rc;

	spin_lock(&xs_watch_lock);
	if (!xs_watch_listed(watch)) {
		spin_unlock(&xs_watch_lock);
		return -ENOENT;
	}
	list_del_init(&watch->list);
	spin_unlock(&xs_watch_lock);

	rc = xs_watch_request(XS_UNWATCH, watch);
	if (rc && rc != -ENODEV)
		pr_warn("xenpv: xenstore: unwatch of %s failed (%d)\n",
			watch->path, rc);
	xs_forget_events(watch);
	return rc;
}

XENPV_EXPORT(xenpv_xs_unwatch);

/**
 * xenpv_xs_transaction_start() - start a transaction
 * @t: set to the new transaction
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: 0 or a negative errno (-ENOSPC: xenstored's quota of
 * transactions is used up).
 */
int xenpv_xs_transaction_start(struct xenpv_xs_transaction *t)
{
	unsigned int len = 0;
	char *body;
	u32 id;
	int rc;

	body = xs_single(XENPV_XBT_NIL, XS_TRANSACTION_START, "", &len);
	if (IS_ERR(body))
		return PTR_ERR(body);
	rc = -EIO;
	if (len && !body[len - 1] && !kstrtou32(body, 10, &id) && id) {
		t->id = id;
		rc = 0;
	} else {
		atomic_long_inc(&xs_stats.bad_replies);
	}
	kfree(body);
	return rc;
}

XENPV_EXPORT(xenpv_xs_transaction_start);

/**
 * xenpv_xs_transaction_end() - commit or abort a transaction
 * @t: from xenpv_xs_transaction_start()
 * @abort: throw its changes away instead of committing them
 *
 * The transaction is over whatever this returns.
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: 0; -EAGAIN if the commit conflicted with another change (run
 * the transaction again from its start); or a negative errno.
 */
int xenpv_xs_transaction_end(struct xenpv_xs_transaction t, bool abort)
{
	unsigned int len = 0;
	char *body;

	body = xs_single(t, XS_TRANSACTION_END, abort ? "F" : "T", &len);
	return xs_check_ok(body, len);
}

XENPV_EXPORT(xenpv_xs_transaction_end);

/**
 * xenpv_xs_transact() - run a transaction, again while it conflicts
 * @body: does the transaction's reads and writes with the @t it is given;
 *	returns 0 to commit, or a negative errno to abort (-EAGAIN aborts
 *	and runs it again). It may run several times: it must not keep
 *	state from an earlier run.
 * @arg: passed to @body
 *
 * Runs @body in a new transaction and commits it; when the commit (or
 * @body) gives -EAGAIN, starts over, XENPV_XS_TRANSACT_TRIES times at
 * most.
 *
 * Context: process context; sleeps. No locks held by the caller.
 * Return: 0 once a commit succeeded; -EAGAIN if every try conflicted;
 * @body's error; or another negative errno.
 */
int xenpv_xs_transact(int (*body)(struct xenpv_xs_transaction t, void *arg),
		      void *arg)
{
	struct xenpv_xs_transaction t;
	unsigned int try;
	int rc = -EAGAIN;

	for (try = 0; try < XENPV_XS_TRANSACT_TRIES; try++) {
		rc = xenpv_xs_transaction_start(&t);
		if (rc)
			return rc;
		rc = body(t, arg);
		if (rc) {
			xenpv_xs_transaction_end(t, true);
			if (rc != -EAGAIN)
				return rc;
			continue;
		}
		rc = xenpv_xs_transaction_end(t, false);
		if (rc != -EAGAIN)
			return rc;
		cond_resched();
	}
	return rc;
}

XENPV_EXPORT(xenpv_xs_transact);

/*---- Connecting ----*/

/* Drop watches left by an earlier load of xenpv, if xenstored can. */
static void xs_drop_stale_watches(void)
{
	unsigned int len = 0;
	char *val;
	int rc;

	val = xenpv_xs_read(XENPV_XBT_NIL, "control",
			    "platform-feature-xs_reset_watches", NULL);
	if (IS_ERR(val))
		return;
	rc = strcmp(val, "1");
	kfree(val);
	if (rc)
		return;
	val = xs_single(XENPV_XBT_NIL, XS_RESET_WATCHES, "", &len);
	rc = xs_check_ok(val, len);
	if (rc)
		pr_warn("xenpv: xenstore: XS_RESET_WATCHES failed (%d)\n", rc);
}

/**
 * xenpv_xs_init() - connect to xenstore
 *
 * Finds the ring page and the event channel in HVM_PARAM_STORE_PFN and
 * HVM_PARAM_STORE_EVTCHN, maps the page, binds the port to an IRQ and
 * starts the watch thread. Then, if xenstored advertises it
 * (control/platform-feature-xs_reset_watches), removes the watches an
 * earlier load of xenpv may have left.
 *
 * Context: process context; sleeps. After the events layer started and
 * the upcall is enabled; not concurrently with xenpv_xs_exit().
 * Return: 0; -EBUSY if already connected; -ENODEV if Xen gives no store;
 * -ENOMEM; -EIO if the ring's indices are impossible; or an error from
 * the events layer.
 */
int xenpv_xs_init(void)
{
	struct xenstore_domain_interface *intf;
	u64 pfn = 0, port = 0;
	int rc, irq;

	down_write(&xs_state_rwsem);
	rc = -EBUSY;
	if (xs_state != XS_DOWN)
		goto out_unlock;
	rc = xenpv_hvm_get_param(HVM_PARAM_STORE_PFN, &pfn);
	if (!rc)
		rc = xenpv_hvm_get_param(HVM_PARAM_STORE_EVTCHN, &port);
	if (rc)
		goto out_unlock;
	rc = -ENODEV;
	if (!pfn || !port || port > U32_MAX)
		goto out_unlock;

	rc = -ENOMEM;
	xs_rx_buf = kmalloc(XENSTORE_PAYLOAD_MAX + 1, GFP_KERNEL);
	if (!xs_rx_buf)
		goto out_unlock;
	intf = xenpv_hv->map_gpfn(pfn, 1);
	if (!intf)
		goto out_free_buf;
	rc = xenpv_xs_ring_attach(&xs_ring, intf);
	if (rc < 0) {
		pr_err("xenpv: xenstore: ring indices are impossible\n");
		goto out_unmap;
	}
	if (rc)
		pr_warn("xenpv: xenstore: skipped %d bytes of stale replies\n",
			rc);
	xs_rx_hdr_got = 0;
	xs_rx_body_got = 0;
	xs_port = port;

	rc = -ENOMEM;
	xs_rx_wq = alloc_ordered_workqueue("xenpv-xenbus", 0);
	if (!xs_rx_wq)
		goto out_unmap;
	xs_token_nonce = get_random_u32();
	xs_watch_task = kthread_run(xs_watch_thread, NULL, "xenpv-xenwatch");
	if (IS_ERR(xs_watch_task)) {
		rc = PTR_ERR(xs_watch_task);
		goto out_destroy_wq;
	}

	WRITE_ONCE(xs_state, XS_UP);
	irq = xenpv_bind_evtchn_to_irqhandler(xs_port, xs_interrupt, 0,
					      "xenpv-xenstore", &xs_ring,
					      false);
	if (irq < 0) {
		rc = irq;
		goto out_stop_thread;
	}
	xs_irq = irq;
	/* Anything xenstored sent before we listened. */
	queue_work(xs_rx_wq, &xs_rx_work);
	up_write(&xs_state_rwsem);

	xs_drop_stale_watches();
	pr_info("xenpv: xenstore: connected (event channel %u)\n", xs_port);
	return 0;

out_stop_thread:
	WRITE_ONCE(xs_state, XS_DOWN);
	kthread_stop(xs_watch_task);
	xs_watch_task = NULL;
out_destroy_wq:
	destroy_workqueue(xs_rx_wq);
	xs_rx_wq = NULL;
out_unmap:
	xenpv_hv->unmap(intf);
	xs_ring.intf = NULL;
out_free_buf:
	kfree(xs_rx_buf);
	xs_rx_buf = NULL;
out_unlock:
	up_write(&xs_state_rwsem);
	return rc;
}

/**
 * xenpv_xs_exit() - disconnect from xenstore
 *
 * Fails every request still waiting with -EIO, stops the watch thread
 * (dropping queued events; watches still registered are forgotten, with
 * a warning), unbinds the IRQ and unmaps the ring. The page and the port
 * belong to the toolstack: the page is not freed and the port is not
 * closed, so that a later xenpv_xs_init() (or the next load of xenpv) can
 * talk to xenstored again.
 *
 * Context: process context; sleeps. Not from a watch callback; not
 * concurrently with xenpv_xs_init().
 */
void xenpv_xs_exit(void)
{
	struct xenpv_xs_watch *w, *tmp;
	LIST_HEAD(purged);

	/* New calls fail from here on, waiting ones are woken. */
	xs_kill(NULL);
	if (xs_watch_task) {
		kthread_stop(xs_watch_task);
		xs_watch_task = NULL;
	}

	down_write(&xs_state_rwsem);
	if (xs_state == XS_DOWN)
		goto out_unlock;
	xenpv_unbind_from_irqhandler(xs_irq, &xs_ring);
	xs_irq = 0;
	cancel_work_sync(&xs_rx_work);
	destroy_workqueue(xs_rx_wq);
	xs_rx_wq = NULL;
	/* Anything that slipped in between the kill and the unbind. */
	xs_fail_all();

	spin_lock(&xs_watch_lock);
	xs_purge_events(NULL, &purged);
	list_for_each_entry_safe(w, tmp, &xs_watches, list) {
		pr_warn("xenpv: xenstore: watch on %s still registered at exit\n",
			w->path);
		list_del_init(&w->list);
	}
	spin_unlock(&xs_watch_lock);
	xs_free_events(&purged);

	xenpv_hv->unmap(xs_ring.intf);
	xs_ring.intf = NULL;
	kfree(xs_rx_buf);
	xs_rx_buf = NULL;
	WRITE_ONCE(xs_state, XS_DOWN);
out_unlock:
	up_write(&xs_state_rwsem);
}
