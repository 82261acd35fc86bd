// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: xenpv-blkfront's ring logic (blkfront/ring.c). The negotiation
 * table; requests encoded on a real shared ring, with their data in pages
 * granted through the real grant layer, executed by a small simulated
 * blkback that maps every grant through the simulated hypervisor (direct
 * and indirect segments, sector arithmetic); and the responses a hostile
 * backend could forge.
 */

#include <kunit/test.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <xen/interface/xen.h>
#include <xen/interface/grant_table.h>
#include <xen/interface/io/blkif.h>
#include <xenpv/grant.h>

#include "../blkfront/blkfront.h"
#include "sim/sim.h"

#define BT_GPFN_BASE	0x90000UL
#define BT_BACKEND	0
#define BT_DISK_SECTORS	1024		/* 512 KiB */
#define BT_PAGES	40

struct bt_ctx {
	struct xenpv_sim *sim;
	struct blkif_front_ring front;
	void *ring_va;
	grant_ref_t ring_ref;
	struct page *pages[BT_PAGES];
	grant_ref_t refs[BT_PAGES];
	u8 *disk;
	unsigned int mapped;	/* grants the backend mapped */
};

static int bt_init(struct kunit *test)
{
	struct bt_ctx *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	unsigned int i;

	if (!c)
		return -ENOMEM;
	c->sim = xenpv_sim_start(test);
	if (!c->sim)
		return -ENOMEM;
	test->priv = c;
	c->sim->gnt_max_frames = 4;
	if (xenpv_grant_init(BT_GPFN_BASE, 4))
		return -EIO;
	if (xenpv_grant_ring_alloc(BT_BACKEND, 1, GFP_KERNEL, &c->ring_va,
				   &c->ring_ref))
		return -ENOMEM;
	SHARED_RING_INIT((struct blkif_sring *)c->ring_va);
	FRONT_RING_INIT(&c->front, (struct blkif_sring *)c->ring_va, PAGE_SIZE);
	for (i = 0; i < BT_PAGES; i++) {
		c->pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!c->pages[i] ||
		    xenpv_grant_page(BT_BACKEND, xenpv_page_to_gfn(c->pages[i]),
				     false, &c->refs[i]))
			return -ENOMEM;
	}
	c->disk = kunit_kzalloc(test, BT_DISK_SECTORS * 512, GFP_KERNEL);
	return c->disk ? 0 : -ENOMEM;
}

static void bt_exit(struct kunit *test)
{
	struct bt_ctx *c = test->priv;
	unsigned int i;

	if (!c || !c->sim)
		return;
	for (i = 0; i < BT_PAGES; i++)
		if (c->pages[i])
			xenpv_grant_revoke(c->refs[i], c->pages[i]);
	if (c->ring_va)
		xenpv_grant_ring_free(c->ring_va, 1, &c->ring_ref);
	xenpv_grant_exit();
	xenpv_sim_grant_free(c->sim);
	xenpv_sim_stop(c->sim);
}

/* The simulated backend maps a guest grant; the page's address. */
static void *bt_map(struct kunit *test, grant_ref_t ref, int *handle)
{
	struct bt_ctx *c = test->priv;
	struct page *page;

	*handle = xenpv_sim_grant_map(c->sim, BT_BACKEND, ref, true, &page);
	KUNIT_ASSERT_GE(test, *handle, 0);
	c->mapped++;
	return page_address(page);
}

/* Move the bytes of one segment between the disk and its granted page. */
static int bt_segment(struct kunit *test, const struct blkif_request_segment *seg,
		      u64 *sector, bool write)
{
	struct bt_ctx *c = test->priv;
	unsigned int len = (seg->last_sect - seg->first_sect + 1) * 512;
	int handle;
	u8 *page;

	if (seg->first_sect > seg->last_sect || seg->last_sect >= 8 ||
	    (*sector + len / 512) > BT_DISK_SECTORS)
		return BLKIF_RSP_ERROR;
	page = bt_map(test, seg->gref, &handle) + seg->first_sect * 512;
	if (write)
		memcpy(c->disk + *sector * 512, page, len);
	else
		memcpy(page, c->disk + *sector * 512, len);
	xenpv_sim_grant_unmap(c->sim, handle);
	*sector += len / 512;
	return BLKIF_RSP_OKAY;
}

/* Execute one request as blkback would; returns the status. */
static int bt_execute(struct kunit *test, const struct blkif_request *req)
{
	const struct blkif_request_indirect *ind = &req->u.indirect;
	const struct blkif_request_rw *rw = &req->u.rw;
	struct blkif_request_segment *segs;
	unsigned int i, n;
	int handle, st = BLKIF_RSP_OKAY;
	u64 sector;
	u8 op;

	if (req->operation == BLKIF_OP_INDIRECT) {
		op = ind->indirect_op;
		n = ind->nr_segments;
		sector = ind->sector_number;
		if (n > XENPV_BLK_SEGS_PER_IND_PAGE)
			return BLKIF_RSP_ERROR;
		segs = bt_map(test, ind->indirect_grefs[0], &handle);
		for (i = 0; i < n && st == BLKIF_RSP_OKAY; i++)
			st = bt_segment(test, &segs[i], &sector,
					op == BLKIF_OP_WRITE);
		xenpv_sim_grant_unmap(((struct bt_ctx *)test->priv)->sim,
				      handle);
		return st;
	}
	if (req->operation != BLKIF_OP_READ && req->operation != BLKIF_OP_WRITE)
		return BLKIF_RSP_EOPNOTSUPP;
	if (rw->nr_segments > BLKIF_MAX_SEGMENTS_PER_REQUEST)
		return BLKIF_RSP_ERROR;
	sector = rw->sector_number;
	for (i = 0; i < rw->nr_segments && st == BLKIF_RSP_OKAY; i++)
		st = bt_segment(test, &rw->seg[i], &sector,
				req->operation == BLKIF_OP_WRITE);
	return st;
}

/* Put @req on the ring; the backend takes it and answers. */
static struct blkif_response bt_round_trip(struct kunit *test,
					   const struct blkif_request *req)
{
	struct bt_ctx *c = test->priv;
	struct blkif_sring *sring = c->front.sring;
	struct blkif_response rsp = {};
	struct blkif_request breq;
	int notify;

	memcpy(RING_GET_REQUEST(&c->front, c->front.req_prod_pvt), req,
	       sizeof(*req));
	c->front.req_prod_pvt++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&c->front, notify);

	/* The backend: its copy of the request, from the shared page. */
	memcpy(&breq, &sring->ring[(sring->req_prod - 1) &
				   (RING_SIZE(&c->front) - 1)].req,
	       sizeof(breq));
	rsp.id = breq.u.rw.id;
	/* As blkback: an indirect request is answered with its operation. */
	rsp.operation = breq.operation == BLKIF_OP_INDIRECT ?
			breq.u.indirect.indirect_op : breq.operation;
	rsp.status = bt_execute(test, &breq);
	memcpy(&sring->ring[c->front.rsp_cons & (RING_SIZE(&c->front) - 1)].rsp,
	       &rsp, sizeof(rsp));
	sring->rsp_prod++;

	/* The frontend: copy the response out once. */
	memcpy(&rsp, RING_GET_RESPONSE(&c->front, c->front.rsp_cons),
	       sizeof(rsp));
	c->front.rsp_cons++;
	return rsp;
}

static void bt_fill(struct kunit *test, unsigned int first, unsigned int n,
		    u8 seed)
{
	struct bt_ctx *c = test->priv;
	unsigned int i, j;
	u8 *p;

	for (i = 0; i < n; i++) {
		p = page_address(c->pages[first + i]);
		for (j = 0; j < PAGE_SIZE; j++)
			p[j] = seed + i * 7 + j * 13;
	}
}

static const struct xenpv_blk_params bt_params = {
	.max_queues = 4, .max_ring_order = 2, .max_indirect = 32,
	.persistent = true, .trusted = true, .nr_cpus = 2,
};

/* Write @bytes from pages [0..) at @sector, read them into pages [20..). */
static void bt_write_read(struct kunit *test, unsigned int bytes, u64 sector,
			  const struct xenpv_blk_feat *feat, u8 want_op)
{
	struct bt_ctx *c = test->priv;
	struct blkif_request_segment *ind[1];
	struct blkif_response rsp;
	struct blkif_request req;
	unsigned int nseg = DIV_ROUND_UP(bytes, PAGE_SIZE), i;
	u8 slot_op[2];

	KUNIT_ASSERT_LE(test, nseg, 19U);
	bt_fill(test, 0, nseg, sector);
	ind[0] = page_address(c->pages[19]);
	KUNIT_ASSERT_EQ(test, xenpv_blk_fill_rw(&req, BLKIF_OP_WRITE, 1, 0x33,
						sector, bytes, c->refs, feat,
						ind, &c->refs[19]), 0);
	KUNIT_EXPECT_EQ(test, req.operation, want_op);
	slot_op[0] = XENPV_BLK_SLOT_FREE;
	slot_op[1] = xenpv_blk_rsp_op(&req);
	rsp = bt_round_trip(test, &req);
	KUNIT_EXPECT_EQ(test, xenpv_blk_check_rsp(&rsp, slot_op, 2), 1);
	KUNIT_EXPECT_EQ(test, rsp.status, BLKIF_RSP_OKAY);

	ind[0] = page_address(c->pages[39]);
	KUNIT_ASSERT_EQ(test, xenpv_blk_fill_rw(&req, BLKIF_OP_READ, 1, 0x33,
						sector, bytes, &c->refs[20],
						feat, ind, &c->refs[39]), 0);
	slot_op[1] = xenpv_blk_rsp_op(&req);
	rsp = bt_round_trip(test, &req);
	KUNIT_EXPECT_EQ(test, xenpv_blk_check_rsp(&rsp, slot_op, 2), 1);
	KUNIT_EXPECT_EQ(test, rsp.status, BLKIF_RSP_OKAY);
	for (i = 0; i < nseg; i++)
		KUNIT_EXPECT_EQ(test, memcmp(page_address(c->pages[i]),
					     page_address(c->pages[20 + i]),
					     min_t(unsigned int, PAGE_SIZE,
						   bytes - i * PAGE_SIZE)), 0);
	/* Where the data landed: at the sector asked for, nowhere else. */
	KUNIT_EXPECT_EQ(test, memcmp(c->disk + sector * 512,
				     page_address(c->pages[0]),
				     min_t(unsigned int, bytes, PAGE_SIZE)), 0);
	if (sector)
		KUNIT_EXPECT_EQ(test, c->disk[sector * 512 - 1], 0);
}

static void blk_negotiate_defaults(struct kunit *test)
{
	struct xenpv_blk_offer be = { .max_queues = 1 };
	struct xenpv_blk_feat f;

	xenpv_blk_negotiate(&be, &bt_params, &f);
	KUNIT_EXPECT_EQ(test, f.nr_queues, 1U);
	KUNIT_EXPECT_EQ(test, f.ring_order, 0U);
	KUNIT_EXPECT_EQ(test, f.max_segs, BLKIF_MAX_SEGMENTS_PER_REQUEST);
	KUNIT_EXPECT_EQ(test, f.ind_pages, 0U);
	/* Offered: the backend answers only at Connected. */
	KUNIT_EXPECT_TRUE(test, f.persistent);
}

static void blk_negotiate_table(struct kunit *test)
{
	struct xenpv_blk_offer be = { .max_queues = 16, .max_ring_order = 4,
				      .max_indirect = 256 };
	struct xenpv_blk_params p = bt_params;
	struct xenpv_blk_feat f;

	/* The fewest of each side's. */
	xenpv_blk_negotiate(&be, &p, &f);
	KUNIT_EXPECT_EQ(test, f.nr_queues, 2U);		/* CPUs */
	KUNIT_EXPECT_EQ(test, f.ring_order, 2U);	/* our parameter */
	KUNIT_EXPECT_EQ(test, f.max_segs, 32U);
	KUNIT_EXPECT_EQ(test, f.ind_pages, 1U);
	KUNIT_EXPECT_TRUE(test, f.persistent);

	/* Our hard limits, whatever is asked. */
	p.max_queues = 100;
	p.nr_cpus = 100;
	p.max_ring_order = 9;
	p.max_indirect = 100000;
	be.max_indirect = 100000;
	xenpv_blk_negotiate(&be, &p, &f);
	KUNIT_EXPECT_EQ(test, f.nr_queues, (unsigned int)XENPV_BLK_MAX_QUEUES);
	KUNIT_EXPECT_EQ(test, f.ring_order,
			(unsigned int)XENPV_BLK_MAX_RING_ORDER);
	KUNIT_EXPECT_EQ(test, f.max_segs, (unsigned int)XENPV_BLK_MAX_INDIRECT);

	/* Indirect that adds nothing is not used. */
	be.max_indirect = 8;
	xenpv_blk_negotiate(&be, &p, &f);
	KUNIT_EXPECT_EQ(test, f.max_segs, BLKIF_MAX_SEGMENTS_PER_REQUEST);
	KUNIT_EXPECT_EQ(test, f.ind_pages, 0U);

	/* An untrusted backend gets no persistent grants. */
	p.trusted = false;
	xenpv_blk_negotiate(&be, &p, &f);
	KUNIT_EXPECT_FALSE(test, f.persistent);
	/* A backend offering zero queues still gets one. */
	be.max_queues = 0;
	xenpv_blk_negotiate(&be, &p, &f);
	KUNIT_EXPECT_EQ(test, f.nr_queues, 1U);
}

static void blk_encode_direct(struct kunit *test)
{
	struct xenpv_blk_feat f = { .max_segs = 11 };
	grant_ref_t refs[11] = { 10, 11, 12 };
	struct blkif_request req;

	/* 2 pages and one sector: the last segment has one sector. */
	KUNIT_ASSERT_EQ(test, xenpv_blk_fill_rw(&req, BLKIF_OP_WRITE, 7, 3, 100,
						2 * PAGE_SIZE + 512, refs, &f,
						NULL, NULL), 0);
	KUNIT_EXPECT_EQ(test, req.operation, BLKIF_OP_WRITE);
	KUNIT_EXPECT_EQ(test, req.u.rw.nr_segments, 3);
	KUNIT_EXPECT_EQ(test, req.u.rw.id, 7ULL);
	KUNIT_EXPECT_EQ(test, req.u.rw.sector_number, 100ULL);
	KUNIT_EXPECT_EQ(test, req.u.rw.seg[0].gref, 10U);
	KUNIT_EXPECT_EQ(test, req.u.rw.seg[0].last_sect, 7);
	KUNIT_EXPECT_EQ(test, req.u.rw.seg[2].gref, 12U);
	KUNIT_EXPECT_EQ(test, req.u.rw.seg[2].first_sect, 0);
	KUNIT_EXPECT_EQ(test, req.u.rw.seg[2].last_sect, 0);

	/* Not encodable: unaligned, empty, too long without indirect. */
	KUNIT_EXPECT_EQ(test, xenpv_blk_fill_rw(&req, BLKIF_OP_READ, 1, 3, 0,
						1000, refs, &f, NULL, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_blk_fill_rw(&req, BLKIF_OP_READ, 1, 3, 0,
						0, refs, &f, NULL, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, xenpv_blk_fill_rw(&req, BLKIF_OP_READ, 1, 3, 0,
						12 * PAGE_SIZE, refs, &f, NULL,
						NULL), -EINVAL);
}

static void blk_encode_other(struct kunit *test)
{
	struct blkif_request req;

	xenpv_blk_fill_discard(&req, 5, 2048, 4096, true);
	KUNIT_EXPECT_EQ(test, req.operation, BLKIF_OP_DISCARD);
	KUNIT_EXPECT_EQ(test, req.u.discard.flag, BLKIF_DISCARD_SECURE);
	KUNIT_EXPECT_EQ(test, req.u.discard.id, 5ULL);
	KUNIT_EXPECT_EQ(test, req.u.discard.sector_number, 2048ULL);
	KUNIT_EXPECT_EQ(test, req.u.discard.nr_sectors, 4096ULL);
	xenpv_blk_fill_other(&req, BLKIF_OP_FLUSH_DISKCACHE, 9, 3);
	KUNIT_EXPECT_EQ(test, req.operation, BLKIF_OP_FLUSH_DISKCACHE);
	KUNIT_EXPECT_EQ(test, req.u.rw.nr_segments, 0);
	KUNIT_EXPECT_EQ(test, req.u.rw.id, 9ULL);
	KUNIT_EXPECT_EQ(test, xenpv_blk_rsp_op(&req), BLKIF_OP_FLUSH_DISKCACHE);
}

/* A FUA write is a barrier; blkback refuses one in an indirect request. */
static void blk_encode_barrier(struct kunit *test)
{
	struct xenpv_blk_feat f = { .max_segs = 32, .ind_pages = 1 };
	struct blkif_request_segment *ind[1];
	grant_ref_t refs[32] = { 40 }, ind_ref = 99;
	struct blkif_request req;

	ind[0] = kunit_kzalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ind[0]);
	/* 11 pages still fit the request itself. */
	KUNIT_ASSERT_EQ(test, xenpv_blk_fill_rw(&req, BLKIF_OP_WRITE_BARRIER, 4,
						3, 8, 11 * PAGE_SIZE, refs, &f,
						ind, &ind_ref), 0);
	KUNIT_EXPECT_EQ(test, req.operation, BLKIF_OP_WRITE_BARRIER);
	KUNIT_EXPECT_EQ(test, req.u.rw.nr_segments, 11);
	KUNIT_EXPECT_EQ(test, xenpv_blk_rsp_op(&req), BLKIF_OP_WRITE_BARRIER);
	/* 12 pages would need an indirect barrier: refused. */
	KUNIT_EXPECT_EQ(test, xenpv_blk_fill_rw(&req, BLKIF_OP_WRITE_BARRIER, 4,
						3, 8, 12 * PAGE_SIZE, refs, &f,
						ind, &ind_ref), -EINVAL);
	/* The same length as a plain write goes indirect. */
	KUNIT_ASSERT_EQ(test, xenpv_blk_fill_rw(&req, BLKIF_OP_WRITE, 4, 3, 8,
						12 * PAGE_SIZE, refs, &f, ind,
						&ind_ref), 0);
	KUNIT_EXPECT_EQ(test, req.operation, BLKIF_OP_INDIRECT);
	KUNIT_EXPECT_EQ(test, req.u.indirect.indirect_op, BLKIF_OP_WRITE);
	KUNIT_EXPECT_EQ(test, req.u.indirect.indirect_grefs[0], 99U);
}

/* Through the sim: 3 pages and a sector, direct segments. */
static void blk_sim_backend_direct(struct kunit *test)
{
	struct xenpv_blk_feat f = { .max_segs = 11 };

	bt_write_read(test, 3 * PAGE_SIZE + 512, 40, &f, BLKIF_OP_WRITE);
	KUNIT_EXPECT_EQ(test, ((struct bt_ctx *)test->priv)->mapped, 8U);
}

/* Through the sim: 16 pages need the indirect page. */
static void blk_sim_backend_indirect(struct kunit *test)
{
	struct xenpv_blk_feat f = { .max_segs = 32, .ind_pages = 1 };

	bt_write_read(test, 16 * PAGE_SIZE, 200, &f, BLKIF_OP_INDIRECT);
	/* 16 data grants and the indirect page, twice. */
	KUNIT_EXPECT_EQ(test, ((struct bt_ctx *)test->priv)->mapped, 34U);
}

/* Responses a hostile backend could send are refused. */
static void blk_hostile_responses(struct kunit *test)
{
	u8 ops[4] = { XENPV_BLK_SLOT_FREE, BLKIF_OP_READ, BLKIF_OP_WRITE,
		      XENPV_BLK_SLOT_FREE };
	struct blkif_response rsp = { .id = 1, .operation = BLKIF_OP_READ };

	KUNIT_EXPECT_EQ(test, xenpv_blk_check_rsp(&rsp, ops, 4), 1);
	rsp.status = BLKIF_RSP_EOPNOTSUPP;
	KUNIT_EXPECT_EQ(test, xenpv_blk_check_rsp(&rsp, ops, 4), 1);
	rsp.status = BLKIF_RSP_ERROR;
	KUNIT_EXPECT_EQ(test, xenpv_blk_check_rsp(&rsp, ops, 4), 1);
	/* A status the protocol does not have. */
	rsp.status = 5;
	KUNIT_EXPECT_EQ(test, xenpv_blk_check_rsp(&rsp, ops, 4), -EPROTO);
	rsp.status = BLKIF_RSP_OKAY;
	/* The wrong operation for the slot. */
	rsp.operation = BLKIF_OP_WRITE;
	KUNIT_EXPECT_EQ(test, xenpv_blk_check_rsp(&rsp, ops, 4), -EPROTO);
	/* A slot with nothing in flight (a replayed response). */
	rsp.id = 3;
	rsp.operation = XENPV_BLK_SLOT_FREE;
	KUNIT_EXPECT_EQ(test, xenpv_blk_check_rsp(&rsp, ops, 4), -EPROTO);
	/* Ids past the slots, small and huge. */
	rsp.id = 4;
	rsp.operation = BLKIF_OP_READ;
	KUNIT_EXPECT_EQ(test, xenpv_blk_check_rsp(&rsp, ops, 4), -EPROTO);
	rsp.id = ~0ULL;
	KUNIT_EXPECT_EQ(test, xenpv_blk_check_rsp(&rsp, ops, 4), -EPROTO);
	rsp.id = (1ULL << 32) | 1;
	KUNIT_EXPECT_EQ(test, xenpv_blk_check_rsp(&rsp, ops, 4), -EPROTO);
	rsp.id = 2;
	rsp.operation = BLKIF_OP_WRITE;
	KUNIT_EXPECT_EQ(test, xenpv_blk_check_rsp(&rsp, ops, 4), 2);
	/* An indirect write is answered as a write, not as "indirect". */
	rsp.operation = BLKIF_OP_INDIRECT;
	KUNIT_EXPECT_EQ(test, xenpv_blk_check_rsp(&rsp, ops, 4), -EPROTO);
}

static struct kunit_case blk_pure_cases[] = {
	KUNIT_CASE(blk_negotiate_defaults),
	KUNIT_CASE(blk_negotiate_table),
	KUNIT_CASE(blk_encode_direct),
	KUNIT_CASE(blk_encode_other),
	KUNIT_CASE(blk_encode_barrier),
	KUNIT_CASE(blk_hostile_responses),
	{}
};

static struct kunit_suite blk_pure_suite = {
	.name = "xenpv_blkfront_ring",
	.test_cases = blk_pure_cases,
};

static struct kunit_case blk_sim_cases[] = {
	KUNIT_CASE(blk_sim_backend_direct),
	KUNIT_CASE(blk_sim_backend_indirect),
	{}
};

static struct kunit_suite blk_sim_suite = {
	.name = "xenpv_blkfront_sim_backend",
	.init = bt_init,
	.exit = bt_exit,
	.test_cases = blk_sim_cases,
};

kunit_test_suites(&blk_pure_suite, &blk_sim_suite);
