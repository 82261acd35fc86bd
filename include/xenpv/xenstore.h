/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv: the xenstore client.
 *
 * xenstore is a tree of small values, kept by xenstored in another domain
 * and reached over a shared ring page and an event channel. Paths are
 * absolute ("/local/domain/7/device") or relative to the guest's home
 * ("device" means /local/domain/<domid>/device). Most calls take a
 * directory and a node below it, joined as "dir/node"; an empty or NULL
 * node names the directory itself.
 *
 * Every call sleeps (it waits for xenstored's reply), so: process
 * context, no spinlocks held. Calls may be made from several threads at
 * once, and from watch callbacks. A call that gets no reply within
 * xenpv.xs_timeout_ms returns -ETIMEDOUT; once the connection is found
 * broken (the other end broke the protocol) every call returns -EIO.
 *
 * Errors: xenstored's answers map to the usual negative errno values
 * (-ENOENT, -EACCES, -EAGAIN, ...); -E2BIG when a request or reply would
 * exceed XENSTORE_PAYLOAD_MAX (4096 bytes); -ENAMETOOLONG for a path
 * longer than XENSTORE_ABS_PATH_MAX; -ENODEV before xenpv_xs_init() or
 * after xenpv_xs_exit().
 */
#ifndef _XENPV_XENSTORE_H
#define _XENPV_XENSTORE_H

#include <linux/compiler.h>
#include <linux/list.h>
#include <linux/types.h>

/**
 * struct xenpv_xs_transaction - a xenstore transaction
 * @id: xenstored's transaction id; 0 (XENPV_XBT_NIL) means none
 *
 * Passed by value. Changes made in a transaction become visible to others
 * only when it ends successfully; xenpv_xs_transaction_end() returns
 * -EAGAIN when another change conflicted, and the whole transaction must
 * then be run again (xenpv_xs_transact() does that).
 */
struct xenpv_xs_transaction {
	u32 id;
};

#define XENPV_XBT_NIL	((struct xenpv_xs_transaction){ .id = 0 })

/* Queued events a watch may have by default before more are dropped. */
#define XENPV_XS_WATCH_MAX_PENDING	64

/* Times xenpv_xs_transact() runs a transaction that keeps ending in -EAGAIN. */
#define XENPV_XS_TRANSACT_TRIES		5

/* Length of the token xenpv gives a watch, with its NUL. */
#define XENPV_XS_TOKEN_LEN		24

/**
 * struct xenpv_xs_watch - a watch on a xenstore path and its subtree
 * @path: the path watched; must stay valid until xenpv_xs_unwatch()
 * @callback: called in the "xenpv-xenwatch" kthread, once for each event
 *	with the path that changed (@path or a node below it) and the
 *	watch's token. Callbacks run one at a time; they may sleep and call
 *	any xenpv_xs_* function, xenpv_xs_unwatch() of their own watch too.
 *	A new watch gets one event at once, as xenstored sends it.
 * @max_pending: events that may wait for @callback before further ones are
 *	dropped (XSA-349: a remote domain can write a watched path in a
 *	loop); 0 means XENPV_XS_WATCH_MAX_PENDING
 * @dropped: events dropped because @max_pending were waiting (read-only
 *	for the owner; updated under the client's watch lock)
 * @list: private: on the client's watch list
 * @nr_pending: private: events queued for @callback
 * @token: private: the token sent to xenstored, unique per watch
 *
 * The caller owns the memory; zero it (or set @path, @callback and
 * @max_pending only) before xenpv_xs_watch().
 */
struct xenpv_xs_watch {
	const char *path;
	void (*callback)(struct xenpv_xs_watch *watch, const char *path,
			 const char *token);
	unsigned int max_pending;
	unsigned long dropped;
	/* private: */
	struct list_head list;
	unsigned int nr_pending;
	char token[XENPV_XS_TOKEN_LEN];
};

/* For xenpv.ko's platform code: connect after the events layer is up. */
int xenpv_xs_init(void);
void xenpv_xs_exit(void);

/* Values. */
void *xenpv_xs_read(struct xenpv_xs_transaction t, const char *dir,
		    const char *node, unsigned int *len);
int xenpv_xs_write(struct xenpv_xs_transaction t, const char *dir,
		   const char *node, const char *string);
char **xenpv_xs_directory(struct xenpv_xs_transaction t, const char *dir,
			  const char *node, unsigned int *num);
int xenpv_xs_mkdir(struct xenpv_xs_transaction t, const char *dir,
		   const char *node);
int xenpv_xs_rm(struct xenpv_xs_transaction t, const char *dir,
		const char *node);
bool xenpv_xs_exists(struct xenpv_xs_transaction t, const char *dir,
		     const char *node);

/* Permissions, in xenstore's string form: "n0", "r5", "w7", "b3". */
char **xenpv_xs_get_perms(struct xenpv_xs_transaction t, const char *dir,
			  const char *node, unsigned int *num);
int xenpv_xs_set_perms(struct xenpv_xs_transaction t, const char *dir,
		       const char *node, const char *const *perms,
		       unsigned int num);

/* Formatted values. */
__scanf(4, 5)
int xenpv_xs_scanf(struct xenpv_xs_transaction t, const char *dir,
		   const char *node, const char *fmt, ...);
__printf(4, 5)
int xenpv_xs_printf(struct xenpv_xs_transaction t, const char *dir,
		    const char *node, const char *fmt, ...);
int xenpv_xs_gather(struct xenpv_xs_transaction t, const char *dir, ...)
	__attribute__((__sentinel__));

/* Watches. */
int xenpv_xs_watch(struct xenpv_xs_watch *watch);
int xenpv_xs_unwatch(struct xenpv_xs_watch *watch);

/* Transactions. */
int xenpv_xs_transaction_start(struct xenpv_xs_transaction *t);
int xenpv_xs_transaction_end(struct xenpv_xs_transaction t, bool abort);
int xenpv_xs_transact(int (*body)(struct xenpv_xs_transaction t, void *arg),
		      void *arg);

#endif /* _XENPV_XENSTORE_H */
