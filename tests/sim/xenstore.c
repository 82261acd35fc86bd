// SPDX-License-Identifier: GPL-2.0
/*
 * A simulated xenstored for the KUnit suites (see sim.h).
 *
 * It keeps a tree of nodes (name, value, permissions, children) and
 * speaks xs_wire.h over a ring page, like xenstored does for a domain:
 * it reads requests from the req ring as the guest writes them (a piece
 * at a time, as the guest's writes arrive), answers each one, and writes
 * replies and watch events to the rsp ring as far as there is room,
 * keeping the rest queued until the guest frees room and notifies.
 *
 * It runs synchronously, in the guest's own context, from the guest's
 * EVTCHNOP_send on the store port (struct xenpv_sim's @remote_send), and
 * raises the store port for the guest when it wrote something.
 *
 * Simplifications: a transaction works on the live tree (its writes are
 * seen at once, events fire at once); END can be made to fail with
 * EAGAIN; permissions are stored, returned and never enforced; no
 * quotas.
 */

#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <xen/interface/event_channel.h>
#include <xen/interface/hvm/params.h>
#include <xen/interface/io/xs_wire.h>
#include <xen/interface/memory.h>

#include "sim.h"

#define SXS_HOME	"/local/domain/7"	/* XENPV_SIM_DOMID's home */
#define SXS_MAX_TX	16

/* One node of the tree. */
struct sxs_node {
	struct list_head sibling;
	struct list_head children;
	char *name;
	char *value;
	unsigned int len;
	char perms[32];		/* NUL-separated entries, e.g. "n0\0" */
	unsigned int perms_len;
};

/* A message to send, or a request held back. */
struct sxs_msg {
	struct list_head list;
	unsigned int len;	/* bytes in @data */
	unsigned int off;	/* bytes of @data already sent */
	char data[];
};

struct sxs_watch {
	struct list_head list;
	char *path;		/* as the guest gave it */
	char *abs;		/* absolute */
	char *token;
};

/**
 * struct xenpv_sim_xs - the simulated xenstored
 * @sim: the simulated hypervisor
 * @lock: serialises the server: requests, the tree, the queues, the
 *	counters. Not held while raising the port for the guest.
 * @intf: the ring page
 * @gpfn: where the guest finds it
 * @port: the guest's end of the store event channel
 * @rsp_prod: our producer index of the rsp ring (ours, never read back)
 * @req_cons: our consumer index of the req ring
 * @broken: the guest broke the protocol: requests are ignored
 * @in_hdr: the request being read
 * @in_got: bytes of it read, header and payload
 * @in_body: its payload
 * @root: the tree
 * @out: messages waiting for room in the rsp ring
 * @held: requests held back by xenpv_sim_xs_hold()
 * @watches: registered watches
 * @hold: hold requests instead of answering
 * @mute: drop requests without answering
 * @tx: open transaction ids (0: free slot)
 * @next_tx: the last transaction id given
 * @tx_eagain: commits left to fail with EAGAIN
 * @counts: requests received by type; [XS_TYPE_COUNT] counts all
 */
struct xenpv_sim_xs {
	struct xenpv_sim *sim;
	struct mutex lock;	/* see @lock above */
	struct xenstore_domain_interface *intf;
	unsigned long gpfn;
	u32 port;
	u32 rsp_prod;
	u32 req_cons;
	bool broken;
	struct xsd_sockmsg in_hdr;
	unsigned int in_got;
	char *in_body;
	struct sxs_node *root;
	struct list_head out;
	struct list_head held;
	struct list_head watches;
	bool hold;
	bool mute;
	u32 tx[SXS_MAX_TX];
	u32 next_tx;
	unsigned int tx_eagain;
	unsigned int counts[XS_TYPE_COUNT + 1];
};

/* The one running (one simulation at a time). */
static struct xenpv_sim_xs *sxs_cur;

/*---- The tree ----*/

static struct sxs_node *sxs_node_new(const char *name, size_t namelen)
{
	struct sxs_node *n = kzalloc(sizeof(*n), GFP_KERNEL);

	if (!n)
		return NULL;
	n->name = kmemdup_nul(name, namelen, GFP_KERNEL);
	if (!n->name) {
		kfree(n);
		return NULL;
	}
	INIT_LIST_HEAD(&n->children);
	/* The default: owned by dom0, no access for others. */
	memcpy(n->perms, "n0", 3);
	n->perms_len = 3;
	return n;
}

static void sxs_node_free(struct sxs_node *n)
{
	struct sxs_node *c, *tmp;

	list_for_each_entry_safe(c, tmp, &n->children, sibling) {
		list_del(&c->sibling);
		sxs_node_free(c);
	}
	kfree(n->value);
	kfree(n->name);
	kfree(n);
}

static struct sxs_node *sxs_child(struct sxs_node *n, const char *name,
				  size_t len)
{
	struct sxs_node *c;

	list_for_each_entry(c, &n->children, sibling)
		if (strlen(c->name) == len && !memcmp(c->name, name, len))
			return c;
	return NULL;
}

/*
 * Walk an absolute path; with @create, make missing nodes. @parent gets
 * the last node's parent when asked.
 */
static struct sxs_node *sxs_walk(struct xenpv_sim_xs *xs, const char *path,
				 bool create, struct sxs_node **parent)
{
	struct sxs_node *n = xs->root, *p = NULL;
	const char *s = path + 1;

	while (*s) {
		const char *e = strchrnul(s, '/');
		struct sxs_node *c = sxs_child(n, s, e - s);

		if (!c && create) {
			c = sxs_node_new(s, e - s);
			if (!c)
				return NULL;
			list_add_tail(&c->sibling, &n->children);
		}
		if (!c)
			return NULL;
		p = n;
		n = c;
		s = *e ? e + 1 : e;
	}
	if (parent)
		*parent = p;
	return n;
}

/*
 * A path from the guest, made absolute; NULL if malformed (empty, a
 * trailing or doubled '/', too long).
 */
static char *sxs_abs(const char *path)
{
	char *abs;

	if (!*path || strstr(path, "//") ||
	    (path[strlen(path) - 1] == '/' && strcmp(path, "/")))
		return NULL;
	if (path[0] == '/')
		abs = kstrdup(path, GFP_KERNEL);
	else
		abs = kasprintf(GFP_KERNEL, SXS_HOME "/%s", path);
	if (abs && strlen(abs) > XENSTORE_ABS_PATH_MAX) {
		kfree(abs);
		abs = NULL;
	}
	return abs;
}

/*---- Output ----*/

static int sxs_queue(struct xenpv_sim_xs *xs, const void *data,
		     unsigned int len)
{
	struct sxs_msg *m = kmalloc(struct_size(m, data, len), GFP_KERNEL);

	if (!m)
		return -ENOMEM;
	memcpy(m->data, data, len);
	m->len = len;
	m->off = 0;
	list_add_tail(&m->list, &xs->out);
	return 0;
}

static void sxs_send(struct xenpv_sim_xs *xs, u32 type, u32 req_id,
		     u32 tx_id, const void *body, unsigned int len)
{
	struct xsd_sockmsg hdr = {
		.type = type, .req_id = req_id, .tx_id = tx_id, .len = len,
	};
	char *buf = kmalloc(sizeof(hdr) + len, GFP_KERNEL);

	if (!buf)
		return;
	memcpy(buf, &hdr, sizeof(hdr));
	memcpy(buf + sizeof(hdr), body, len);
	sxs_queue(xs, buf, sizeof(hdr) + len);
	kfree(buf);
}

static void sxs_reply(struct xenpv_sim_xs *xs, const struct xsd_sockmsg *req,
		      const void *body, unsigned int len)
{
	sxs_send(xs, req->type, req->req_id, req->tx_id, body, len);
}

static void sxs_error(struct xenpv_sim_xs *xs, const struct xsd_sockmsg *req,
		      const char *name)
{
	sxs_send(xs, XS_ERROR, req->req_id, req->tx_id, name,
		 strlen(name) + 1);
}

static void sxs_ok(struct xenpv_sim_xs *xs, const struct xsd_sockmsg *req)
{
	sxs_reply(xs, req, "OK", 3);
}

static void sxs_event(struct xenpv_sim_xs *xs, const char *path,
		      const char *token)
{
	size_t pl = strlen(path) + 1, tl = strlen(token) + 1;
	char *buf = kmalloc(pl + tl, GFP_KERNEL);

	if (!buf)
		return;
	memcpy(buf, path, pl);
	memcpy(buf + pl, token, tl);
	sxs_send(xs, XS_WATCH_EVENT, 0, 0, buf, pl + tl);
	kfree(buf);
}

/* Is @a equal to @b or below it? */
static bool sxs_under(const char *a, const char *b)
{
	size_t n = strlen(b);

	if (!strcmp(b, "/"))
		return true;
	return !strncmp(a, b, n) && (a[n] == '\0' || a[n] == '/');
}

/* Fire the watches on @abs, above it, or (for a removal) below it. */
static void sxs_fire(struct xenpv_sim_xs *xs, const char *abs, bool removed)
{
	struct sxs_watch *w;

	list_for_each_entry(w, &xs->watches, list) {
		const char *hit;

		if (sxs_under(abs, w->abs))
			hit = abs;
		else if (removed && sxs_under(w->abs, abs))
			hit = w->abs;
		else
			continue;
		/* A relative watch sees relative paths. */
		if (w->path[0] != '/' && sxs_under(hit, SXS_HOME) &&
		    strlen(hit) > strlen(SXS_HOME))
			hit += strlen(SXS_HOME) + 1;
		sxs_event(xs, hit, w->token);
	}
}

/* Write what fits of the queued messages; true if anything was written. */
static bool sxs_flush(struct xenpv_sim_xs *xs)
{
	struct xenstore_domain_interface *intf = xs->intf;
	struct sxs_msg *m, *tmp;
	bool wrote = false;
	u32 cons, used;

	cons = READ_ONCE(intf->rsp_cons);
	used = xs->rsp_prod - cons;
	if (used > XENSTORE_RING_SIZE)
		return false;	/* the guest broke its index: send nothing */
	/* Read rsp_cons before reusing the room it gave back. */
	virt_mb();
	list_for_each_entry_safe(m, tmp, &xs->out, list) {
		while (m->off < m->len && used < XENSTORE_RING_SIZE) {
			u32 off = MASK_XENSTORE_IDX(xs->rsp_prod);
			u32 n = min3(m->len - m->off, XENSTORE_RING_SIZE - used,
				     XENSTORE_RING_SIZE - off);

			memcpy(intf->rsp + off, m->data + m->off, n);
			m->off += n;
			xs->rsp_prod += n;
			used += n;
			wrote = true;
		}
		if (m->off < m->len)
			break;
		list_del(&m->list);
		kfree(m);
	}
	if (wrote) {
		/* The bytes before the index that announces them. */
		virt_wmb();
		WRITE_ONCE(intf->rsp_prod, xs->rsp_prod);
	}
	return wrote;
}

/*---- Requests ----*/

/* The payload's first string, if it is NUL-terminated. */
static const char *sxs_arg(const char *body, unsigned int len,
			   unsigned int *next)
{
	const char *nul = memchr(body, 0, len);

	if (!nul)
		return NULL;
	*next = nul - body + 1;
	return body;
}

static bool sxs_tx_open(struct xenpv_sim_xs *xs, u32 id)
{
	unsigned int i;

	for (i = 0; i < SXS_MAX_TX; i++)
		if (id && xs->tx[i] == id)
			return true;
	return false;
}

static void sxs_tx_start(struct xenpv_sim_xs *xs,
			 const struct xsd_sockmsg *req)
{
	char id[12];
	unsigned int i;

	for (i = 0; i < SXS_MAX_TX; i++) {
		if (xs->tx[i])
			continue;
		xs->tx[i] = ++xs->next_tx ?: ++xs->next_tx;
		snprintf(id, sizeof(id), "%u", xs->tx[i]);
		sxs_reply(xs, req, id, strlen(id) + 1);
		return;
	}
	sxs_error(xs, req, "ENOSPC");
}

static void sxs_tx_end(struct xenpv_sim_xs *xs, const struct xsd_sockmsg *req,
		       const char *body, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < SXS_MAX_TX; i++)
		if (req->tx_id && xs->tx[i] == req->tx_id)
			break;
	if (i == SXS_MAX_TX) {
		sxs_error(xs, req, "ENOENT");
		return;
	}
	if (len != 2 || (body[0] != 'T' && body[0] != 'F') || body[1]) {
		sxs_error(xs, req, "EINVAL");
		return;
	}
	xs->tx[i] = 0;
	if (body[0] == 'T' && xs->tx_eagain) {
		xs->tx_eagain--;
		sxs_error(xs, req, "EAGAIN");
		return;
	}
	sxs_ok(xs, req);
}

static void sxs_watch(struct xenpv_sim_xs *xs, const struct xsd_sockmsg *req,
		      const char *path, const char *abs, const char *token)
{
	struct sxs_watch *w = kzalloc(sizeof(*w), GFP_KERNEL);

	if (!w) {
		sxs_error(xs, req, "ENOMEM");
		return;
	}
	w->path = kstrdup(path, GFP_KERNEL);
	w->abs = kstrdup(abs, GFP_KERNEL);
	w->token = kstrdup(token, GFP_KERNEL);
	if (!w->path || !w->abs || !w->token) {
		kfree(w->path);
		kfree(w->abs);
		kfree(w->token);
		kfree(w);
		sxs_error(xs, req, "ENOMEM");
		return;
	}
	list_add_tail(&w->list, &xs->watches);
	sxs_ok(xs, req);
	/* xenstored fires a new watch once, at once. */
	sxs_event(xs, path, token);
}

static void sxs_watch_free(struct sxs_watch *w)
{
	list_del(&w->list);
	kfree(w->path);
	kfree(w->abs);
	kfree(w->token);
	kfree(w);
}

static void sxs_unwatch(struct xenpv_sim_xs *xs,
			const struct xsd_sockmsg *req, const char *path,
			const char *token)
{
	struct sxs_watch *w;

	list_for_each_entry(w, &xs->watches, list) {
		if (strcmp(w->path, path) || strcmp(w->token, token))
			continue;
		sxs_watch_free(w);
		sxs_ok(xs, req);
		return;
	}
	sxs_error(xs, req, "ENOENT");
}

static void sxs_directory(struct xenpv_sim_xs *xs,
			  const struct xsd_sockmsg *req, struct sxs_node *n)
{
	struct sxs_node *c;
	unsigned int len = 0;
	char *buf;

	list_for_each_entry(c, &n->children, sibling)
		len += strlen(c->name) + 1;
	if (len > XENSTORE_PAYLOAD_MAX) {
		sxs_error(xs, req, "E2BIG");
		return;
	}
	buf = kmalloc(len + 1, GFP_KERNEL);
	if (!buf) {
		sxs_error(xs, req, "ENOMEM");
		return;
	}
	len = 0;
	list_for_each_entry(c, &n->children, sibling) {
		size_t nl = strlen(c->name) + 1;

		memcpy(buf + len, c->name, nl);
		len += nl;
	}
	sxs_reply(xs, req, buf, len);
	kfree(buf);
}

static void sxs_write(struct xenpv_sim_xs *xs, const struct xsd_sockmsg *req,
		      const char *abs, const char *val, unsigned int len)
{
	struct sxs_node *n = sxs_walk(xs, abs, true, NULL);
	char *v = kmemdup(val, len, GFP_KERNEL);

	if (!n || (len && !v)) {
		kfree(v);
		sxs_error(xs, req, "ENOMEM");
		return;
	}
	kfree(n->value);
	n->value = v;
	n->len = len;
	sxs_fire(xs, abs, false);
	sxs_ok(xs, req);
}

static void sxs_rm(struct xenpv_sim_xs *xs, const struct xsd_sockmsg *req,
		   char *abs)
{
	struct sxs_node *parent, *n = sxs_walk(xs, abs, false, &parent);

	if (!n) {
		/* As xenstored: fine if at least the parent exists. */
		char *slash = strrchr(abs, '/');
		bool parent_exists;

		*slash = '\0';
		parent_exists = slash == abs || sxs_walk(xs, abs, false, NULL);
		*slash = '/';
		if (parent_exists)
			sxs_ok(xs, req);
		else
			sxs_error(xs, req, "ENOENT");
		return;
	}
	if (!parent) {
		sxs_error(xs, req, "EINVAL");	/* the root */
		return;
	}
	list_del(&n->sibling);
	sxs_node_free(n);
	sxs_fire(xs, abs, true);
	sxs_ok(xs, req);
}

static void sxs_set_perms(struct xenpv_sim_xs *xs,
			  const struct xsd_sockmsg *req, struct sxs_node *n,
			  const char *perms, unsigned int len)
{
	if (!len || perms[len - 1] || len > sizeof(n->perms)) {
		sxs_error(xs, req, "EINVAL");
		return;
	}
	memcpy(n->perms, perms, len);
	n->perms_len = len;
	sxs_ok(xs, req);
}

/* Answer one whole request. Called under xs->lock. */
static void sxs_handle(struct xenpv_sim_xs *xs, const struct xsd_sockmsg *req,
		       const char *body)
{
	unsigned int len = req->len, next = 0, next2 = 0;
	const char *path, *arg = NULL;
	struct sxs_node *n;
	char *abs = NULL;

	if (req->tx_id && !sxs_tx_open(xs, req->tx_id)) {
		sxs_error(xs, req, "ENOENT");
		return;
	}
	switch (req->type) {
	case XS_TRANSACTION_START:
		sxs_tx_start(xs, req);
		return;
	case XS_TRANSACTION_END:
		sxs_tx_end(xs, req, body, len);
		return;
	case XS_RESET_WATCHES:
		while (!list_empty(&xs->watches))
			sxs_watch_free(list_first_entry(&xs->watches,
							struct sxs_watch,
							list));
		sxs_ok(xs, req);
		return;
	case XS_READ:
	case XS_WRITE:
	case XS_DIRECTORY:
	case XS_MKDIR:
	case XS_RM:
	case XS_GET_PERMS:
	case XS_SET_PERMS:
	case XS_WATCH:
	case XS_UNWATCH:
		break;
	default:
		sxs_error(xs, req, "ENOSYS");
		return;
	}

	path = sxs_arg(body, len, &next);
	abs = path ? sxs_abs(path) : NULL;
	if (!abs) {
		sxs_error(xs, req, "EINVAL");
		return;
	}
	if (req->type == XS_WATCH || req->type == XS_UNWATCH) {
		arg = sxs_arg(body + next, len - next, &next2);
		if (!arg) {
			sxs_error(xs, req, "EINVAL");
			goto out_free_abs;
		}
	}
	switch (req->type) {
	case XS_WRITE:
		sxs_write(xs, req, abs, body + next, len - next);
		break;
	case XS_MKDIR:
		if (!sxs_walk(xs, abs, true, NULL))
			sxs_error(xs, req, "ENOMEM");
		else
			sxs_ok(xs, req);
		sxs_fire(xs, abs, false);
		break;
	case XS_RM:
		sxs_rm(xs, req, abs);
		break;
	case XS_WATCH:
		sxs_watch(xs, req, path, abs, arg);
		break;
	case XS_UNWATCH:
		sxs_unwatch(xs, req, path, arg);
		break;
	default:
		n = sxs_walk(xs, abs, false, NULL);
		if (!n)
			sxs_error(xs, req, "ENOENT");
		else if (req->type == XS_READ)
			sxs_reply(xs, req, n->value ?: "", n->len);
		else if (req->type == XS_DIRECTORY)
			sxs_directory(xs, req, n);
		else if (req->type == XS_GET_PERMS)
			sxs_reply(xs, req, n->perms, n->perms_len);
		else
			sxs_set_perms(xs, req, n, body + next, len - next);
	}
out_free_abs:
	kfree(abs);
}

/* A whole request arrived. Called under xs->lock. */
static void sxs_request(struct xenpv_sim_xs *xs)
{
	struct sxs_msg *m;

	xs->counts[min_t(u32, xs->in_hdr.type, XS_TYPE_COUNT - 1)]++;
	xs->counts[XS_TYPE_COUNT]++;
	if (xs->mute)
		return;
	if (!xs->hold) {
		sxs_handle(xs, &xs->in_hdr, xs->in_body);
		return;
	}
	m = kmalloc(struct_size(m, data, sizeof(xs->in_hdr) + xs->in_hdr.len),
		    GFP_KERNEL);
	if (!m)
		return;
	m->len = sizeof(xs->in_hdr) + xs->in_hdr.len;
	m->off = 0;
	memcpy(m->data, &xs->in_hdr, sizeof(xs->in_hdr));
	memcpy(m->data + sizeof(xs->in_hdr), xs->in_body, xs->in_hdr.len);
	list_add_tail(&m->list, &xs->held);
}

/* Copy up to @len bytes out of the req ring; -EIO on a bad index. */
static int sxs_ring_read(struct xenpv_sim_xs *xs, void *buf, unsigned int len)
{
	struct xenstore_domain_interface *intf = xs->intf;
	u32 prod = READ_ONCE(intf->req_prod);
	u32 avail = prod - xs->req_cons;
	unsigned int done = 0;

	if (avail > XENSTORE_RING_SIZE)
		return -EIO;
	/* Read req_prod before the bytes it announces. */
	virt_rmb();
	while (done < len && avail) {
		u32 off = MASK_XENSTORE_IDX(xs->req_cons);
		u32 n = min3(len - done, avail, XENSTORE_RING_SIZE - off);

		memcpy(buf + done, intf->req + off, n);
		done += n;
		avail -= n;
		xs->req_cons += n;
	}
	if (done) {
		/* Finish reading before giving the room back. */
		virt_mb();
		WRITE_ONCE(intf->req_cons, xs->req_cons);
	}
	return done;
}

/* Read what the guest wrote; true if anything was consumed. */
static bool sxs_consume(struct xenpv_sim_xs *xs)
{
	unsigned int hl = sizeof(xs->in_hdr);
	bool consumed = false;
	int n;

	while (!xs->broken) {
		if (xs->in_got < hl)
			n = sxs_ring_read(xs, (char *)&xs->in_hdr + xs->in_got,
					  hl - xs->in_got);
		else
			n = sxs_ring_read(xs, xs->in_body + xs->in_got - hl,
					  hl + xs->in_hdr.len - xs->in_got);
		if (n < 0)
			xs->broken = true;
		if (n <= 0)
			break;
		consumed = true;
		xs->in_got += n;
		if (xs->in_got == hl && xs->in_hdr.len > XENSTORE_PAYLOAD_MAX)
			xs->broken = true;	/* xenstored drops the guest */
		if (xs->in_got < hl || xs->in_got < hl + xs->in_hdr.len)
			continue;
		xs->in_body[xs->in_hdr.len] = '\0';
		sxs_request(xs);
		xs->in_got = 0;
	}
	return consumed;
}

/*
 * Flush, then raise the port if anything moved. Takes xs->lock.
 *
 * If the guest's upcall was deferred (the port became pending while the
 * guest had interrupts off, e.g. when it bound the port), a new raise of
 * the still-pending port would not bring another one: deliver it now,
 * as the interrupt controller would have once interrupts were back on.
 */
static void sxs_run(struct xenpv_sim_xs *xs, bool consume)
{
	bool notify;

	mutex_lock(&xs->lock);
	notify = consume && sxs_consume(xs);
	notify |= sxs_flush(xs);
	mutex_unlock(&xs->lock);
	if (notify)
		xenpv_sim_notify_guest(xs->sim, xs->port);
	xenpv_sim_deliver(xs->sim);
}

/* struct xenpv_sim's @remote_send: the guest sent on some port. */
static void sxs_remote_send(struct xenpv_sim *sim, u32 port)
{
	struct xenpv_sim_xs *xs = READ_ONCE(sxs_cur);

	if (xs && port == xs->port)
		sxs_run(xs, true);
}

/*---- The test's side ----*/

/**
 * xenpv_sim_xs_start() - start a simulated xenstored
 * @sim: the running simulation
 *
 * Allocates the ring page and puts it in the physmap, opens the store
 * port (connected to domain 0), sets HVM_PARAM_STORE_PFN and
 * HVM_PARAM_STORE_EVTCHN, and creates "/local/domain/7".
 *
 * Context: process context.
 * Return: the server, or NULL on failure.
 */
struct xenpv_sim_xs *xenpv_sim_xs_start(struct xenpv_sim *sim)
{
	struct xenpv_sim_frame *f = NULL;
	struct xenpv_sim_xs *xs;
	unsigned long flags;
	u32 port;
	int i;

	xs = kzalloc(sizeof(*xs), GFP_KERNEL);
	if (!xs)
		return NULL;
	xs->sim = sim;
	mutex_init(&xs->lock);
	INIT_LIST_HEAD(&xs->out);
	INIT_LIST_HEAD(&xs->held);
	INIT_LIST_HEAD(&xs->watches);
	xs->intf = (void *)get_zeroed_page(GFP_KERNEL);
	xs->in_body = kmalloc(XENSTORE_PAYLOAD_MAX + 1, GFP_KERNEL);
	xs->root = sxs_node_new("", 0);
	if (!xs->intf || !xs->in_body || !xs->root ||
	    !sxs_walk(xs, SXS_HOME, true, NULL))
		goto out_free;
	xs->gpfn = page_to_pfn(virt_to_page(xs->intf));

	spin_lock_irqsave(&sim->lock, flags);
	for (i = 0; i < XENPV_SIM_PHYSMAP && !f; i++)
		if (!sim->physmap[i].page)
			f = &sim->physmap[i];
	for (port = 1; port < XENPV_SIM_PORTS; port++)
		if (sim->ports[port].state == XENPV_SIM_FREE)
			break;
	if (!f || port == XENPV_SIM_PORTS) {
		spin_unlock_irqrestore(&sim->lock, flags);
		goto out_free;
	}
	f->gpfn = xs->gpfn;
	f->space = XENMAPSPACE_gmfn;
	f->idx = 0;
	f->page = xs->intf;
	memset(&sim->ports[port], 0, sizeof(sim->ports[port]));
	sim->ports[port].state = XENPV_SIM_INTERDOMAIN;
	sim->ports[port].remote_dom = 0;
	sim->ports[port].remote_port = 1;	/* xenstored's end: a token */
	sim->ports[port].priority = EVTCHN_FIFO_PRIORITY_DEFAULT;
	sim->params[HVM_PARAM_STORE_PFN] = xs->gpfn;
	sim->params[HVM_PARAM_STORE_EVTCHN] = port;
	xs->port = port;
	sim->remote_send = sxs_remote_send;
	spin_unlock_irqrestore(&sim->lock, flags);
	WRITE_ONCE(sxs_cur, xs);
	return xs;

out_free:
	if (xs->root)
		sxs_node_free(xs->root);
	kfree(xs->in_body);
	free_page((unsigned long)xs->intf);
	kfree(xs);
	return NULL;
}

static void sxs_free_msgs(struct list_head *list)
{
	struct sxs_msg *m, *tmp;

	list_for_each_entry_safe(m, tmp, list, list) {
		list_del(&m->list);
		kfree(m);
	}
}

/**
 * xenpv_sim_xs_stop() - stop and free the simulated xenstored
 * @xs: from xenpv_sim_xs_start(), or NULL
 *
 * Call after the guest disconnected (xenpv_xs_exit()) and before
 * xenpv_sim_stop().
 *
 * Context: process context.
 */
void xenpv_sim_xs_stop(struct xenpv_sim_xs *xs)
{
	struct xenpv_sim *sim;
	unsigned long flags;
	int i;

	if (!xs)
		return;
	sim = xs->sim;
	spin_lock_irqsave(&sim->lock, flags);
	sim->remote_send = NULL;
	for (i = 0; i < XENPV_SIM_PHYSMAP; i++)
		if (sim->physmap[i].page == xs->intf)
			memset(&sim->physmap[i], 0, sizeof(sim->physmap[i]));
	memset(&sim->ports[xs->port], 0, sizeof(sim->ports[xs->port]));
	sim->params[HVM_PARAM_STORE_PFN] = 0;
	sim->params[HVM_PARAM_STORE_EVTCHN] = 0;
	spin_unlock_irqrestore(&sim->lock, flags);
	WRITE_ONCE(sxs_cur, NULL);

	while (!list_empty(&xs->watches))
		sxs_watch_free(list_first_entry(&xs->watches, struct sxs_watch,
						list));
	sxs_free_msgs(&xs->out);
	sxs_free_msgs(&xs->held);
	sxs_node_free(xs->root);
	kfree(xs->in_body);
	free_page((unsigned long)xs->intf);
	kfree(xs);
}

/**
 * xenpv_sim_xs_set() - write a node from the other side, as a backend or
 *	the toolstack would (fires watches)
 * @xs: the server
 * @path: absolute path
 * @value: the value
 *
 * Context: process context.
 * Return: 0, -EINVAL for a bad path, -ENOMEM.
 */
int xenpv_sim_xs_set(struct xenpv_sim_xs *xs, const char *path,
		     const char *value)
{
	struct sxs_node *n;
	char *v;
	char *abs;
	int rc;

	abs = path[0] == '/' ? sxs_abs(path) : NULL;
	if (!abs)
		return -EINVAL;
	kfree(abs);		/* the path is good */
	mutex_lock(&xs->lock);
	rc = -ENOMEM;
	n = sxs_walk(xs, path, true, NULL);
	v = kstrdup(value, GFP_KERNEL);
	if (n && v) {
		kfree(n->value);
		n->value = v;
		n->len = strlen(v);
		sxs_fire(xs, path, false);
		rc = 0;
	} else {
		kfree(v);
	}
	mutex_unlock(&xs->lock);
	sxs_run(xs, false);
	return rc;
}

/**
 * xenpv_sim_xs_get() - read a node from the other side
 * @xs: the server
 * @path: absolute path
 *
 * Context: process context.
 * Return: a kmalloc'd copy of the value, or NULL if there is no such node.
 */
char *xenpv_sim_xs_get(struct xenpv_sim_xs *xs, const char *path)
{
	struct sxs_node *n;
	char *v = NULL;

	mutex_lock(&xs->lock);
	n = sxs_walk(xs, path, false, NULL);
	if (n)
		v = kmemdup_nul(n->value ?: "", n->len, GFP_KERNEL);
	mutex_unlock(&xs->lock);
	return v;
}

/**
 * xenpv_sim_xs_hold() - read requests but keep them unanswered
 * @xs: the server
 *
 * Context: process context.
 */
void xenpv_sim_xs_hold(struct xenpv_sim_xs *xs)
{
	mutex_lock(&xs->lock);
	xs->hold = true;
	mutex_unlock(&xs->lock);
}

/**
 * xenpv_sim_xs_release() - answer the held requests, the last one first
 * @xs: the server
 *
 * Stops holding. Answering in reverse order shows that the guest matches
 * replies to requests by req_id.
 *
 * Context: process context.
 */
void xenpv_sim_xs_release(struct xenpv_sim_xs *xs)
{
	struct sxs_msg *m;

	mutex_lock(&xs->lock);
	xs->hold = false;
	while (!list_empty(&xs->held)) {
		m = list_last_entry(&xs->held, struct sxs_msg, list);
		list_del(&m->list);
		sxs_handle(xs, (struct xsd_sockmsg *)m->data,
			   m->data + sizeof(struct xsd_sockmsg));
		kfree(m);
	}
	mutex_unlock(&xs->lock);
	sxs_run(xs, true);
}

static unsigned int sxs_count_list(struct list_head *head)
{
	struct list_head *pos;
	unsigned int n = 0;

	list_for_each(pos, head)
		n++;
	return n;
}

/**
 * xenpv_sim_xs_nr_held() - how many requests are held
 * @xs: the server
 *
 * Context: process context.
 * Return: the number.
 */
unsigned int xenpv_sim_xs_nr_held(struct xenpv_sim_xs *xs)
{
	unsigned int n;

	mutex_lock(&xs->lock);
	n = sxs_count_list(&xs->held);
	mutex_unlock(&xs->lock);
	return n;
}

/**
 * xenpv_sim_xs_held_id() - the req_id of a held request
 * @xs: the server
 * @i: its position, 0 for the first held
 *
 * Context: process context.
 * Return: its req_id, or 0 if there are fewer held.
 */
u32 xenpv_sim_xs_held_id(struct xenpv_sim_xs *xs, unsigned int i)
{
	struct sxs_msg *m;
	u32 id = 0;

	mutex_lock(&xs->lock);
	list_for_each_entry(m, &xs->held, list) {
		if (i--)
			continue;
		id = ((struct xsd_sockmsg *)m->data)->req_id;
		break;
	}
	mutex_unlock(&xs->lock);
	return id;
}

/**
 * xenpv_sim_xs_mute() - read requests and never answer (a hung xenstored)
 * @xs: the server
 * @mute: on or off
 *
 * Context: process context.
 */
void xenpv_sim_xs_mute(struct xenpv_sim_xs *xs, bool mute)
{
	mutex_lock(&xs->lock);
	xs->mute = mute;
	mutex_unlock(&xs->lock);
}

/**
 * xenpv_sim_xs_tx_eagain() - make the next commits conflict
 * @xs: the server
 * @n: how many TRANSACTION_END "T" get EAGAIN
 *
 * Context: process context.
 */
void xenpv_sim_xs_tx_eagain(struct xenpv_sim_xs *xs, unsigned int n)
{
	mutex_lock(&xs->lock);
	xs->tx_eagain = n;
	mutex_unlock(&xs->lock);
}

/**
 * xenpv_sim_xs_count() - requests received
 * @xs: the server
 * @type: an XS_* type, or XS_TYPE_COUNT for all
 *
 * Context: process context.
 * Return: the count (unknown types count as XS_TYPE_COUNT - 1).
 */
unsigned int xenpv_sim_xs_count(struct xenpv_sim_xs *xs, u32 type)
{
	unsigned int n;

	mutex_lock(&xs->lock);
	n = xs->counts[min_t(u32, type, XS_TYPE_COUNT)];
	mutex_unlock(&xs->lock);
	return n;
}

/**
 * xenpv_sim_xs_nr_watches() - watches registered
 * @xs: the server
 *
 * Context: process context.
 * Return: the number.
 */
unsigned int xenpv_sim_xs_nr_watches(struct xenpv_sim_xs *xs)
{
	unsigned int n;

	mutex_lock(&xs->lock);
	n = sxs_count_list(&xs->watches);
	mutex_unlock(&xs->lock);
	return n;
}

/**
 * xenpv_sim_xs_inject() - send raw bytes on the reply ring
 * @xs: the server
 * @bytes: anything, e.g. a header with a bad length, type or req_id
 * @len: how many
 *
 * Queued after what is already queued, then sent as room allows.
 *
 * Context: process context.
 * Return: 0 or -ENOMEM.
 */
int xenpv_sim_xs_inject(struct xenpv_sim_xs *xs, const void *bytes,
			unsigned int len)
{
	int rc;

	mutex_lock(&xs->lock);
	rc = sxs_queue(xs, bytes, len);
	mutex_unlock(&xs->lock);
	sxs_run(xs, false);
	return rc;
}

/**
 * xenpv_sim_xs_ring() - the ring page
 * @xs: the server
 *
 * Context: any.
 * Return: the page.
 */
struct xenstore_domain_interface *xenpv_sim_xs_ring(struct xenpv_sim_xs *xs)
{
	return xs->intf;
}

/**
 * xenpv_sim_xs_kick() - raise the store port for the guest
 * @xs: the server
 *
 * Context: process context.
 */
void xenpv_sim_xs_kick(struct xenpv_sim_xs *xs)
{
	xenpv_sim_notify_guest(xs->sim, xs->port);
}
