/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv-netfront: internals shared by the driver (main.c) and the ring
 * logic (ring.c, no networking-stack code, run by KUnit under UML).
 *
 * Data path. Every tx and rx ring slot owns one page granted to the
 * backend (read-only for tx, writable for rx). A packet to send is copied
 * into consecutive free tx slot pages, packed from their start, so the skb
 * is freed at once and its memory is never shown to the backend. With
 * tx_in_place and a trusted backend it is sent in place instead: each
 * piece of its head and frags that stays within one page gets a request
 * and a ref from the queue's pool, granted read-only, and the skb is held
 * until every request is answered (each grant ended, or left to the
 * deferred revoke if the backend still maps the page); a packet of too
 * many pieces, or one that finds the pool short, is copied. A
 * received packet up to 2 KiB is copied out of its rx slot pages into a
 * fresh linear skb and the slots are posted again. A longer one gets its
 * first 256 bytes copied into the skb's head and the rest handed up in the
 * slot pages themselves, as page frags: each such slot's grant is ended
 * first, and a page from the queue's page pool is granted in its place.
 * The pool's new pages are zero; a recycled one held an earlier packet
 * (what the backend wrote, and what the stack may have written over it),
 * which only a trusted backend gets to see: for the others it is zeroed.
 */
#ifndef _XENPV_NETFRONT_H
#define _XENPV_NETFRONT_H

#include <linux/types.h>
#include <xen/interface/grant_table.h>
#include <xen/interface/io/netif.h>

#define XENPV_NET_MAX_QUEUES	8
/* Slots one packet may use: netback's limit (XEN_NETIF_NR_SLOTS_MIN). */
#define XENPV_NET_MAX_SLOTS	XEN_NETIF_NR_SLOTS_MIN
/*
 * Tx ring entries one packet may take: the data slots and the GSO extra
 * info (netback counts only the data slots against its limit).
 */
#define XENPV_NET_TX_ENTRIES	(XENPV_NET_MAX_SLOTS + 1)
/* Extra-info slots we accept after a received packet's first slot. */
#define XENPV_NET_MAX_EXTRAS	(XEN_NETIF_EXTRA_TYPE_MAX - 1)

/* What the backend offers (read through the table in main.c). */
struct xenpv_net_offer {
	unsigned int rx_copy;		/* feature-rx-copy */
	unsigned int sg;		/* feature-sg */
	unsigned int gso_tcpv4;		/* feature-gso-tcpv4 */
	unsigned int gso_tcpv6;		/* feature-gso-tcpv6 */
	unsigned int ipv6_csum;		/* feature-ipv6-csum-offload */
	unsigned int split_evtchn;	/* feature-split-event-channels */
	unsigned int max_queues;	/* multi-queue-max-queues */
};

/* What both sides agreed (0/1 flags, and counts). */
struct xenpv_net_feat {
	unsigned int nr_queues;
	bool sg, tso4, tso6, ipv6_csum, split;
};

int xenpv_net_negotiate(const struct xenpv_net_offer *be,
			unsigned int max_queues, unsigned int nr_cpus,
			struct xenpv_net_feat *out);

/* A packet to send, as the ring sees it. */
struct xenpv_net_txpkt {
	unsigned int len;	/* bytes, packed from the first page */
	bool csum_partial;	/* checksum to be filled in (csum_blank) */
	u8 gso_type;		/* XEN_NETIF_GSO_TYPE_*, NONE for none */
	u16 gso_size;
};

/* One tx ring entry: a request, or the extra info that follows one. */
union xenpv_net_tx_slot {
	struct xen_netif_tx_request req;
	struct xen_netif_extra_info extra;
};

/* One tx request's data: a piece of one granted page. */
struct xenpv_net_txreq {
	grant_ref_t ref;
	u16 id;
	u16 offset;
	u16 size;
};

/* A piece of a buffer within one page (counted from the buffer's first). */
struct xenpv_net_txpiece {
	unsigned int page;
	u16 offset;
	u16 size;
};

int xenpv_net_tx_slots(const struct xenpv_net_txpkt *pkt);
int xenpv_net_tx_split(unsigned int off, unsigned int len,
		       struct xenpv_net_txpiece *p, unsigned int max);
int xenpv_net_fill_tx(const struct xenpv_net_txpkt *pkt,
		      const struct xenpv_net_txreq *reqs, unsigned int nr,
		      union xenpv_net_tx_slot *slots);
int xenpv_net_check_tx_rsp(const struct xen_netif_tx_response *rsp,
			   const u8 *inflight, unsigned int nr_ids);

/* A received packet, checked, as xenpv_net_rx_parse() found it. */
struct xenpv_net_rxpkt {
	unsigned int len;
	unsigned int nr_data;		/* data slots */
	unsigned int nr_slots;		/* all slots, extras included */
	u16 flags;			/* of the first slot */
	u8 gso_type;
	u16 gso_size;
};

/*
 * Rx buffers are named by ring position: the request at position i has id
 * i & mask, and the backend answers position i at position i.
 */
int xenpv_net_rx_parse(const struct xen_netif_rx_response *rsp,
		       unsigned int avail, unsigned int first,
		       unsigned int mask, struct xenpv_net_rxpkt *pkt);

/* Where the next byte of a received packet sits in its rx slot pages. */
struct xenpv_net_rx_cursor {
	const u8 *data[XENPV_NET_MAX_SLOTS];	/* each data slot's bytes */
	unsigned int len[XENPV_NET_MAX_SLOTS];
	unsigned int nr;			/* data slots */
	unsigned int slot, off;			/* the next byte */
};

unsigned int xenpv_net_rx_copy(struct xenpv_net_rx_cursor *c, void *dst,
			       unsigned int n);
unsigned int xenpv_net_rx_next_piece(struct xenpv_net_rx_cursor *c,
				     unsigned int *slot, unsigned int *off);

#endif /* _XENPV_NETFRONT_H */
