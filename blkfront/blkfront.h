/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv-blkfront: internals shared by the driver (main.c) and the ring
 * logic (ring.c, which has no block-layer code, so that the KUnit suites
 * run it under UML).
 *
 * Data path. Every request slot of a queue (one per blk-mq tag, as many as
 * ring entries) owns a fixed set of pages granted to the backend for the
 * life of the connection: data pages for its largest request, then the
 * pages of its indirect segment list. A write is copied into the slot's
 * pages before it goes on the ring; a read is copied out of them when its
 * response arrives. The backend never sees a page of the guest's other
 * memory, only these dedicated pages, so a backend that keeps a mapping
 * (XSA-396) or reads past a sector (XSA-403) learns nothing it was not
 * sent. The grants never change while the device is connected, which is
 * what feature-persistent lets a backend exploit (it maps them once).
 */
#ifndef _XENPV_BLKFRONT_H
#define _XENPV_BLKFRONT_H

#include <linux/types.h>
#include <xen/interface/grant_table.h>
#include <xen/interface/io/blkif.h>

/* 512-byte sectors in a page, the unit of first_sect/last_sect. */
#define XENPV_BLK_SECT_PER_PAGE		(PAGE_SIZE >> 9)
/* Segment descriptors in one indirect page. */
#define XENPV_BLK_SEGS_PER_IND_PAGE \
	(PAGE_SIZE / sizeof(struct blkif_request_segment))

/* Limits of ours, whatever a backend offers. */
#define XENPV_BLK_MAX_QUEUES		8
#define XENPV_BLK_MAX_RING_ORDER	4	/* 16 pages, 512 entries */
#define XENPV_BLK_MAX_INDIRECT		256	/* segments: 1 MiB requests */

/*
 * struct xenpv_blk_offer - what the backend published (read through the
 * table in main.c; absent keys take their defaults)
 */
struct xenpv_blk_offer {
	unsigned int max_queues;	/* multi-queue-max-queues */
	unsigned int max_ring_order;	/* max-ring-page-order */
	unsigned int max_indirect;	/* feature-max-indirect-segments */
};

/* The frontend's side: module parameters and the machine. */
struct xenpv_blk_params {
	unsigned int max_queues;
	unsigned int max_ring_order;
	unsigned int max_indirect;
	bool persistent;
	bool trusted;
	unsigned int nr_cpus;
};

/* What both sides agreed. */
struct xenpv_blk_feat {
	unsigned int nr_queues;
	unsigned int ring_order;
	unsigned int max_segs;		/* data segments per request */
	unsigned int ind_pages;		/* indirect pages per request; 0: none */
	bool persistent;		/* offered (our feature-persistent) */
};

void xenpv_blk_negotiate(const struct xenpv_blk_offer *be,
			 const struct xenpv_blk_params *p,
			 struct xenpv_blk_feat *out);

int xenpv_blk_fill_rw(struct blkif_request *req, u8 op, u64 id,
		      u16 handle, u64 sector, unsigned int bytes,
		      const grant_ref_t *data_refs,
		      const struct xenpv_blk_feat *feat,
		      struct blkif_request_segment *const *ind_pages,
		      const grant_ref_t *ind_refs);
void xenpv_blk_fill_discard(struct blkif_request *req, u64 id, u64 sector,
			    u64 nr_sectors, bool secure);
void xenpv_blk_fill_other(struct blkif_request *req, u8 op, u64 id,
			  u16 handle);

/* No request in this slot: its expected response operation. */
#define XENPV_BLK_SLOT_FREE	0xff

u8 xenpv_blk_rsp_op(const struct blkif_request *req);
int xenpv_blk_check_rsp(const struct blkif_response *rsp,
			const u8 *slot_op, unsigned int nr_slots);

#endif /* _XENPV_BLKFRONT_H */
