// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv-netfront: the netif rings without the network stack. Negotiation,
 * how a packet becomes tx slots (with its GSO extra info), and the checks
 * a chain of rx responses passes before it becomes a packet. Pure
 * functions: no locks, no allocation, any context.
 */

#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <asm/page.h>

#include "netfront.h"

/**
 * xenpv_net_negotiate() - what the frontend uses of the backend's offer
 * @be: the backend's keys
 * @max_queues: our parameter
 * @nr_cpus: online CPUs
 * @out: the result
 *
 * rx-copy is required (the only receive mode xenpv implements). Scatter-
 * gather, TSO and IPv6 checksum offload follow the backend; TSO needs
 * scatter-gather (a 64 KiB packet spans slots). Queues: the fewest of the
 * backend's, ours and the CPUs, at least one.
 *
 * Context: any.
 * Return: 0, or -EOPNOTSUPP for a backend without rx-copy.
 */
int xenpv_net_negotiate(const struct xenpv_net_offer *be,
			unsigned int max_queues, unsigned int nr_cpus,
			struct xenpv_net_feat *out)
{
	memset(out, 0, sizeof(*out));
	if (!be->rx_copy)
		return -EOPNOTSUPP;
	out->nr_queues = min3(max(be->max_queues, 1U), max(max_queues, 1U),
			      max(nr_cpus, 1U));
	out->nr_queues = min_t(unsigned int, out->nr_queues,
			       XENPV_NET_MAX_QUEUES);
	out->sg = be->sg;
	out->tso4 = out->sg && be->gso_tcpv4;
	out->tso6 = out->sg && be->gso_tcpv6;
	out->ipv6_csum = be->ipv6_csum;
	out->split = be->split_evtchn;
	return 0;
}

/**
 * xenpv_net_tx_slots() - ring slots a packet takes when it is copied
 * @pkt: the packet
 *
 * One per page of data (packed from the first page's start), plus one for
 * GSO extra info.
 *
 * Context: any.
 * Return: the count, or -EINVAL for a packet the ring cannot carry
 * (empty, longer than XEN_NETIF_MAX_TX_SIZE, or more slots than
 * XENPV_NET_MAX_SLOTS).
 */
int xenpv_net_tx_slots(const struct xenpv_net_txpkt *pkt)
{
	int n;

	if (!pkt->len || pkt->len > XEN_NETIF_MAX_TX_SIZE)
		return -EINVAL;
	n = DIV_ROUND_UP(pkt->len, PAGE_SIZE) +
	    (pkt->gso_type != XEN_NETIF_GSO_TYPE_NONE);
	return n <= XENPV_NET_MAX_SLOTS ? n : -EINVAL;
}

/**
 * xenpv_net_tx_split() - cut a buffer into pieces that each stay in a page
 * @off: where the buffer starts, from the start of its first page (beyond
 *	PAGE_SIZE for a frag of a compound page)
 * @len: its bytes
 * @p: the pieces, in order: page (counted from the one @off is in),
 *	offset in it, size
 * @max: room in @p
 *
 * Context: any.
 * Return: the pieces (0 for an empty buffer), or -E2BIG when there are
 * more than @max.
 */
int xenpv_net_tx_split(unsigned int off, unsigned int len,
		       struct xenpv_net_txpiece *p, unsigned int max)
{
	unsigned int first = off / PAGE_SIZE, n = 0, k;

	while (len) {
		if (n >= max)
			return -E2BIG;
		k = min_t(unsigned int, len, PAGE_SIZE - off % PAGE_SIZE);
		p[n].page = off / PAGE_SIZE - first;
		p[n].offset = off % PAGE_SIZE;
		p[n].size = k;
		n++;
		off += k;
		len -= k;
	}
	return n;
}

/**
 * xenpv_net_fill_tx() - encode a packet as tx ring entries
 * @pkt: the packet
 * @reqs: its data, in order: one piece of one granted page per request
 * @nr: how many
 * @slots: room for @nr entries, one more for GSO; filled in ring order
 *
 * At most XENPV_NET_MAX_SLOTS data requests, netback's limit; the GSO
 * extra info does not count against it.
 *
 * The first request carries the whole length and the packet's flags; each
 * other data request its own length. A GSO packet's extra info follows
 * the first request. The pieces must add up to the packet and each stay
 * within its page.
 *
 * Context: any.
 * Return: the entries written, or -EINVAL.
 */
int xenpv_net_fill_tx(const struct xenpv_net_txpkt *pkt,
		      const struct xenpv_net_txreq *reqs, unsigned int nr,
		      union xenpv_net_tx_slot *slots)
{
	bool gso = pkt->gso_type != XEN_NETIF_GSO_TYPE_NONE;
	struct xen_netif_tx_request *req;
	unsigned int i, s = 0, total = 0;

	if (!nr || nr > XENPV_NET_MAX_SLOTS || (gso && !pkt->gso_size) ||
	    !pkt->len || pkt->len > XEN_NETIF_MAX_TX_SIZE)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		if (!reqs[i].size || reqs[i].offset + reqs[i].size > PAGE_SIZE)
			return -EINVAL;
		total += reqs[i].size;
	}
	if (total != pkt->len)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		req = &slots[s++].req;
		req->gref = reqs[i].ref;
		req->offset = reqs[i].offset;
		req->id = reqs[i].id;
		req->size = i ? reqs[i].size : pkt->len;
		req->flags = i + 1 < nr ? XEN_NETTXF_more_data : 0;
		if (i)
			continue;
		if (pkt->csum_partial)
			req->flags |= XEN_NETTXF_csum_blank |
				      XEN_NETTXF_data_validated;
		if (!gso)
			continue;
		req->flags |= XEN_NETTXF_extra_info;
		memset(&slots[s].extra, 0, sizeof(slots[s].extra));
		slots[s].extra.type = XEN_NETIF_EXTRA_TYPE_GSO;
		slots[s].extra.u.gso.size = pkt->gso_size;
		slots[s].extra.u.gso.type = pkt->gso_type;
		s++;
	}
	return s;
}

/**
 * xenpv_net_check_tx_rsp() - believe a tx response only if it fits
 * @rsp: the response, copied out of the ring
 * @inflight: per id, nonzero while a request with that id is out
 * @nr_ids: the ids
 *
 * Context: any.
 * Return: 1 for a response to skip (XEN_NETIF_RSP_NULL, an extra info
 * slot), 0 for one that completes its id, -EPROTO for one that fits
 * nothing we sent.
 */
int xenpv_net_check_tx_rsp(const struct xen_netif_tx_response *rsp,
			   const u8 *inflight, unsigned int nr_ids)
{
	if (rsp->status == XEN_NETIF_RSP_NULL)
		return 1;
	if (rsp->id >= nr_ids || !inflight[rsp->id])
		return -EPROTO;
	switch (rsp->status) {
	case XEN_NETIF_RSP_OKAY:
	case XEN_NETIF_RSP_ERROR:
	case XEN_NETIF_RSP_DROPPED:
		return 0;
	}
	return -EPROTO;
}

/* The extra-info slots after a packet's first slot. */
static int xenpv_net_rx_extras(const struct xen_netif_rx_response *rsp,
			       unsigned int avail, unsigned int *s,
			       struct xenpv_net_rxpkt *pkt)
{
	struct xen_netif_extra_info extra;
	unsigned int n = 0;

	do {
		if (*s >= avail)
			return -EAGAIN;
		if (++n > XENPV_NET_MAX_EXTRAS)
			return -EPROTO;
		memcpy(&extra, &rsp[(*s)++], sizeof(extra));
		if (!extra.type || extra.type >= XEN_NETIF_EXTRA_TYPE_MAX)
			return -EPROTO;
		if (extra.type == XEN_NETIF_EXTRA_TYPE_GSO) {
			if (extra.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV4 &&
			    extra.u.gso.type != XEN_NETIF_GSO_TYPE_TCPV6)
				return -EPROTO;
			if (!extra.u.gso.size)
				return -EPROTO;
			pkt->gso_type = extra.u.gso.type;
			pkt->gso_size = extra.u.gso.size;
		}
	} while (extra.flags & XEN_NETIF_EXTRA_FLAG_MORE);
	return 0;
}

/**
 * xenpv_net_rx_parse() - check the chain of rx responses of one packet
 * @rsp: the responses available, copied out of the ring, from the packet's
 *	first
 * @avail: how many
 * @first: the ring position of @rsp[0]
 * @mask: ring size - 1
 * @pkt: what the chain describes, on success
 *
 * A data slot must answer the request of its position, have a status that
 * is a length or an error, and keep offset + length within its page; a
 * packet has at most XENPV_NET_MAX_SLOTS data slots and 64 KiB; extra info
 * must be of a known type. A data slot with a negative status makes the
 * whole packet an error (-EIO, its slots still consumed).
 *
 * Context: any.
 * Return: 0; -EIO for a packet the backend reported as failed;
 * -EAGAIN when the chain continues past @avail (wait for more); -EPROTO
 * for a chain no correct backend produces.
 */
int xenpv_net_rx_parse(const struct xen_netif_rx_response *rsp,
		       unsigned int avail, unsigned int first,
		       unsigned int mask, struct xenpv_net_rxpkt *pkt)
{
	unsigned int s = 0, len = 0;
	bool failed = false, more;
	int rc;

	memset(pkt, 0, sizeof(*pkt));
	do {
		if (s >= avail)
			return -EAGAIN;
		if (rsp[s].id != ((first + s) & mask))
			return -EPROTO;
		if (++pkt->nr_data > XENPV_NET_MAX_SLOTS)
			return -EPROTO;
		if (rsp[s].status < 0) {
			failed = true;
		} else {
			if (rsp[s].offset + rsp[s].status > PAGE_SIZE)
				return -EPROTO;
			len += rsp[s].status;
		}
		more = rsp[s].flags & XEN_NETRXF_more_data;
		if (!s)
			pkt->flags = rsp[s].flags;
		s++;
		if (s == 1 && (pkt->flags & XEN_NETRXF_extra_info)) {
			rc = xenpv_net_rx_extras(rsp, avail, &s, pkt);
			if (rc)
				return rc;
		}
	} while (more);
	if (len > XEN_NETIF_MAX_TX_SIZE + 14)	/* 64 KiB and a header */
		return -EPROTO;
	pkt->len = len;
	pkt->nr_slots = s;
	return failed || !len ? -EIO : 0;
}

/**
 * xenpv_net_rx_copy() - copy a received packet's next bytes out
 * @c: the cursor over the packet's data slots (data, len, nr set; slot and
 *	off 0 at the start); moved past what was copied
 * @dst: where to copy to
 * @n: how many bytes
 *
 * Copies across slot boundaries, skipping empty slots, and stops at the
 * end of the last slot.
 *
 * Context: any.
 * Return: the bytes copied: @n, or fewer when the packet ended first.
 */
unsigned int xenpv_net_rx_copy(struct xenpv_net_rx_cursor *c, void *dst,
			       unsigned int n)
{
	unsigned int done = 0, k;

	while (done < n && c->slot < c->nr) {
		k = min(n - done, c->len[c->slot] - c->off);
		memcpy((u8 *)dst + done, c->data[c->slot] + c->off, k);
		done += k;
		c->off += k;
		if (c->off == c->len[c->slot]) {
			c->slot++;
			c->off = 0;
		}
	}
	return done;
}

/**
 * xenpv_net_rx_next_piece() - the rest of a received packet's current slot
 * @c: the cursor, as xenpv_net_rx_copy() left it; moved to the next slot
 * @slot: set to the data slot the piece is in
 * @off: set to where in that slot's data the piece starts
 *
 * The pieces are what the skb builder hands up as page frags once the head
 * is copied: the current slot from the cursor on, then every later slot
 * whole. Empty slots are skipped.
 *
 * Context: any.
 * Return: the piece's length; 0 when the packet is used up.
 */
unsigned int xenpv_net_rx_next_piece(struct xenpv_net_rx_cursor *c,
				     unsigned int *slot, unsigned int *off)
{
	unsigned int n;

	while (c->slot < c->nr && c->off >= c->len[c->slot]) {
		c->slot++;
		c->off = 0;
	}
	if (c->slot >= c->nr)
		return 0;
	*slot = c->slot;
	*off = c->off;
	n = c->len[c->slot] - c->off;
	c->slot++;
	c->off = 0;
	return n;
}
