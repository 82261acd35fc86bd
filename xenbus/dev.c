// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: /dev/xen/xenbus, the xenstore wire protocol for user space, so
 * that Debian's xenstore-utils (xenstore-ls, -read, -write, -watch) work
 * in the guest unmodified.
 *
 * A client writes whole or partial messages (struct xsd_sockmsg and its
 * payload) and reads replies and watch events in the same format. Each
 * request is sent to xenstored through the kernel's client with the
 * client's transaction id; the reply goes back with the client's req_id.
 * Watches are registered as kernel watches that queue XS_WATCH_EVENT
 * messages carrying the client's own token. Transactions left open at
 * close are aborted.
 *
 * User space is not trusted: a message over the payload limit, of a type
 * the guest may not send, or malformed gets an XS_ERROR reply (or -EINVAL
 * for an impossible length), never a crash or a stuck reader. Each open
 * file may have XENPV_XSDEV_MAX_QUEUED bytes of unread replies and events;
 * past that, watch events are dropped (and counted) and writes wait.
 *
 * Locking: each file's reply_lock protects its reply list and byte count;
 * its lock (a mutex) serialises its writers and protects its watch and
 * transaction lists.
 */

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <xen/interface/io/xs_wire.h>
#include <xenpv/xenstore.h>

#include "bus.h"
#include "xenbus.h"

#define XENPV_XSDEV_MAX_QUEUED	(64 * 1024)

struct xenpv_xsdev_msg {
	struct list_head list;
	unsigned int len;		/* header + payload */
	unsigned int off;		/* bytes already read */
	char data[];
};

struct xenpv_xsdev_watch {
	struct list_head list;
	struct xenpv_xs_watch watch;
	struct xenpv_xsdev *file;
	char *path;
	char *token;
};

struct xenpv_xsdev_tx {
	struct list_head list;
	u32 id;
};

struct xenpv_xsdev {
	struct mutex lock;		/* writers, @watches, @transactions */
	struct list_head watches;
	struct list_head transactions;
	union {
		struct xsd_sockmsg hdr;
		char buf[sizeof(struct xsd_sockmsg) + XENSTORE_PAYLOAD_MAX];
	} in;
	unsigned int in_len;

	struct mutex read_lock;		/* readers of @replies */
	spinlock_t reply_lock;		/* @replies, @queued */
	struct list_head replies;
	unsigned int queued;
	unsigned long dropped;
	wait_queue_head_t wq;
};

/* Queue a message for the reader; events may be dropped, replies not. */
static int xenpv_xsdev_queue(struct xenpv_xsdev *f, u32 type, u32 req_id,
			     u32 tx_id, const void *body, unsigned int len,
			     bool droppable)
{
	struct xenpv_xsdev_msg *m;
	struct xsd_sockmsg *hdr;

	m = kmalloc(struct_size(m, data, sizeof(*hdr) + len), GFP_KERNEL);
	if (!m)
		return -ENOMEM;
	hdr = (struct xsd_sockmsg *)m->data;
	hdr->type = type;
	hdr->req_id = req_id;
	hdr->tx_id = tx_id;
	hdr->len = len;
	memcpy(m->data + sizeof(*hdr), body, len);
	m->len = sizeof(*hdr) + len;
	m->off = 0;

	spin_lock(&f->reply_lock);
	if (droppable && f->queued + m->len > XENPV_XSDEV_MAX_QUEUED) {
		f->dropped++;
		spin_unlock(&f->reply_lock);
		kfree(m);
		return -ENOSPC;
	}
	list_add_tail(&m->list, &f->replies);
	f->queued += m->len;
	spin_unlock(&f->reply_lock);
	wake_up(&f->wq);
	return 0;
}

static int xenpv_xsdev_error(struct xenpv_xsdev *f, const char *err)
{
	return xenpv_xsdev_queue(f, XS_ERROR, f->in.hdr.req_id,
				 f->in.hdr.tx_id, err, strlen(err) + 1, false);
}

static void xenpv_xsdev_watch_fired(struct xenpv_xs_watch *watch,
				    const char *path, const char *token)
{
	struct xenpv_xsdev_watch *w =
		container_of(watch, struct xenpv_xsdev_watch, watch);
	size_t plen = strlen(path) + 1, tlen = strlen(w->token) + 1;
	char *body;

	body = kmalloc(plen + tlen, GFP_KERNEL);
	if (!body)
		return;
	memcpy(body, path, plen);
	memcpy(body + plen, w->token, tlen);
	xenpv_xsdev_queue(w->file, XS_WATCH_EVENT, 0, 0, body, plen + tlen,
			  true);
	kfree(body);
}

/* The two NUL-terminated strings of a WATCH/UNWATCH payload. */
static int xenpv_xsdev_two_strings(struct xenpv_xsdev *f, const char **a,
				   const char **b)
{
	char *body = f->in.buf + sizeof(f->in.hdr);
	unsigned int len = f->in.hdr.len;
	size_t alen;

	if (!len || body[len - 1])
		return -EINVAL;
	alen = strnlen(body, len);
	if (alen + 1 >= len || strlen(body + alen + 1) + alen + 2 != len)
		return -EINVAL;
	*a = body;
	*b = body + alen + 1;
	return 0;
}

/* Called with f->lock held. */
static int xenpv_xsdev_watch(struct xenpv_xsdev *f)
{
	struct xenpv_xsdev_watch *w;
	const char *path, *token;
	int rc;

	if (xenpv_xsdev_two_strings(f, &path, &token))
		return xenpv_xsdev_error(f, "EINVAL");
	list_for_each_entry(w, &f->watches, list)
		if (!strcmp(w->path, path) && !strcmp(w->token, token))
			return xenpv_xsdev_error(f, "EEXIST");

	w = kzalloc(sizeof(*w), GFP_KERNEL);
	if (!w)
		return xenpv_xsdev_error(f, "ENOMEM");
	w->path = kstrdup(path, GFP_KERNEL);
	w->token = kstrdup(token, GFP_KERNEL);
	if (!w->path || !w->token) {
		rc = xenpv_xsdev_error(f, "ENOMEM");
		goto err_free;
	}
	w->file = f;
	w->watch.path = w->path;
	w->watch.callback = xenpv_xsdev_watch_fired;
	rc = xenpv_xs_watch(&w->watch);
	if (rc) {
		rc = xenpv_xsdev_error(f, rc == -ENOENT ? "ENOENT" : "EINVAL");
		goto err_free;
	}
	list_add(&w->list, &f->watches);
	return xenpv_xsdev_queue(f, XS_WATCH, f->in.hdr.req_id, 0, "OK", 3,
				 false);

err_free:
	kfree(w->path);
	kfree(w->token);
	kfree(w);
	return rc;
}

static void xenpv_xsdev_free_watch(struct xenpv_xsdev_watch *w)
{
	xenpv_xs_unwatch(&w->watch);
	list_del(&w->list);
	kfree(w->path);
	kfree(w->token);
	kfree(w);
}

/* Called with f->lock held. */
static int xenpv_xsdev_unwatch(struct xenpv_xsdev *f)
{
	struct xenpv_xsdev_watch *w;
	const char *path, *token;

	if (xenpv_xsdev_two_strings(f, &path, &token))
		return xenpv_xsdev_error(f, "EINVAL");
	list_for_each_entry(w, &f->watches, list) {
		if (!strcmp(w->path, path) && !strcmp(w->token, token)) {
			xenpv_xsdev_free_watch(w);
			return xenpv_xsdev_queue(f, XS_UNWATCH,
						 f->in.hdr.req_id, 0, "OK", 3,
						 false);
		}
	}
	return xenpv_xsdev_error(f, "ENOENT");
}

/* Track transactions so that those left open at close can be aborted. */
static void xenpv_xsdev_track_tx(struct xenpv_xsdev *f, u32 type, u32 rtype,
				 const char *reply, unsigned int rlen)
{
	struct xenpv_xsdev_tx *tx;
	unsigned int id;

	if (type == XS_TRANSACTION_START && rtype == XS_TRANSACTION_START) {
		if (!rlen || reply[rlen - 1] || kstrtouint(reply, 10, &id))
			return;
		tx = kmalloc(sizeof(*tx), GFP_KERNEL);
		if (!tx)
			return;
		tx->id = id;
		list_add(&tx->list, &f->transactions);
	} else if (type == XS_TRANSACTION_END) {
		list_for_each_entry(tx, &f->transactions, list) {
			if (tx->id == f->in.hdr.tx_id) {
				list_del(&tx->list);
				kfree(tx);
				return;
			}
		}
	}
}

/* The message types user space may send, and how. */
static bool xenpv_xsdev_passthrough(u32 type)
{
	switch (type) {
	case XS_DIRECTORY:
	case XS_READ:
	case XS_GET_PERMS:
	case XS_TRANSACTION_START:
	case XS_TRANSACTION_END:
	case XS_GET_DOMAIN_PATH:
	case XS_WRITE:
	case XS_MKDIR:
	case XS_RM:
	case XS_SET_PERMS:
	case XS_DIRECTORY_PART:
		return true;
	}
	return false;
}

/* A whole message is in f->in: handle it. Called with f->lock held. */
static int xenpv_xsdev_request(struct xenpv_xsdev *f)
{
	u32 type = f->in.hdr.type, rtype = 0;
	unsigned int rlen = 0;
	void *reply = NULL;
	int rc;

	if (type == XS_WATCH)
		return xenpv_xsdev_watch(f);
	if (type == XS_UNWATCH)
		return xenpv_xsdev_unwatch(f);
	if (!xenpv_xsdev_passthrough(type))
		return xenpv_xsdev_error(f, "EINVAL");

	rc = xenpv_xs_raw(type, f->in.hdr.tx_id,
			  f->in.buf + sizeof(f->in.hdr), f->in.hdr.len,
			  &rtype, &reply, &rlen);
	if (rc)
		return xenpv_xsdev_error(f, rc == -ETIMEDOUT ? "EAGAIN" :
					 "EIO");
	xenpv_xsdev_track_tx(f, type, rtype, reply, rlen);
	rc = xenpv_xsdev_queue(f, rtype, f->in.hdr.req_id, f->in.hdr.tx_id,
			       reply, rlen, false);
	kfree(reply);
	return rc;
}

static bool xenpv_xsdev_room(struct xenpv_xsdev *f)
{
	bool room;

	spin_lock(&f->reply_lock);
	room = f->queued < XENPV_XSDEV_MAX_QUEUED;
	spin_unlock(&f->reply_lock);
	return room;
}

static ssize_t xenpv_xsdev_write(struct file *filp, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	struct xenpv_xsdev *f = filp->private_data;
	size_t done = 0, want, n;
	int rc = 0;

	/* A client that never reads must not make the kernel queue grow. */
	if (!xenpv_xsdev_room(f)) {
		if (filp->f_flags & O_NONBLOCK)
			return -EAGAIN;
		rc = wait_event_interruptible(f->wq, xenpv_xsdev_room(f));
		if (rc)
			return rc;
	}

	mutex_lock(&f->lock);
	while (done < len) {
		want = sizeof(f->in.hdr);
		if (f->in_len >= want) {
			if (f->in.hdr.len > XENSTORE_PAYLOAD_MAX) {
				/* Cannot resynchronise: start over. */
				f->in_len = 0;
				rc = -EINVAL;
				break;
			}
			want += f->in.hdr.len;
		}
		n = min(want - f->in_len, len - done);
		if (copy_from_user(f->in.buf + f->in_len, ubuf + done, n)) {
			rc = -EFAULT;
			break;
		}
		f->in_len += n;
		done += n;
		if (f->in_len < sizeof(f->in.hdr))
			continue;
		if (f->in.hdr.len > XENSTORE_PAYLOAD_MAX)
			continue;	/* refused at the top of the loop */
		if (f->in_len < sizeof(f->in.hdr) + f->in.hdr.len)
			continue;
		rc = xenpv_xsdev_request(f);
		f->in_len = 0;
		if (rc)
			break;
	}
	mutex_unlock(&f->lock);
	return done ? done : rc;
}

static bool xenpv_xsdev_has_reply(struct xenpv_xsdev *f)
{
	bool has;

	spin_lock(&f->reply_lock);
	has = !list_empty(&f->replies);
	spin_unlock(&f->reply_lock);
	return has;
}

static ssize_t xenpv_xsdev_read(struct file *filp, char __user *ubuf,
				size_t len, loff_t *ppos)
{
	struct xenpv_xsdev *f = filp->private_data;
	struct xenpv_xsdev_msg *m;
	size_t done = 0, n;
	int rc;

	if (!(filp->f_flags & O_NONBLOCK)) {
		rc = wait_event_interruptible(f->wq, xenpv_xsdev_has_reply(f));
		if (rc)
			return rc;
	}
	mutex_lock(&f->read_lock);
	spin_lock(&f->reply_lock);
	while (done < len && !list_empty(&f->replies)) {
		m = list_first_entry(&f->replies, struct xenpv_xsdev_msg, list);
		n = min_t(size_t, len - done, m->len - m->off);
		spin_unlock(&f->reply_lock);
		/* @m stays first in the list: only read_lock's holder takes. */
		if (copy_to_user(ubuf + done, m->data + m->off, n)) {
			mutex_unlock(&f->read_lock);
			return done ? done : -EFAULT;
		}
		spin_lock(&f->reply_lock);
		m->off += n;
		done += n;
		if (m->off == m->len) {
			list_del(&m->list);
			f->queued -= m->len;
			kfree(m);
		}
	}
	spin_unlock(&f->reply_lock);
	mutex_unlock(&f->read_lock);
	/* Writers may be waiting for room. */
	wake_up(&f->wq);
	return done ? done : -EAGAIN;
}

static __poll_t xenpv_xsdev_poll(struct file *filp, poll_table *wait)
{
	struct xenpv_xsdev *f = filp->private_data;

	poll_wait(filp, &f->wq, wait);
	return EPOLLOUT | EPOLLWRNORM |
	       (xenpv_xsdev_has_reply(f) ? EPOLLIN | EPOLLRDNORM : 0);
}

static int xenpv_xsdev_open(struct inode *inode, struct file *filp)
{
	struct xenpv_xsdev *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	mutex_init(&f->lock);
	mutex_init(&f->read_lock);
	INIT_LIST_HEAD(&f->watches);
	INIT_LIST_HEAD(&f->transactions);
	spin_lock_init(&f->reply_lock);
	INIT_LIST_HEAD(&f->replies);
	init_waitqueue_head(&f->wq);
	filp->private_data = f;
	return stream_open(inode, filp);
}

static int xenpv_xsdev_release(struct inode *inode, struct file *filp)
{
	struct xenpv_xsdev *f = filp->private_data;
	struct xenpv_xsdev_watch *w, *wn;
	struct xenpv_xsdev_tx *tx, *txn;
	struct xenpv_xsdev_msg *m, *mn;

	/* Watches first: their callbacks queue into @f. */
	list_for_each_entry_safe(w, wn, &f->watches, list)
		xenpv_xsdev_free_watch(w);
	list_for_each_entry_safe(tx, txn, &f->transactions, list) {
		struct xenpv_xs_transaction t = { .id = tx->id };

		xenpv_xs_transaction_end(t, true);
		list_del(&tx->list);
		kfree(tx);
	}
	list_for_each_entry_safe(m, mn, &f->replies, list)
		kfree(m);
	kfree(f);
	return 0;
}

static const struct file_operations xenpv_xsdev_fops = {
	.owner = THIS_MODULE,
	.open = xenpv_xsdev_open,
	.release = xenpv_xsdev_release,
	.read = xenpv_xsdev_read,
	.write = xenpv_xsdev_write,
	.poll = xenpv_xsdev_poll,
};

static struct miscdevice xenpv_xsdev_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "xen/xenbus",
	.fops = &xenpv_xsdev_fops,
	.mode = 0600,
};

/**
 * xenpv_xsdev_init() - create /dev/xen/xenbus
 *
 * Context: process context, with xenstore connected.
 * Return: 0 or a negative errno.
 */
int xenpv_xsdev_init(void)
{
	return misc_register(&xenpv_xsdev_misc);
}

/**
 * xenpv_xsdev_exit() - remove /dev/xen/xenbus
 *
 * Context: process context. The module cannot unload while a file is
 * open (fops.owner), so no client is left.
 */
void xenpv_xsdev_exit(void)
{
	misc_deregister(&xenpv_xsdev_misc);
}
