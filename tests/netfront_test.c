// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: xenpv-netfront's ring logic (netfront/ring.c). Negotiation, a
 * packet turned into tx slots (pages, GSO extra info, the slot maximum),
 * tx responses, and chains of rx responses turned into packets: several
 * slots, extra info, and what a hostile backend could send (lengths past a
 * page, wrong ids, endless chains, unknown extra info).
 */

#include <kunit/test.h>
#include <linux/string.h>
#include <xen/interface/io/netif.h>

#include "../netfront/netfront.h"

#define NT_MASK	255

static void net_negotiate(struct kunit *test)
{
	struct xenpv_net_offer be = { .rx_copy = 1, .sg = 1, .gso_tcpv4 = 1,
				      .gso_tcpv6 = 1, .ipv6_csum = 1,
				      .split_evtchn = 1, .max_queues = 4 };
	struct xenpv_net_feat f;

	KUNIT_ASSERT_EQ(test, xenpv_net_negotiate(&be, 8, 2, &f), 0);
	KUNIT_EXPECT_EQ(test, f.nr_queues, 2U);
	KUNIT_EXPECT_TRUE(test, f.sg && f.tso4 && f.tso6 && f.ipv6_csum &&
			  f.split);
	/* TSO needs scatter-gather. */
	be.sg = 0;
	KUNIT_ASSERT_EQ(test, xenpv_net_negotiate(&be, 1, 2, &f), 0);
	KUNIT_EXPECT_FALSE(test, f.tso4 || f.tso6);
	KUNIT_EXPECT_EQ(test, f.nr_queues, 1U);
	/* A backend that cannot copy is refused. */
	be.rx_copy = 0;
	KUNIT_EXPECT_EQ(test, xenpv_net_negotiate(&be, 1, 2, &f), -EOPNOTSUPP);
}

static void net_tx_slots(struct kunit *test)
{
	struct xenpv_net_txpkt p = {};

	p.len = 1;
	KUNIT_EXPECT_EQ(test, xenpv_net_tx_slots(&p), 1);
	p.len = PAGE_SIZE;
	KUNIT_EXPECT_EQ(test, xenpv_net_tx_slots(&p), 1);
	p.len = PAGE_SIZE + 1;
	KUNIT_EXPECT_EQ(test, xenpv_net_tx_slots(&p), 2);
	p.len = XEN_NETIF_MAX_TX_SIZE;
	KUNIT_EXPECT_EQ(test, xenpv_net_tx_slots(&p), 16);
	p.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
	KUNIT_EXPECT_EQ(test, xenpv_net_tx_slots(&p), 17);
	KUNIT_EXPECT_LE(test, 17, XENPV_NET_MAX_SLOTS);
	p.len = XEN_NETIF_MAX_TX_SIZE + 1;
	KUNIT_EXPECT_EQ(test, xenpv_net_tx_slots(&p), -EINVAL);
	p.len = 0;
	KUNIT_EXPECT_EQ(test, xenpv_net_tx_slots(&p), -EINVAL);
}

static void net_fill_tx_gso(struct kunit *test)
{
	struct xenpv_net_txpkt p = { .len = 9000, .csum_partial = true,
				     .gso_type = XEN_NETIF_GSO_TYPE_TCPV4,
				     .gso_size = 1448 };
	union xenpv_net_tx_slot s[XENPV_NET_TX_ENTRIES];
	struct xenpv_net_txreq r[3] = {
		{ .ref = 1000, .id = 40, .offset = 0, .size = PAGE_SIZE },
		{ .ref = 1001, .id = 7, .offset = 0, .size = PAGE_SIZE },
		{ .ref = 1002, .id = 200, .offset = 0,
		  .size = 9000 - 2 * PAGE_SIZE },
	};

	KUNIT_ASSERT_EQ(test, xenpv_net_fill_tx(&p, r, 3, s), 4);
	/* The first request: the whole length and the packet's flags. */
	KUNIT_EXPECT_EQ(test, s[0].req.size, 9000);
	KUNIT_EXPECT_EQ(test, s[0].req.id, 40);
	KUNIT_EXPECT_EQ(test, s[0].req.gref, 1000U);
	KUNIT_EXPECT_EQ(test, s[0].req.flags,
			XEN_NETTXF_more_data | XEN_NETTXF_csum_blank |
			XEN_NETTXF_data_validated | XEN_NETTXF_extra_info);
	/* Then the GSO extra info. */
	KUNIT_EXPECT_EQ(test, s[1].extra.type, XEN_NETIF_EXTRA_TYPE_GSO);
	KUNIT_EXPECT_EQ(test, s[1].extra.flags, 0);
	KUNIT_EXPECT_EQ(test, s[1].extra.u.gso.size, 1448);
	KUNIT_EXPECT_EQ(test, s[1].extra.u.gso.type, XEN_NETIF_GSO_TYPE_TCPV4);
	/* The other pages, with their own lengths. */
	KUNIT_EXPECT_EQ(test, s[2].req.size, PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, s[2].req.flags, XEN_NETTXF_more_data);
	KUNIT_EXPECT_EQ(test, s[2].req.id, 7);
	KUNIT_EXPECT_EQ(test, s[3].req.size, 9000 - 2 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, s[3].req.flags, 0);
	KUNIT_EXPECT_EQ(test, s[3].req.gref, 1002U);
	/* GSO without a segment size is not encodable. */
	p.gso_size = 0;
	KUNIT_EXPECT_EQ(test, xenpv_net_fill_tx(&p, r, 3, s), -EINVAL);
}

/*
 * A packet sent in place: a head that crosses a page boundary and frags
 * at any offset (one of a compound page, beyond its first page) become
 * pieces that each stay within a page; they encode with their offsets, and
 * pieces that do not add up to the packet, or leave their page, or are
 * more than 18 (the GSO extra info not counted), are refused.
 */
static void net_tx_in_place(struct kunit *test)
{
	struct xenpv_net_txpiece pc[XENPV_NET_MAX_SLOTS];
	struct xenpv_net_txreq r[XENPV_NET_MAX_SLOTS + 1];
	union xenpv_net_tx_slot s[XENPV_NET_TX_ENTRIES + 1];
	struct xenpv_net_txpkt p = { .len = 54 + 200 + 8192 };
	unsigned int i, n = 0;
	int k;

	/* A 54-byte head, 30 bytes before its page's end: two pieces. */
	k = xenpv_net_tx_split(PAGE_SIZE - 30, 54, pc, XENPV_NET_MAX_SLOTS);
	KUNIT_ASSERT_EQ(test, k, 2);
	KUNIT_EXPECT_EQ(test, pc[0].page, 0U);
	KUNIT_EXPECT_EQ(test, pc[0].offset, PAGE_SIZE - 30);
	KUNIT_EXPECT_EQ(test, pc[0].size, 30);
	KUNIT_EXPECT_EQ(test, pc[1].page, 1U);
	KUNIT_EXPECT_EQ(test, pc[1].offset, 0);
	KUNIT_EXPECT_EQ(test, pc[1].size, 24);
	for (i = 0; i < 2; i++, n++)
		r[n] = (struct xenpv_net_txreq){ .ref = 10 + n, .id = n,
			.offset = pc[i].offset, .size = pc[i].size };
	/* A 200-byte frag inside one page. */
	KUNIT_ASSERT_EQ(test, xenpv_net_tx_split(100, 200, pc, 4), 1);
	r[n++] = (struct xenpv_net_txreq){ .ref = 12, .id = 2, .offset = 100,
					   .size = 200 };
	/* 8 KiB of a compound page from 5000 on: three pages, counted from
	 * the one the frag starts in.
	 */
	KUNIT_ASSERT_EQ(test, xenpv_net_tx_split(5000, 8192, pc, 4), 3);
	KUNIT_EXPECT_EQ(test, pc[0].page, 0U);
	KUNIT_EXPECT_EQ(test, pc[0].offset, 5000 - PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, pc[2].page, 2U);
	KUNIT_EXPECT_EQ(test, pc[0].size + pc[1].size + pc[2].size, 8192);
	KUNIT_EXPECT_EQ(test, pc[1].size, PAGE_SIZE);
	for (i = 0; i < 3; i++, n++)
		r[n] = (struct xenpv_net_txreq){ .ref = 10 + n, .id = n,
			.offset = pc[i].offset, .size = pc[i].size };
	KUNIT_ASSERT_EQ(test, xenpv_net_fill_tx(&p, r, n, s), 6);
	KUNIT_EXPECT_EQ(test, s[0].req.size, p.len);
	KUNIT_EXPECT_EQ(test, s[0].req.offset, PAGE_SIZE - 30);
	KUNIT_EXPECT_EQ(test, s[2].req.offset, 100);
	KUNIT_EXPECT_EQ(test, s[2].req.size, 200);
	KUNIT_EXPECT_EQ(test, s[2].req.gref, 12U);
	KUNIT_EXPECT_EQ(test, s[5].req.flags, 0);
	KUNIT_EXPECT_EQ(test, s[4].req.flags, XEN_NETTXF_more_data);
	/* An empty buffer has no pieces; too many pieces are refused. */
	KUNIT_EXPECT_EQ(test, xenpv_net_tx_split(7, 0, pc, 4), 0);
	KUNIT_EXPECT_EQ(test, xenpv_net_tx_split(1, 4 * PAGE_SIZE, pc, 4),
			-E2BIG);
	/* Pieces that miss a byte, or leave their page. */
	p.len++;
	KUNIT_EXPECT_EQ(test, xenpv_net_fill_tx(&p, r, n, s), -EINVAL);
	p.len--;
	r[2].offset = PAGE_SIZE - 100;
	KUNIT_EXPECT_EQ(test, xenpv_net_fill_tx(&p, r, n, s), -EINVAL);
	r[2].offset = 100;
	/*
	 * The slot maximum: 18 data requests fit, and a GSO packet's extra
	 * info does not count against it (netback counts data slots only);
	 * 19 do not fit.
	 */
	for (i = 0; i <= XENPV_NET_MAX_SLOTS; i++)
		r[i] = (struct xenpv_net_txreq){ .ref = i, .id = i, .size = 100 };
	p.len = 100 * XENPV_NET_MAX_SLOTS;
	KUNIT_EXPECT_EQ(test, xenpv_net_fill_tx(&p, r, XENPV_NET_MAX_SLOTS, s),
			XENPV_NET_MAX_SLOTS);
	p.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
	p.gso_size = 1448;
	KUNIT_EXPECT_EQ(test, xenpv_net_fill_tx(&p, r, XENPV_NET_MAX_SLOTS, s),
			XENPV_NET_TX_ENTRIES);
	KUNIT_EXPECT_EQ(test, s[1].extra.type, XEN_NETIF_EXTRA_TYPE_GSO);
	KUNIT_EXPECT_EQ(test, s[XENPV_NET_MAX_SLOTS].req.id,
			XENPV_NET_MAX_SLOTS - 1);
	p.len += 100;
	KUNIT_EXPECT_EQ(test, xenpv_net_fill_tx(&p, r, XENPV_NET_MAX_SLOTS + 1,
						s), -EINVAL);
}

static void net_tx_responses(struct kunit *test)
{
	u8 inflight[4] = { 0, 1, 0, 1 };
	struct xen_netif_tx_response r = { .id = 1,
					   .status = XEN_NETIF_RSP_OKAY };

	KUNIT_EXPECT_EQ(test, xenpv_net_check_tx_rsp(&r, inflight, 4), 0);
	r.status = XEN_NETIF_RSP_DROPPED;
	KUNIT_EXPECT_EQ(test, xenpv_net_check_tx_rsp(&r, inflight, 4), 0);
	r.status = XEN_NETIF_RSP_NULL;	/* an extra info slot: skipped */
	KUNIT_EXPECT_EQ(test, xenpv_net_check_tx_rsp(&r, inflight, 4), 1);
	r.status = 7;
	KUNIT_EXPECT_EQ(test, xenpv_net_check_tx_rsp(&r, inflight, 4), -EPROTO);
	r.status = XEN_NETIF_RSP_OKAY;
	r.id = 2;			/* nothing in flight there */
	KUNIT_EXPECT_EQ(test, xenpv_net_check_tx_rsp(&r, inflight, 4), -EPROTO);
	r.id = 4;			/* past the ids */
	KUNIT_EXPECT_EQ(test, xenpv_net_check_tx_rsp(&r, inflight, 4), -EPROTO);
	r.id = 0xffff;
	KUNIT_EXPECT_EQ(test, xenpv_net_check_tx_rsp(&r, inflight, 4), -EPROTO);
}

/* A data response at ring position @pos. */
static void nt_rsp(struct xen_netif_rx_response *r, unsigned int pos,
		   u16 off, s16 len, u16 flags)
{
	r->id = pos & NT_MASK;
	r->offset = off;
	r->status = len;
	r->flags = flags;
}

static void net_rx_chains(struct kunit *test)
{
	struct xen_netif_rx_response r[24];
	struct xen_netif_extra_info *x = (void *)&r[1];
	struct xenpv_net_rxpkt p;

	/* One slot. */
	nt_rsp(&r[0], 300, 0, 1514, XEN_NETRXF_data_validated);
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_parse(r, 1, 300, NT_MASK, &p), 0);
	KUNIT_EXPECT_EQ(test, p.len, 1514U);
	KUNIT_EXPECT_EQ(test, p.nr_slots, 1U);

	/* Three slots, the ring wrapping under them, with GSO extra info. */
	nt_rsp(&r[0], 254, 0, 4096, XEN_NETRXF_more_data |
	       XEN_NETRXF_extra_info | XEN_NETRXF_csum_blank);
	memset(x, 0, sizeof(*x));
	x->type = XEN_NETIF_EXTRA_TYPE_GSO;
	x->u.gso.type = XEN_NETIF_GSO_TYPE_TCPV4;
	x->u.gso.size = 1448;
	nt_rsp(&r[2], 256, 0, 4096, XEN_NETRXF_more_data);
	nt_rsp(&r[3], 257, 0, 808, 0);
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_parse(r, 4, 254, NT_MASK, &p), 0);
	KUNIT_EXPECT_EQ(test, p.len, 9000U);
	KUNIT_EXPECT_EQ(test, p.nr_slots, 4U);
	KUNIT_EXPECT_EQ(test, p.nr_data, 3U);
	KUNIT_EXPECT_EQ(test, p.gso_size, 1448);
	KUNIT_EXPECT_EQ(test, p.gso_type, XEN_NETIF_GSO_TYPE_TCPV4);

	/* The chain goes on past what arrived: wait. */
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_parse(r, 3, 254, NT_MASK, &p),
			-EAGAIN);

	/* An error status: the packet is dropped, its slots consumed. */
	nt_rsp(&r[0], 10, 0, XEN_NETIF_RSP_ERROR, XEN_NETRXF_more_data);
	nt_rsp(&r[1], 11, 0, 100, 0);
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_parse(r, 2, 10, NT_MASK, &p), -EIO);
	KUNIT_EXPECT_EQ(test, p.nr_slots, 2U);
}

static void net_rx_hostile(struct kunit *test)
{
	struct xen_netif_rx_response r[24];
	struct xen_netif_extra_info *x = (void *)&r[1];
	struct xenpv_net_rxpkt p;
	unsigned int i;

	/* Data past the end of its page. */
	nt_rsp(&r[0], 0, 100, 4000, 0);
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_parse(r, 1, 0, NT_MASK, &p), -EPROTO);
	/* A buffer we did not post at this position. */
	nt_rsp(&r[0], 5, 0, 60, 0);
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_parse(r, 1, 6, NT_MASK, &p), -EPROTO);
	/* An endless chain: more than a packet may have. */
	for (i = 0; i < 24; i++)
		nt_rsp(&r[i], i, 0, 1000, XEN_NETRXF_more_data);
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_parse(r, 24, 0, NT_MASK, &p),
			-EPROTO);
	/* Extra info of an unknown type, or a GSO type we never asked for. */
	nt_rsp(&r[0], 0, 0, 60, XEN_NETRXF_extra_info);
	memset(x, 0, sizeof(*x));
	x->type = 42;
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_parse(r, 2, 0, NT_MASK, &p), -EPROTO);
	x->type = XEN_NETIF_EXTRA_TYPE_GSO;
	x->u.gso.type = 9;
	x->u.gso.size = 1000;
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_parse(r, 2, 0, NT_MASK, &p), -EPROTO);
	/* Extra info that claims to go on forever. */
	for (i = 1; i < 24; i++) {
		x = (void *)&r[i];
		memset(x, 0, sizeof(*x));
		x->type = XEN_NETIF_EXTRA_TYPE_HASH;
		x->flags = XEN_NETIF_EXTRA_FLAG_MORE;
	}
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_parse(r, 24, 0, NT_MASK, &p),
			-EPROTO);
	/* 17 full pages: more than 64 KiB. */
	for (i = 0; i < 17; i++)
		nt_rsp(&r[i], i, 0, 4096, i < 16 ? XEN_NETRXF_more_data : 0);
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_parse(r, 17, 0, NT_MASK, &p),
			-EPROTO);
}

/*
 * A packet's data spread over slots of uneven length (one empty), copied
 * out in pieces that straddle slot ends, as the skb builder does: a head,
 * then page-sized parts. Every byte lands once, in order; a copy past the
 * end stops at the end.
 */
static void net_rx_copy(struct kunit *test)
{
	static const unsigned int lens[] = { 100, 4096, 0, 3000, 1 };
	static const unsigned int parts[] = { 256, 4096, 2845 };
	struct xenpv_net_rx_cursor c = {};
	unsigned int i, j, total = 0, at = 0;
	u8 *src, *dst;

	src = kunit_kmalloc(test, 5 * 4096, GFP_KERNEL);
	dst = kunit_kzalloc(test, 5 * 4096 + 16, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, src);
	KUNIT_ASSERT_NOT_NULL(test, dst);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		/* Each slot's data at a different offset of its page. */
		c.data[i] = src + i * 4096 + (lens[i] < 4096 ? 7 * i : 0);
		c.len[i] = lens[i];
		for (j = 0; j < lens[i]; j++)
			((u8 *)c.data[i])[j] = (u8)(total + j) ^ 0x5a;
		total += lens[i];
	}
	c.nr = ARRAY_SIZE(lens);
	KUNIT_ASSERT_EQ(test, total, 7197U);
	for (i = 0; i < ARRAY_SIZE(parts); i++) {
		KUNIT_EXPECT_EQ(test, xenpv_net_rx_copy(&c, dst + at, parts[i]),
				parts[i]);
		at += parts[i];
	}
	KUNIT_EXPECT_EQ(test, at, total);
	for (i = 0; i < total; i++)
		if (dst[i] != ((u8)i ^ 0x5a))
			break;
	KUNIT_EXPECT_EQ(test, i, total);
	/* The packet is used up: nothing more to copy. */
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_copy(&c, dst, 16), 0U);
	/* From the start again, asking for more than there is. */
	c.slot = 0;
	c.off = 0;
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_copy(&c, dst, total + 16), total);
}

/*
 * After the head is copied, the rest of a packet goes up slot by slot:
 * the current slot from the cursor on, then each later slot whole, the
 * empty ones skipped. The pieces add up to the packet.
 */
static void net_rx_pieces(struct kunit *test)
{
	static const unsigned int lens[] = { 100, 4096, 0, 3000, 1, 0 };
	static const unsigned int want[][3] = {	/* slot, off, len */
		{ 1, 156, 3940 }, { 3, 0, 3000 }, { 4, 0, 1 },
	};
	struct xenpv_net_rx_cursor c = {};
	unsigned int i, slot = ~0U, off = ~0U, n, total = 256;
	u8 *src, head[256];

	src = kunit_kzalloc(test, 4096, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, src);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		c.data[i] = src;
		c.len[i] = lens[i];
	}
	c.nr = ARRAY_SIZE(lens);
	KUNIT_ASSERT_EQ(test, xenpv_net_rx_copy(&c, head, sizeof(head)), 256U);
	for (i = 0; i < ARRAY_SIZE(want); i++) {
		n = xenpv_net_rx_next_piece(&c, &slot, &off);
		KUNIT_EXPECT_EQ(test, slot, want[i][0]);
		KUNIT_EXPECT_EQ(test, off, want[i][1]);
		KUNIT_EXPECT_EQ(test, n, want[i][2]);
		total += n;
	}
	KUNIT_EXPECT_EQ(test, total, 7197U);
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_next_piece(&c, &slot, &off), 0U);
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_next_piece(&c, &slot, &off), 0U);
	/* A head that ends exactly at a slot's end: the next slot is whole. */
	c.slot = 0;
	c.off = 0;
	KUNIT_ASSERT_EQ(test, xenpv_net_rx_copy(&c, head, 100), 100U);
	KUNIT_EXPECT_EQ(test, xenpv_net_rx_next_piece(&c, &slot, &off), 4096U);
	KUNIT_EXPECT_EQ(test, slot, 1U);
	KUNIT_EXPECT_EQ(test, off, 0U);
}

static struct kunit_case net_cases[] = {
	KUNIT_CASE(net_negotiate),
	KUNIT_CASE(net_tx_slots),
	KUNIT_CASE(net_fill_tx_gso),
	KUNIT_CASE(net_tx_in_place),
	KUNIT_CASE(net_tx_responses),
	KUNIT_CASE(net_rx_chains),
	KUNIT_CASE(net_rx_hostile),
	KUNIT_CASE(net_rx_copy),
	KUNIT_CASE(net_rx_pieces),
	{}
};

static struct kunit_suite net_suite = {
	.name = "xenpv_netfront_ring",
	.test_cases = net_cases,
};

kunit_test_suites(&net_suite);
