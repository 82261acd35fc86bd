// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv-blkfront: the blkif ring without the block layer. Negotiation
 * arithmetic, request encoding (direct and indirect segments) and the
 * check every response passes before it is believed. Pure functions: no
 * locks, no allocation, callable from any context.
 */

#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <asm/page.h>

#include "blkfront.h"

/**
 * xenpv_blk_negotiate() - what the frontend will use of the backend's offer
 * @be: the backend's keys
 * @p: our parameters
 * @out: the result
 *
 * Queues: the fewest of what the backend allows, max_queues and the CPUs,
 * at least one. Ring: the smaller page order, at most
 * XENPV_BLK_MAX_RING_ORDER. Segments: with indirect descriptors the
 * fewest of the backend's, max_indirect and XENPV_BLK_MAX_INDIRECT, if that
 * is more than fit in a request; else BLKIF_MAX_SEGMENTS_PER_REQUEST.
 * Persistent grants: offered when we want them and trust the backend;
 * they are in use when the backend offers them too, which blkback says
 * only at Connected (read then).
 *
 * Context: any.
 */
void xenpv_blk_negotiate(const struct xenpv_blk_offer *be,
			 const struct xenpv_blk_params *p,
			 struct xenpv_blk_feat *out)
{
	unsigned int segs;

	out->nr_queues = min3(max(be->max_queues, 1U), max(p->max_queues, 1U),
			      max(p->nr_cpus, 1U));
	out->nr_queues = min_t(unsigned int, out->nr_queues,
			       XENPV_BLK_MAX_QUEUES);
	out->ring_order = min3(be->max_ring_order, p->max_ring_order,
			       (unsigned int)XENPV_BLK_MAX_RING_ORDER);

	segs = min3(be->max_indirect, p->max_indirect,
		    (unsigned int)XENPV_BLK_MAX_INDIRECT);
	if (segs > BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		out->max_segs = segs;
		out->ind_pages = DIV_ROUND_UP(segs, XENPV_BLK_SEGS_PER_IND_PAGE);
	} else {
		out->max_segs = BLKIF_MAX_SEGMENTS_PER_REQUEST;
		out->ind_pages = 0;
	}
	out->persistent = p->persistent && p->trusted;
}

/* Segment @i of @bytes packed from the start of consecutive pages. */
static void xenpv_blk_seg(struct blkif_request_segment *seg, grant_ref_t ref,
			  unsigned int i, unsigned int bytes)
{
	unsigned int len = min_t(unsigned int, bytes - i * PAGE_SIZE,
				 PAGE_SIZE);

	seg->gref = ref;
	seg->first_sect = 0;
	seg->last_sect = (len >> 9) - 1;
}

/**
 * xenpv_blk_fill_rw() - encode a read or write
 * @req: the request to fill (a local copy, not the shared ring)
 * @op: BLKIF_OP_READ, BLKIF_OP_WRITE or BLKIF_OP_WRITE_BARRIER
 * @id: echoed by the response (the slot)
 * @handle: the virtual device
 * @sector: the first 512-byte sector
 * @bytes: the length, a multiple of 512, at most @feat->max_segs pages; the
 *	data sits packed from the start of the pages of @data_refs
 * @data_refs: one grant per page of data
 * @feat: the negotiated limits
 * @ind_pages: the slot's indirect pages (used when the request needs more
 *	than BLKIF_MAX_SEGMENTS_PER_REQUEST segments)
 * @ind_refs: their grants
 *
 * Context: any.
 * Return: 0, or -EINVAL for a length that cannot be encoded (a barrier
 * needing indirect segments included).
 */
int xenpv_blk_fill_rw(struct blkif_request *req, u8 op, u64 id,
		      u16 handle, u64 sector, unsigned int bytes,
		      const grant_ref_t *data_refs,
		      const struct xenpv_blk_feat *feat,
		      struct blkif_request_segment *const *ind_pages,
		      const grant_ref_t *ind_refs)
{
	unsigned int nseg = DIV_ROUND_UP(bytes, PAGE_SIZE), i;
	struct blkif_request_indirect *ind = &req->u.indirect;
	struct blkif_request_rw *rw = &req->u.rw;

	if (!bytes || bytes & 511 || nseg > feat->max_segs)
		return -EINVAL;
	memset(req, 0, sizeof(*req));
	if (nseg <= BLKIF_MAX_SEGMENTS_PER_REQUEST) {
		req->operation = op;
		rw->nr_segments = nseg;
		rw->handle = handle;
		rw->id = id;
		rw->sector_number = sector;
		for (i = 0; i < nseg; i++)
			xenpv_blk_seg(&rw->seg[i], data_refs[i], i, bytes);
		return 0;
	}
	/* Indirect requests carry reads and writes only (blkif.h). */
	if (!feat->ind_pages || op == BLKIF_OP_WRITE_BARRIER)
		return -EINVAL;
	req->operation = BLKIF_OP_INDIRECT;
	ind->indirect_op = op;
	ind->nr_segments = nseg;
	ind->id = id;
	ind->sector_number = sector;
	ind->handle = handle;
	for (i = 0; i < DIV_ROUND_UP(nseg, XENPV_BLK_SEGS_PER_IND_PAGE); i++)
		ind->indirect_grefs[i] = ind_refs[i];
	for (i = 0; i < nseg; i++)
		xenpv_blk_seg(&ind_pages[i / XENPV_BLK_SEGS_PER_IND_PAGE]
				       [i % XENPV_BLK_SEGS_PER_IND_PAGE],
			      data_refs[i], i, bytes);
	return 0;
}

/**
 * xenpv_blk_fill_discard() - encode a discard
 * @req: the request to fill
 * @id: echoed by the response
 * @sector: the first 512-byte sector
 * @nr_sectors: how many
 * @secure: a secure erase (the backend offered discard-secure)
 *
 * Context: any.
 */
void xenpv_blk_fill_discard(struct blkif_request *req, u64 id, u64 sector,
			    u64 nr_sectors, bool secure)
{
	memset(req, 0, sizeof(*req));
	req->operation = BLKIF_OP_DISCARD;
	req->u.discard.flag = secure ? BLKIF_DISCARD_SECURE : 0;
	req->u.discard.id = id;
	req->u.discard.sector_number = sector;
	req->u.discard.nr_sectors = nr_sectors;
}

/**
 * xenpv_blk_fill_other() - encode a request without data (a cache flush)
 * @req: the request to fill
 * @op: BLKIF_OP_FLUSH_DISKCACHE or BLKIF_OP_WRITE_BARRIER
 * @id: echoed by the response
 * @handle: the virtual device
 *
 * Context: any.
 */
void xenpv_blk_fill_other(struct blkif_request *req, u8 op, u64 id,
			  u16 handle)
{
	memset(req, 0, sizeof(*req));
	req->operation = op;
	req->u.rw.nr_segments = 0;
	req->u.rw.handle = handle;
	req->u.rw.id = id;
}

/**
 * xenpv_blk_rsp_op() - the operation a response to @req carries
 * @req: an encoded request
 *
 * A backend answers an indirect request with the operation it carried
 * (blkback does), every other request with its own operation.
 *
 * Context: any.
 * Return: the operation to expect.
 */
u8 xenpv_blk_rsp_op(const struct blkif_request *req)
{
	if (req->operation == BLKIF_OP_INDIRECT)
		return req->u.indirect.indirect_op;
	return req->operation;
}

/**
 * xenpv_blk_check_rsp() - believe a response only if it fits a request
 * @rsp: the response, already copied out of the shared ring
 * @slot_op: per slot, the operation of the request in flight there, or
 *	XENPV_BLK_SLOT_FREE
 * @nr_slots: the slots
 *
 * The id must name a slot with a request in flight, the operation must be
 * that request's, and the status one the protocol defines.
 *
 * Context: any.
 * Return: the slot, or -EPROTO for a response no request of ours asked
 * for.
 */
int xenpv_blk_check_rsp(const struct blkif_response *rsp,
			const u8 *slot_op, unsigned int nr_slots)
{
	u64 id = rsp->id;

	if (id >= nr_slots || slot_op[id] == XENPV_BLK_SLOT_FREE)
		return -EPROTO;
	if (rsp->operation != slot_op[id])
		return -EPROTO;
	switch (rsp->status) {
	case BLKIF_RSP_OKAY:
	case BLKIF_RSP_ERROR:
	case BLKIF_RSP_EOPNOTSUPP:
		return id;
	}
	return -EPROTO;
}
