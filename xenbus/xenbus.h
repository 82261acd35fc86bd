/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv xenstore client: internals shared by the files of xenbus/ and the
 * KUnit suites.
 */
#ifndef _XENPV_XENBUS_XENBUS_H
#define _XENPV_XENBUS_XENBUS_H

#include <linux/types.h>
#include <xen/interface/io/xs_wire.h>

/**
 * struct xenpv_xs_ring - our view of the xenstore ring page
 * @intf: the shared page; xenstored may change any of it at any time
 * @req_prod: our producer index of the request ring. The copy in @intf is
 *	only ever written by us, never read back: the other end could have
 *	changed it.
 * @rsp_cons: our consumer index of the reply ring; likewise
 *
 * Used by one writer (requests) and one reader (replies) at a time: the
 * caller serialises each direction.
 */
struct xenpv_xs_ring {
	struct xenstore_domain_interface *intf;
	u32 req_prod;
	u32 rsp_cons;
};

/* xenbus/xs_ring.c */
int xenpv_xs_ring_attach(struct xenpv_xs_ring *r,
			 struct xenstore_domain_interface *intf);
int xenpv_xs_ring_write(struct xenpv_xs_ring *r, const void *data,
			unsigned int len);
int xenpv_xs_ring_read(struct xenpv_xs_ring *r, void *data,
		       unsigned int len);
bool xenpv_xs_ring_writable(struct xenpv_xs_ring *r);
bool xenpv_xs_ring_readable(struct xenpv_xs_ring *r);

/**
 * struct xenpv_xs_stats - what the client rejected or dropped
 * @bad_replies: replies of the wrong type or with a malformed payload
 * @unknown_ids: replies whose req_id matched no outstanding request
 * @bad_events: malformed watch events, or events for no known watch
 * @dropped_events: watch events dropped over a watch's bound (XSA-349)
 * @timeouts: requests that got no reply in time
 * @protocol_errors: times the connection was declared broken (0 or 1)
 */
struct xenpv_xs_stats {
	unsigned long bad_replies;
	unsigned long unknown_ids;
	unsigned long bad_events;
	unsigned long dropped_events;
	unsigned long timeouts;
	unsigned long protocol_errors;
};

/* xenbus/xs.c */
extern unsigned int xenpv_xs_timeout_ms;
void xenpv_xs_get_stats(struct xenpv_xs_stats *stats);
bool xenpv_xs_is_dead(void);
int xenpv_xs_errno(const char *name);
int xenpv_xs_raw(u32 type, u32 tx_id, const void *body, unsigned int len,
		 u32 *reply_type, void **reply, unsigned int *reply_len);

#endif /* _XENPV_XENBUS_XENBUS_H */
