// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv-blkfront: xvd* disks served by a Xen block backend.
 *
 * Life of a device (the bus calls probe, then otherend_changed from the
 * xenwatch thread as the backend's state changes, then remove):
 *
 *   probe            read virtual-device and trusted, name the disk
 *   backend InitWait read the backend's offer (xenpv_blk_offer_keys[]),
 *                    negotiate, set up rings, event channels and the slot
 *                    pages, publish them, go Initialised
 *   backend Connected read size and properties, create the disk (or
 *                    resize it), go Connected
 *   backend Closing  fail what is in flight, delete the disk, free the
 *   / Closed         rings (grants the backend still maps are revoked
 *                    later, never reused), go Closed
 *
 * info->mutex serialises these steps. Each queue's lock serialises its
 * ring: producing requests (queue_rq), consuming responses (the
 * interrupt) and failing requests at teardown; info->state is changed
 * only with every queue lock taken in turn, so that queue_rq sees either
 * a connected ring or a dead one.
 *
 * The backend is not trusted: every response is copied out of the ring
 * once and checked (xenpv_blk_check_rsp()) before its id is used; a
 * response that fits no request, or a producer index that runs ahead of
 * the ring, marks the device broken: one message, every request fails,
 * the frontend goes Closing. Data only ever moves through the slot pages
 * (see blkfront.h).
 */

#include <linux/blk-mq.h>
#include <linux/blkdev.h>
#include <linux/cpumask.h>
#include <linux/debugfs.h>
#include <linux/highmem.h>
#include <linux/list.h>
#include <linux/log2.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <xen/interface/io/protocols.h>
#include <xenpv/compat.h>
#include <xenpv/events.h>
#include <xenpv/grant.h>
#include <xenpv/hypervisor.h>
#include <xenpv/xenbus.h>
#include <xenpv/xenstore.h>

#include "blkfront.h"

static unsigned int max_queues = 4;
module_param(max_queues, uint, 0444);
MODULE_PARM_DESC(max_queues, "Most hardware queues per disk (default 4; at most the CPUs)");

static unsigned int max_ring_page_order;
module_param(max_ring_page_order, uint, 0444);
MODULE_PARM_DESC(max_ring_page_order, "Largest ring as a page order (default 0: one page, 32 requests; at most 4)");

static unsigned int max_indirect_segments = 32;
module_param(max_indirect_segments, uint, 0444);
MODULE_PARM_DESC(max_indirect_segments, "Most segments (pages) per request with indirect descriptors (default 32; at most 256)");

static bool feature_persistent = true;
module_param(feature_persistent, bool, 0444);
MODULE_PARM_DESC(feature_persistent, "Offer persistent grants (default on)");

static bool trusted = true;
module_param(trusted, bool, 0444);
MODULE_PARM_DESC(trusted, "Trust backends (default on); a device's own 'trusted' key of 0 also turns trust off");

#define XENPV_VBD_MAJOR		202	/* xvd, as the Xen ABI numbers it */
#define XENPV_EXT_SHIFT		28
#define XENPV_PARTS_PER_DISK	16
#define XENPV_PARTS_PER_EXT	256

static int xenpv_blk_major;

enum xenpv_blk_state {
	XENPV_BLK_DISCONNECTED,
	XENPV_BLK_CONNECTED,
	XENPV_BLK_BROKEN,
};

/* One request slot; its pages are granted for the connection's life. */
struct xenpv_blk_slot {
	struct request *rq;
	struct page **pages;		/* max_segs data pages, then ind_pages */
	grant_ref_t *refs;
};

struct xenpv_blk_info;

/*
 * struct xenpv_blk_queue - one ring and its event channel
 * @lock: the ring (producer and consumer), @slot_op, the slots' @rq,
 *	the counters
 */
struct xenpv_blk_queue {
	struct xenpv_blk_info *info;
	unsigned int idx;
	spinlock_t lock;		/* see above */
	struct blkif_front_ring ring;
	void *ring_va;
	grant_ref_t ring_refs[1 << XENPV_BLK_MAX_RING_ORDER];
	evtchn_port_t evtchn;
	int irq;
	unsigned int depth;
	struct xenpv_blk_slot *slots;
	u8 *slot_op;
	unsigned long irqs;		/* handler runs (debugfs) */
	unsigned long irqs_empty;	/* of which found no response */
	unsigned long rescued;		/* timeouts that found responses */
	char name[DISK_NAME_LEN + 16];
};

struct xenpv_blk_info {
	struct xenpv_device *xdev;
	struct mutex mutex;		/* connect and teardown */
	enum xenpv_blk_state state;	/* written with every queue lock */
	unsigned int vdevice;
	unsigned int first_minor;
	unsigned int minors;
	char disk_name[DISK_NAME_LEN];
	bool trusted;
	bool is_cdrom;
	struct xenpv_blk_feat feat;
	struct xenpv_blk_queue *queues;
	struct gendisk *gd;
	struct blk_mq_tag_set tag_set;
	u64 sectors;
	unsigned int sector_size;
	unsigned int phys_sector_size;
	unsigned int vdisk_info;
	bool flush, barrier, fua, discard, discard_secure;
	bool persistent;		/* offered by both sides */
	unsigned int discard_gran, discard_align;
	struct work_struct broken_work;
	struct list_head minors_node;
	struct dentry *debugfs;		/* the disk's ring state */
};

/* Per request: the status the completion reports. */
struct xenpv_blk_req {
	blk_status_t status;
};

/* Minor ranges in use (a bad virtual-device must not take another's). */
static LIST_HEAD(xenpv_blk_minors);
static DEFINE_MUTEX(xenpv_blk_minors_lock);

/* The backend keys read at InitWait: name, where, default. */
static const struct {
	const char *key;
	size_t offset;
	unsigned int dflt;
} xenpv_blk_offer_keys[] = {
	{ "multi-queue-max-queues",
	  offsetof(struct xenpv_blk_offer, max_queues), 1 },
	{ "max-ring-page-order",
	  offsetof(struct xenpv_blk_offer, max_ring_order), 0 },
	{ "feature-max-indirect-segments",
	  offsetof(struct xenpv_blk_offer, max_indirect), 0 },
};

static unsigned int xenpv_blk_read_uint(const char *dir, const char *key,
					unsigned int dflt)
{
	unsigned int v;

	if (xenpv_xs_scanf(XENPV_XBT_NIL, dir, key, "%u", &v) != 1)
		return dflt;
	return v;
}

/* "xvd" and a base-26 suffix: a..z, aa..zz, aaa.. */
static void xenpv_blk_name(char *buf, unsigned int index)
{
	char suffix[8];
	int i = sizeof(suffix) - 1;

	suffix[i] = '\0';
	do {
		suffix[--i] = 'a' + index % 26;
		index = index / 26;
	} while (index-- && i > 0);
	snprintf(buf, DISK_NAME_LEN, "xvd%s", &suffix[i]);
}

/*
 * The disk index and minors of a virtual-device (xen-vbd-interface(7)):
 * xvd (major 202, 16 disks of 15 partitions), the extended form (bit 28,
 * disk in bits 8..27, 255 partitions), and the emulated IDE and SCSI
 * numbers a toolstack may give, which name the same xvd disks.
 */
static int xenpv_blk_translate(unsigned int vdev, unsigned int *index,
			       unsigned int *minors)
{
	unsigned int major = (vdev >> 8) & 0xff, minor = vdev & 0xff;

	if (vdev & (1U << XENPV_EXT_SHIFT)) {
		*index = (vdev >> 8) & 0xfffff;
		*minors = XENPV_PARTS_PER_EXT;
		return (vdev & 0xff) ? -EINVAL : 0;
	}
	if (vdev >> 16)
		return -EINVAL;
	*minors = XENPV_PARTS_PER_DISK;
	switch (major) {
	case XENPV_VBD_MAJOR:		/* xvd */
	case 8:				/* sd */
		*index = minor >> 4;
		return (minor & 15) ? -EINVAL : 0;
	case 3:				/* hda, hdb */
	case 22:			/* hdc, hdd */
		if (minor & 63)
			return -EINVAL;
		*index = (major == 3 ? 0 : 2) + (minor >> 6);
		return 0;
	}
	return -EINVAL;
}

static int xenpv_blk_claim_minors(struct xenpv_blk_info *info)
{
	struct xenpv_blk_info *o;
	int rc = 0;

	mutex_lock(&xenpv_blk_minors_lock);
	list_for_each_entry(o, &xenpv_blk_minors, minors_node) {
		if (info->first_minor < o->first_minor + o->minors &&
		    o->first_minor < info->first_minor + info->minors) {
			rc = -EBUSY;
			goto out;
		}
	}
	list_add(&info->minors_node, &xenpv_blk_minors);
out:
	mutex_unlock(&xenpv_blk_minors_lock);
	return rc;
}

static void xenpv_blk_release_minors(struct xenpv_blk_info *info)
{
	mutex_lock(&xenpv_blk_minors_lock);
	list_del_init(&info->minors_node);
	mutex_unlock(&xenpv_blk_minors_lock);
}

/* Set the device's state with every queue lock held in turn. */
static void xenpv_blk_set_state(struct xenpv_blk_info *info,
				enum xenpv_blk_state state)
{
	unsigned int i;
	unsigned long flags;

	for (i = 0; info->queues && i < info->feat.nr_queues; i++) {
		spin_lock_irqsave(&info->queues[i].lock, flags);
		WRITE_ONCE(info->state, state);
		spin_unlock_irqrestore(&info->queues[i].lock, flags);
	}
	WRITE_ONCE(info->state, state);
}

/* Complete every request still in flight on @q with an error. */
static void xenpv_blk_fail_inflight(struct xenpv_blk_queue *q)
{
	struct request *rq;
	unsigned long flags;
	unsigned int i;

	spin_lock_irqsave(&q->lock, flags);
	for (i = 0; i < q->depth; i++) {
		rq = q->slots[i].rq;
		if (!rq)
			continue;
		q->slots[i].rq = NULL;
		q->slot_op[i] = XENPV_BLK_SLOT_FREE;
		((struct xenpv_blk_req *)blk_mq_rq_to_pdu(rq))->status =
			BLK_STS_IOERR;
		blk_mq_complete_request(rq);
	}
	spin_unlock_irqrestore(&q->lock, flags);
}

/* A hostile or broken backend: stop believing it (process context). */
static void xenpv_blk_broken_workfn(struct work_struct *work)
{
	struct xenpv_blk_info *info =
		container_of(work, struct xenpv_blk_info, broken_work);
	unsigned int i;

	mutex_lock(&info->mutex);
	if (info->queues) {
		for (i = 0; i < info->feat.nr_queues; i++) {
			struct xenpv_blk_queue *q = &info->queues[i];

			/* Unbinding closes the port too. */
			if (q->irq > 0)
				xenpv_unbind_from_irqhandler(q->irq, q);
			q->irq = 0;
			q->evtchn = 0;
			if (q->slots)
				xenpv_blk_fail_inflight(q);
		}
	}
	mutex_unlock(&info->mutex);
	xenpv_xenbus_dev_fatal(info->xdev, -EPROTO,
			       "backend sent an invalid response");
}

/* Called with q->lock held, from the interrupt. */
static void xenpv_blk_mark_broken(struct xenpv_blk_queue *q, const char *why)
{
	struct xenpv_blk_info *info = q->info;

	if (READ_ONCE(info->state) == XENPV_BLK_BROKEN)
		return;
	WRITE_ONCE(info->state, XENPV_BLK_BROKEN);
	dev_err(&info->xdev->dev, "%s: %s; the device is dead\n",
		info->disk_name, why);
	schedule_work(&info->broken_work);
}

/*
 * Take the responses the backend produced. Returns true if there was
 * one (for the lateeoi accounting).
 */
static bool xenpv_blk_responses(struct xenpv_blk_queue *q)
{
	struct blkif_response rsp;
	struct request *rq;
	bool any = false;
	RING_IDX i, rp;
	int more, id;

	do {
		rp = READ_ONCE(q->ring.sring->rsp_prod);
		virt_rmb();	/* the responses before the index */
		if (rp - q->ring.rsp_cons > RING_SIZE(&q->ring)) {
			xenpv_blk_mark_broken(q, "response index out of range");
			return any;
		}
		for (i = q->ring.rsp_cons; i != rp; i++) {
			memcpy(&rsp, RING_GET_RESPONSE(&q->ring, i), sizeof(rsp));
			any = true;
			id = xenpv_blk_check_rsp(&rsp, q->slot_op, q->depth);
			if (id < 0) {
				q->ring.rsp_cons = i + 1;
				xenpv_blk_mark_broken(q, "response for no request");
				return any;
			}
			rq = q->slots[id].rq;
			q->slots[id].rq = NULL;
			q->slot_op[id] = XENPV_BLK_SLOT_FREE;
			((struct xenpv_blk_req *)blk_mq_rq_to_pdu(rq))->status =
				rsp.status == BLKIF_RSP_OKAY ? BLK_STS_OK :
				rsp.status == BLKIF_RSP_EOPNOTSUPP ?
				BLK_STS_NOTSUPP : BLK_STS_IOERR;
			if (rsp.status == BLKIF_RSP_EOPNOTSUPP)
				dev_warn_ratelimited(&q->info->xdev->dev,
						     "%s: backend refused operation %u\n",
						     q->info->disk_name,
						     rsp.operation);
			blk_mq_complete_request(rq);
		}
		q->ring.rsp_cons = rp;
		RING_FINAL_CHECK_FOR_RESPONSES(&q->ring, more);
	} while (more);
	return any;
}

static irqreturn_t xenpv_blk_interrupt(int irq, void *dev_id)
{
	struct xenpv_blk_queue *q = dev_id;
	unsigned long flags;
	bool any = false;

	spin_lock_irqsave(&q->lock, flags);
	if (READ_ONCE(q->info->state) == XENPV_BLK_CONNECTED)
		any = xenpv_blk_responses(q);
	q->irqs++;
	q->irqs_empty += !any;
	spin_unlock_irqrestore(&q->lock, flags);
	if (any && q->info->gd)
		blk_mq_start_stopped_hw_queues(q->info->gd->queue, true);
	xenpv_irq_lateeoi(irq, any ? 0 : XENPV_EOI_SPURIOUS);
	return IRQ_HANDLED;
}

/* Copy between a request's data and its slot's pages (packed). */
static void xenpv_blk_copy(struct request *rq, struct xenpv_blk_slot *slot,
			   bool to_slot)
{
	struct req_iterator iter;
	struct bio_vec bv;
	unsigned int off = 0, done, n;
	char *page, *data;

	rq_for_each_segment(bv, rq, iter) {
		data = bvec_kmap_local(&bv);
		for (done = 0; done < bv.bv_len; done += n) {
			n = min(bv.bv_len - done,
				(unsigned int)(PAGE_SIZE - off % PAGE_SIZE));
			page = page_address(slot->pages[off / PAGE_SIZE]) +
			       off % PAGE_SIZE;
			if (to_slot)
				memcpy(page, data + done, n);
			else
				memcpy(data + done, page, n);
			off += n;
		}
		kunmap_local(data);
	}
}

static void xenpv_blk_complete(struct request *rq)
{
	struct xenpv_blk_req *r = blk_mq_rq_to_pdu(rq);
	struct xenpv_blk_queue *q = rq->mq_hctx->driver_data;

	if (r->status == BLK_STS_OK && req_op(rq) == REQ_OP_READ)
		xenpv_blk_copy(rq, &q->slots[rq->tag], false);
	blk_mq_end_request(rq, r->status);
}

/* Encode @rq for its slot (its tag); write data goes into the slot. */
static int xenpv_blk_encode(struct xenpv_blk_queue *q, struct request *rq,
			    struct blkif_request *req)
{
	struct xenpv_blk_info *info = q->info;
	struct xenpv_blk_slot *slot = &q->slots[rq->tag];
	struct blkif_request_segment *ind[BLKIF_MAX_INDIRECT_PAGES_PER_REQUEST];
	u16 handle = info->vdevice;
	unsigned int i;
	u8 op;

	switch (req_op(rq)) {
	case REQ_OP_FLUSH:
		if (!info->flush && !info->barrier)
			return -EOPNOTSUPP;
		xenpv_blk_fill_other(req, info->flush ?
				     BLKIF_OP_FLUSH_DISKCACHE :
				     BLKIF_OP_WRITE_BARRIER, rq->tag, handle);
		return 0;
	case REQ_OP_DISCARD:
	case REQ_OP_SECURE_ERASE:
		if (!info->discard)
			return -EOPNOTSUPP;
		xenpv_blk_fill_discard(req, rq->tag, blk_rq_pos(rq),
				       blk_rq_sectors(rq),
				       req_op(rq) == REQ_OP_SECURE_ERASE);
		return 0;
	case REQ_OP_READ:
		op = BLKIF_OP_READ;
		break;
	case REQ_OP_WRITE:
		/* FUA is offered only with barriers, which imply it. */
		op = (info->fua && (rq->cmd_flags & REQ_FUA)) ?
		     BLKIF_OP_WRITE_BARRIER : BLKIF_OP_WRITE;
		xenpv_blk_copy(rq, slot, true);
		break;
	default:
		return -EOPNOTSUPP;
	}
	for (i = 0; i < info->feat.ind_pages; i++)
		ind[i] = page_address(slot->pages[info->feat.max_segs + i]);
	return xenpv_blk_fill_rw(req, op, rq->tag, handle, blk_rq_pos(rq),
				 blk_rq_bytes(rq), slot->refs, &info->feat, ind,
				 slot->refs + info->feat.max_segs);
}

static blk_status_t xenpv_blk_queue_rq(struct blk_mq_hw_ctx *hctx,
				       const struct blk_mq_queue_data *bd)
{
	struct xenpv_blk_queue *q = hctx->driver_data;
	struct request *rq = bd->rq;
	struct blkif_request req;
	unsigned long flags;
	int notify, rc;

	if (READ_ONCE(q->info->state) != XENPV_BLK_CONNECTED)
		return BLK_STS_IOERR;
	/* The slot (the tag) is this request's alone: fill it unlocked. */
	rc = xenpv_blk_encode(q, rq, &req);
	if (rc)
		return rc == -EOPNOTSUPP ? BLK_STS_NOTSUPP : BLK_STS_IOERR;

	spin_lock_irqsave(&q->lock, flags);
	if (READ_ONCE(q->info->state) != XENPV_BLK_CONNECTED) {
		spin_unlock_irqrestore(&q->lock, flags);
		return BLK_STS_IOERR;
	}
	if (RING_FULL(&q->ring) || q->slots[rq->tag].rq) {
		/*
		 * Stopped under the lock: the interrupt handler restarts it
		 * after taking responses, so it cannot do that in between.
		 */
		blk_mq_stop_hw_queue(hctx);
		spin_unlock_irqrestore(&q->lock, flags);
		return BLK_STS_DEV_RESOURCE;
	}
	blk_mq_start_request(rq);
	q->slots[rq->tag].rq = rq;
	q->slot_op[rq->tag] = xenpv_blk_rsp_op(&req);
	memcpy(RING_GET_REQUEST(&q->ring, q->ring.req_prod_pvt), &req,
	       sizeof(req));
	q->ring.req_prod_pvt++;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->ring, notify);
	spin_unlock_irqrestore(&q->lock, flags);
	if (notify)
		xenpv_notify_remote_via_irq(q->irq);
	return BLK_STS_OK;
}

static int xenpv_blk_init_hctx(struct blk_mq_hw_ctx *hctx, void *data,
			       unsigned int index)
{
	struct xenpv_blk_info *info = data;

	hctx->driver_data = &info->queues[index];
	return 0;
}

/*
 * A request outlived the block layer's timeout (30 s by default). A slow
 * backend is no error, so nothing is failed and the timer starts again.
 * But if responses wait in the ring, their notification was lost: take
 * them, say so once, and let the request end.
 */
static enum blk_eh_timer_return xenpv_blk_timeout(struct request *rq)
{
	struct xenpv_blk_queue *q = rq->mq_hctx->driver_data;
	unsigned long flags;
	bool any = false, done;

	spin_lock_irqsave(&q->lock, flags);
	if (READ_ONCE(q->info->state) == XENPV_BLK_CONNECTED)
		any = xenpv_blk_responses(q);
	/* The timeout holds a reference: the tag is still this request's. */
	done = q->slots[rq->tag].rq != rq;
	q->rescued += any;
	spin_unlock_irqrestore(&q->lock, flags);
	if (!any)
		return BLK_EH_RESET_TIMER;
	dev_warn_once(&q->info->xdev->dev,
		      "%s: responses found by a request timeout: their event was lost\n",
		      q->info->disk_name);
	blk_mq_start_stopped_hw_queues(rq->q, true);
	return done ? BLK_EH_DONE : BLK_EH_RESET_TIMER;
}

static const struct blk_mq_ops xenpv_blk_mq_ops = {
	.queue_rq = xenpv_blk_queue_rq,
	.complete = xenpv_blk_complete,
	.timeout = xenpv_blk_timeout,
	.init_hctx = xenpv_blk_init_hctx,
};

static const struct block_device_operations xenpv_blk_fops = {
	.owner = THIS_MODULE,
};

/* Free a queue's ring, event channel and slot pages (process context). */
static void xenpv_blk_free_queue(struct xenpv_blk_queue *q, unsigned int npages)
{
	unsigned int per_slot = q->info->feat.max_segs +
				q->info->feat.ind_pages;

	if (q->irq > 0)
		xenpv_unbind_from_irqhandler(q->irq, q);
	else if (q->evtchn)
		xenpv_evtchn_close(q->evtchn);
	q->irq = 0;
	q->evtchn = 0;
	if (q->ring_va)
		xenpv_grant_ring_free(q->ring_va, npages, q->ring_refs);
	q->ring_va = NULL;
	/* The backend may still map a page: revoked, never reused. */
	if (q->slots && q->slots[0].pages && q->slots[0].refs)
		xenpv_grant_pages_free(q->depth * per_slot, q->slots[0].pages,
				       q->slots[0].refs);
	if (q->slots) {
		kvfree(q->slots[0].pages);
		kvfree(q->slots[0].refs);
	}
	kfree(q->slots);
	kfree(q->slot_op);
	q->slots = NULL;
	q->slot_op = NULL;
}

/* Allocate and grant the slot pages of @q. */
static int xenpv_blk_alloc_slots(struct xenpv_blk_queue *q)
{
	struct xenpv_blk_info *info = q->info;
	unsigned int per_slot = info->feat.max_segs + info->feat.ind_pages;
	struct page **pages;
	grant_ref_t *refs;
	unsigned int i, n = q->depth * per_slot;

	/* On failure xenpv_blk_free_queue() frees what is attached. */
	q->slots = kcalloc(q->depth, sizeof(*q->slots), GFP_KERNEL);
	if (!q->slots)
		return -ENOMEM;
	q->slot_op = kmalloc(q->depth, GFP_KERNEL);
	pages = kvcalloc(n, sizeof(*pages), GFP_KERNEL);
	refs = kvmalloc_array(n, sizeof(*refs), GFP_KERNEL);
	q->slots[0].pages = pages;
	q->slots[0].refs = refs;
	if (!q->slot_op || !pages || !refs)
		return -ENOMEM;
	memset(q->slot_op, XENPV_BLK_SLOT_FREE, q->depth);
	for (i = 0; i < q->depth; i++) {
		q->slots[i].pages = pages + i * per_slot;
		q->slots[i].refs = refs + i * per_slot;
	}
	/* Writable: reads land in them, persistent backends map them rw. */
	return xenpv_grant_pages_alloc(info->xdev->otherend_id, n, false,
				       pages, refs);
}

static int xenpv_blk_setup_queue(struct xenpv_blk_info *info, unsigned int i)
{
	struct xenpv_blk_queue *q = &info->queues[i];
	unsigned int npages = 1U << info->feat.ring_order;
	int rc;

	q->info = info;
	q->idx = i;
	spin_lock_init(&q->lock);
	rc = xenpv_xenbus_setup_ring(info->xdev, npages, &q->ring_va,
				     q->ring_refs);
	if (rc) {
		q->ring_va = NULL;
		return rc;
	}
	SHARED_RING_INIT((struct blkif_sring *)q->ring_va);
	FRONT_RING_INIT(&q->ring, (struct blkif_sring *)q->ring_va,
			npages * PAGE_SIZE);
	q->depth = RING_SIZE(&q->ring);
	rc = xenpv_blk_alloc_slots(q);
	if (rc)
		return rc;
	rc = xenpv_xenbus_alloc_evtchn(info->xdev, &q->evtchn);
	if (rc)
		return rc;
	snprintf(q->name, sizeof(q->name), "%s-q%u", info->disk_name, i);
	rc = xenpv_bind_evtchn_to_irqhandler(q->evtchn, xenpv_blk_interrupt, 0,
					     q->name, q, true);
	if (rc < 0)
		return rc;
	q->irq = rc;
	return 0;
}

static void xenpv_blk_free_queues(struct xenpv_blk_info *info)
{
	unsigned int i;

	for (i = 0; info->queues && i < info->feat.nr_queues; i++)
		xenpv_blk_free_queue(&info->queues[i],
				     1U << info->feat.ring_order);
	kfree(info->queues);
	info->queues = NULL;
}

/* Write one queue's ring and event channel under @dir (a transaction). */
static int xenpv_blk_publish_queue(struct xenpv_xs_transaction t,
				   struct xenpv_blk_info *info,
				   struct xenpv_blk_queue *q, const char *dir)
{
	unsigned int i, npages = 1U << info->feat.ring_order;
	char key[24];
	int rc;

	if (npages == 1) {
		rc = xenpv_xs_printf(t, dir, "ring-ref", "%u", q->ring_refs[0]);
	} else {
		for (i = 0, rc = 0; i < npages && !rc; i++) {
			snprintf(key, sizeof(key), "ring-ref%u", i);
			rc = xenpv_xs_printf(t, dir, key, "%u", q->ring_refs[i]);
		}
	}
	return rc ?: xenpv_xs_printf(t, dir, "event-channel", "%u", q->evtchn);
}

/* What any of our layouts writes besides the features: see below. */
static const struct xenpv_xenbus_key xenpv_blk_layout_keys[] = {
	{ "ring-page-order", 0 }, { "num-ring-pages", 0 },
	{ "ring-ref", 0 }, { "ring-ref", 1U << XENPV_BLK_MAX_RING_ORDER },
	{ "event-channel", 0 }, { "multi-queue-num-queues", 0 },
	{ "queue-", XENPV_BLK_MAX_QUEUES },
};

static int xenpv_blk_publish(struct xenpv_xs_transaction t, void *arg)
{
	struct xenpv_blk_info *info = arg;
	const char *node = info->xdev->nodename;
	unsigned int i, npages = 1U << info->feat.ring_order;
	char *dir;
	int rc;

	/* An earlier load's layout (more pages, more queues) must go. */
	rc = xenpv_xenbus_rm_keys(t, node, xenpv_blk_layout_keys,
				  ARRAY_SIZE(xenpv_blk_layout_keys));
	if (rc)
		return rc;
	if (npages > 1) {
		rc = xenpv_xs_printf(t, node, "ring-page-order", "%u",
				     info->feat.ring_order) ?:
		     xenpv_xs_printf(t, node, "num-ring-pages", "%u", npages);
		if (rc)
			return rc;
	}
	if (info->feat.nr_queues == 1) {
		rc = xenpv_blk_publish_queue(t, info, &info->queues[0], node);
	} else {
		rc = xenpv_xs_printf(t, node, "multi-queue-num-queues", "%u",
				     info->feat.nr_queues);
		for (i = 0; i < info->feat.nr_queues && !rc; i++) {
			dir = kasprintf(GFP_KERNEL, "%s/queue-%u", node, i);
			if (!dir)
				return -ENOMEM;
			rc = xenpv_blk_publish_queue(t, info, &info->queues[i],
						     dir);
			kfree(dir);
		}
	}
	return rc ?:
	       xenpv_xs_write(t, node, "protocol", XEN_IO_PROTO_ABI_NATIVE) ?:
	       xenpv_xs_printf(t, node, "feature-persistent", "%u",
			       info->feat.persistent);
}

/* Backend InitWait: negotiate and publish our rings. */
static int xenpv_blk_talk_to_backend(struct xenpv_blk_info *info)
{
	struct xenpv_device *xdev = info->xdev;
	struct xenpv_blk_offer offer;
	struct xenpv_blk_params p = {
		.max_queues = max_queues,
		.max_ring_order = max_ring_page_order,
		.max_indirect = max_indirect_segments,
		.persistent = feature_persistent,
		.trusted = info->trusted,
		.nr_cpus = num_online_cpus(),
	};
	unsigned int i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(xenpv_blk_offer_keys); i++)
		*(unsigned int *)((char *)&offer +
				  xenpv_blk_offer_keys[i].offset) =
			xenpv_blk_read_uint(xdev->otherend,
					    xenpv_blk_offer_keys[i].key,
					    xenpv_blk_offer_keys[i].dflt);
	xenpv_blk_negotiate(&offer, &p, &info->feat);

	info->queues = kcalloc(info->feat.nr_queues, sizeof(*info->queues),
			       GFP_KERNEL);
	if (!info->queues)
		return -ENOMEM;
	for (i = 0; i < info->feat.nr_queues; i++) {
		rc = xenpv_blk_setup_queue(info, i);
		if (rc)
			goto err_free;
	}
	rc = xenpv_xs_transact(xenpv_blk_publish, info);
	if (rc)
		goto err_free;
	xenpv_blk_set_state(info, XENPV_BLK_DISCONNECTED);
	return xenpv_xenbus_switch_state(xdev, XenbusStateInitialised);

err_free:
	xenpv_xenbus_dev_fatal(xdev, rc, "setting up the rings");
	xenpv_blk_free_queues(info);
	return rc;
}

/* The backend's properties at Connected. */
static int xenpv_blk_read_props(struct xenpv_blk_info *info)
{
	const char *be = info->xdev->otherend;
	unsigned long long sectors;

	if (xenpv_xs_scanf(XENPV_XBT_NIL, be, "sectors", "%llu", &sectors) != 1)
		return -EINVAL;
	info->sectors = sectors;
	info->vdisk_info = xenpv_blk_read_uint(be, "info", 0);
	info->sector_size = xenpv_blk_read_uint(be, "sector-size", 512);
	info->phys_sector_size = xenpv_blk_read_uint(be, "physical-sector-size",
						     info->sector_size);
	if (info->sector_size < 512 || info->sector_size > PAGE_SIZE ||
	    !is_power_of_2(info->sector_size) ||
	    info->phys_sector_size < info->sector_size ||
	    !is_power_of_2(info->phys_sector_size))
		return -EINVAL;
	info->persistent = info->feat.persistent &&
			   xenpv_blk_read_uint(be, "feature-persistent", 0);
	info->flush = xenpv_blk_read_uint(be, "feature-flush-cache", 0);
	info->barrier = xenpv_blk_read_uint(be, "feature-barrier", 0);
	/*
	 * As mainline: a cache flush, where offered, is preferred to a
	 * barrier, and the block layer then emulates FUA with flushes.
	 */
	info->fua = info->barrier && !info->flush;
	info->discard = xenpv_blk_read_uint(be, "feature-discard", 0) &&
			xenpv_blk_read_uint(be, "discard-enable", 1);
	info->discard_secure = info->discard &&
			       xenpv_blk_read_uint(be, "discard-secure", 0);
	info->discard_gran = xenpv_blk_read_uint(be, "discard-granularity",
						 info->sector_size);
	info->discard_align = xenpv_blk_read_uint(be, "discard-alignment", 0);
	if (!info->discard_gran || !is_power_of_2(info->discard_gran))
		info->discard_gran = info->sector_size;
	info->discard_align %= info->discard_gran;
	return 0;
}

/* Largest request; blkback refuses an indirect barrier, so FUA fits direct. */
static unsigned int xenpv_blk_max_sectors(const struct xenpv_blk_info *info)
{
	unsigned int segs = info->feat.max_segs;

	if (info->fua)
		segs = min_t(unsigned int, segs, BLKIF_MAX_SEGMENTS_PER_REQUEST);
	return segs * XENPV_BLK_SECT_PER_PAGE;
}

/* Queue limits from what was negotiated and read; kernel API in one place. */
static struct gendisk *xenpv_blk_alloc_disk(struct xenpv_blk_info *info)
{
	unsigned int max_sectors = xenpv_blk_max_sectors(info);
	unsigned int max_segments = max_sectors;
#ifdef XENPV_BLK_LIMITS_API
	struct queue_limits lim = {
		.logical_block_size = info->sector_size,
		.physical_block_size = info->phys_sector_size,
		.max_hw_sectors = max_sectors,
		.max_segments = max_segments,
	};

	if (info->flush || info->barrier)
		lim.features |= BLK_FEAT_WRITE_CACHE;
	if (info->fua)
		lim.features |= BLK_FEAT_FUA;
	if (info->discard) {
		lim.max_hw_discard_sectors = UINT_MAX >> 9;
		lim.discard_granularity = info->discard_gran;
		lim.discard_alignment = info->discard_align;
		if (info->discard_secure)
			lim.max_secure_erase_sectors = UINT_MAX >> 9;
	}
	return blk_mq_alloc_disk(&info->tag_set, &lim, info);
#else
	struct gendisk *gd = blk_mq_alloc_disk(&info->tag_set, info);
	struct request_queue *q;

	if (IS_ERR(gd))
		return gd;
	q = gd->queue;
	blk_queue_logical_block_size(q, info->sector_size);
	blk_queue_physical_block_size(q, info->phys_sector_size);
	blk_queue_max_hw_sectors(q, max_sectors);
	blk_queue_max_segments(q, max_segments);
	blk_queue_flag_set(QUEUE_FLAG_NONROT, q);
	blk_queue_write_cache(q, info->flush || info->barrier, info->fua);
	if (info->discard) {
		blk_queue_max_discard_sectors(q, UINT_MAX >> 9);
		q->limits.discard_granularity = info->discard_gran;
		q->limits.discard_alignment = info->discard_align;
		if (info->discard_secure)
			blk_queue_max_secure_erase_sectors(q, UINT_MAX >> 9);
	}
	return gd;
#endif
}

/* debugfs xenpv/blkfront/<disk>: each queue's ring indexes, for hangs. */
static struct dentry *xenpv_blk_debugfs;

static int xenpv_blk_debug_show(struct seq_file *m, void *unused)
{
	struct xenpv_blk_info *info = m->private;
	struct xenpv_blk_queue *q;
	unsigned int i, j, busy;
	unsigned long flags;

	seq_printf(m, "state %d, %u queue(s) of %u slots\n", READ_ONCE(info->state),
		   info->feat.nr_queues, info->queues ? info->queues[0].depth : 0);
	for (i = 0; info->queues && i < info->feat.nr_queues; i++) {
		q = &info->queues[i];
		spin_lock_irqsave(&q->lock, flags);
		for (j = 0, busy = 0; q->slot_op && j < q->depth; j++)
			busy += q->slot_op[j] != XENPV_BLK_SLOT_FREE;
		seq_printf(m, "q%u: irq %d port %u busy %u handled %lu (%lu empty) rescued %lu; ours: req_prod_pvt %u rsp_cons %u",
			   i, q->irq, q->evtchn, busy, q->irqs, q->irqs_empty,
			   q->rescued, q->ring.req_prod_pvt, q->ring.rsp_cons);
		if (q->ring.sring)
			seq_printf(m, "; shared: req_prod %u req_event %u rsp_prod %u rsp_event %u",
				   READ_ONCE(q->ring.sring->req_prod),
				   READ_ONCE(q->ring.sring->req_event),
				   READ_ONCE(q->ring.sring->rsp_prod),
				   READ_ONCE(q->ring.sring->rsp_event));
		seq_putc(m, '\n');
		spin_unlock_irqrestore(&q->lock, flags);
	}
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(xenpv_blk_debug);

static int xenpv_blk_create_disk(struct xenpv_blk_info *info)
{
	struct gendisk *gd;
	int rc;

	memset(&info->tag_set, 0, sizeof(info->tag_set));
	info->tag_set.ops = &xenpv_blk_mq_ops;
	info->tag_set.nr_hw_queues = info->feat.nr_queues;
	info->tag_set.queue_depth = info->queues[0].depth;
	info->tag_set.numa_node = NUMA_NO_NODE;
#ifndef XENPV_BLK_NO_SHOULD_MERGE
	info->tag_set.flags = BLK_MQ_F_SHOULD_MERGE;
#endif
	info->tag_set.cmd_size = sizeof(struct xenpv_blk_req);
	info->tag_set.driver_data = info;
	rc = blk_mq_alloc_tag_set(&info->tag_set);
	if (rc)
		return rc;
	gd = xenpv_blk_alloc_disk(info);
	if (IS_ERR(gd)) {
		rc = PTR_ERR(gd);
		goto err_tags;
	}
	gd->major = xenpv_blk_major;
	gd->first_minor = info->first_minor;
	gd->minors = info->minors;
	gd->fops = &xenpv_blk_fops;
	gd->private_data = info;
	strscpy(gd->disk_name, info->disk_name, sizeof(gd->disk_name));
	if (info->vdisk_info & (VDISK_CDROM | VDISK_REMOVABLE) || info->is_cdrom)
		gd->flags |= GENHD_FL_REMOVABLE;
	set_disk_ro(gd, info->vdisk_info & VDISK_READONLY);
	set_capacity(gd, info->sectors);
	info->gd = gd;
	xenpv_blk_set_state(info, XENPV_BLK_CONNECTED);
	/* Before add_disk(): its partition scan is the first I/O. */
	info->debugfs = debugfs_create_file(info->disk_name, 0400,
					    xenpv_blk_debugfs, info,
					    &xenpv_blk_debug_fops);
	rc = add_disk(gd);
	if (rc)
		goto err_disk;
	return 0;

err_disk:
	debugfs_remove(info->debugfs);
	info->debugfs = NULL;
	xenpv_blk_set_state(info, XENPV_BLK_DISCONNECTED);
	info->gd = NULL;
	put_disk(gd);
err_tags:
	blk_mq_free_tag_set(&info->tag_set);
	return rc;
}

/* Backend Connected: create the disk, or take a new size. */
static void xenpv_blk_connect(struct xenpv_blk_info *info)
{
	struct xenpv_device *xdev = info->xdev;
	int rc;

	if (!info->queues)
		return;		/* never negotiated (a skipped InitWait) */
	rc = xenpv_blk_read_props(info);
	if (rc) {
		xenpv_xenbus_dev_fatal(xdev, rc, "reading the backend's disk properties");
		return;
	}
	if (info->gd) {
		if (get_capacity(info->gd) != info->sectors) {
			dev_info(&xdev->dev, "%s: size changed to %llu sectors\n",
				 info->disk_name, info->sectors);
			set_capacity_and_notify(info->gd, info->sectors);
		}
		return;
	}
	rc = xenpv_blk_create_disk(info);
	if (rc) {
		xenpv_xenbus_dev_fatal(xdev, rc, "creating the disk");
		return;
	}
	xenpv_xenbus_switch_state(xdev, XenbusStateConnected);
	dev_info(&xdev->dev,
		 "%s: %llu sectors of %u bytes, %u queue(s), ring order %u, %u segments per request%s%s%s%s%s%s\n",
		 info->disk_name, info->sectors, info->sector_size,
		 info->feat.nr_queues, info->feat.ring_order,
		 info->feat.max_segs, info->feat.ind_pages ? " (indirect)" : "",
		 info->persistent ? ", persistent grants" : "",
		 info->flush ? ", flush" : "", info->barrier ? ", barrier" : "",
		 info->discard ? ", discard" : "",
		 (info->vdisk_info & VDISK_READONLY) ? ", read-only" : "");
}

/*
 * Everything the connection holds goes; the device may connect again.
 * With @closed, the backend is told Closed as soon as nothing of ours
 * uses the rings, before the disk is deleted (which may take a while with
 * a file system on it), so that a toolstack waiting for the backend does
 * not time out.
 */
static void xenpv_blk_teardown(struct xenpv_blk_info *info, bool closed)
{
	unsigned int i;

	cancel_work_sync(&info->broken_work);
	debugfs_remove(info->debugfs);	/* waits for its readers */
	info->debugfs = NULL;
	xenpv_blk_set_state(info, XENPV_BLK_DISCONNECTED);
	for (i = 0; info->queues && i < info->feat.nr_queues; i++) {
		if (info->queues[i].irq > 0)
			xenpv_unbind_from_irqhandler(info->queues[i].irq,
						     &info->queues[i]);
		info->queues[i].irq = 0;
		info->queues[i].evtchn = 0;
		if (info->queues[i].slots)
			xenpv_blk_fail_inflight(&info->queues[i]);
	}
	if (closed)
		xenpv_xenbus_switch_state(info->xdev, XenbusStateClosed);
	if (info->gd) {
		/* Mounted or not: I/O fails from here, nothing waits. */
		blk_mark_disk_dead(info->gd);
		del_gendisk(info->gd);
		put_disk(info->gd);
		blk_mq_free_tag_set(&info->tag_set);
		info->gd = NULL;
	}
	xenpv_blk_free_queues(info);
}

static void xenpv_blk_otherend_changed(struct xenpv_device *xdev,
				       enum xenbus_state state)
{
	struct xenpv_blk_info *info = dev_get_drvdata(&xdev->dev);

	mutex_lock(&info->mutex);
	switch (state) {
	case XenbusStateInitWait:
		if (xdev->state != XenbusStateInitialising || info->queues)
			break;	/* a duplicate InitWait */
		xenpv_blk_talk_to_backend(info);
		break;
	case XenbusStateConnected:
		if (xdev->state != XenbusStateInitialised &&
		    xdev->state != XenbusStateConnected)
			break;
		xenpv_blk_connect(info);
		break;
	case XenbusStateClosing:
	case XenbusStateClosed:
		/* (Not while Initialising: the bus handles a reload.) */
		xenpv_blk_teardown(info, true);
		break;
	case XenbusStateInitialising:
		/* The backend started over (after Closed): so do we. */
		if (xdev->state == XenbusStateClosed) {
			xenpv_blk_teardown(info, false);
			xenpv_xenbus_switch_state(xdev,
						  XenbusStateInitialising);
		}
		break;
	default:
		break;
	}
	mutex_unlock(&info->mutex);
}

/* blkback writes its state again, unchanged, after a resize. */
static void xenpv_blk_otherend_rewritten(struct xenpv_device *xdev)
{
	struct xenpv_blk_info *info = dev_get_drvdata(&xdev->dev);

	mutex_lock(&info->mutex);
	if (xdev->otherend_state == XenbusStateConnected && info->gd)
		xenpv_blk_connect(info);
	mutex_unlock(&info->mutex);
}

static int xenpv_blk_probe(struct xenpv_device *xdev,
			   const struct xenpv_device_id *id)
{
	struct xenpv_blk_info *info;
	unsigned int vdev, index, minors;
	char *type;
	int rc;

	if (xenpv_xs_scanf(XENPV_XBT_NIL, xdev->nodename, "virtual-device",
			   "%u", &vdev) != 1 &&
	    xenpv_xs_scanf(XENPV_XBT_NIL, xdev->nodename, "virtual-device-ext",
			   "%u", &vdev) != 1) {
		xenpv_xenbus_dev_fatal(xdev, -ENOENT, "reading virtual-device");
		return -ENOENT;
	}
	rc = xenpv_blk_translate(vdev, &index, &minors);
	if (rc || index * minors >= (1U << MINORBITS)) {
		xenpv_xenbus_dev_fatal(xdev, -EINVAL,
				       "virtual-device %#x is not a disk xenpv can name",
				       vdev);
		return -EINVAL;
	}
	info = kzalloc(sizeof(*info), GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	info->xdev = xdev;
	mutex_init(&info->mutex);
	INIT_WORK(&info->broken_work, xenpv_blk_broken_workfn);
	INIT_LIST_HEAD(&info->minors_node);
	info->vdevice = vdev;
	info->first_minor = index * minors;
	info->minors = minors;
	xenpv_blk_name(info->disk_name, index);
	info->trusted = trusted &&
			xenpv_blk_read_uint(xdev->nodename, "trusted", 1);
	type = xenpv_xs_read(XENPV_XBT_NIL, xdev->nodename, "device-type", NULL);
	if (!IS_ERR(type)) {
		info->is_cdrom = !strcmp(type, "cdrom");
		kfree(type);
	}
	rc = xenpv_blk_claim_minors(info);
	if (rc) {
		xenpv_xenbus_dev_fatal(xdev, rc, "%s is taken", info->disk_name);
		kfree(info);
		return rc;
	}
	dev_set_drvdata(&xdev->dev, info);
	if (!info->trusted)
		dev_info(&xdev->dev, "%s: backend not trusted: no persistent grants\n",
			 info->disk_name);
	rc = xenpv_xenbus_switch_state(xdev, XenbusStateInitialising);
	if (rc) {
		dev_set_drvdata(&xdev->dev, NULL);
		xenpv_blk_release_minors(info);
		kfree(info);
	}
	return rc;
}

static void xenpv_blk_remove(struct xenpv_device *xdev)
{
	struct xenpv_blk_info *info = dev_get_drvdata(&xdev->dev);

	mutex_lock(&info->mutex);
	xenpv_blk_teardown(info, false);	/* the bus writes Closed */
	mutex_unlock(&info->mutex);
	xenpv_blk_release_minors(info);
	dev_set_drvdata(&xdev->dev, NULL);
	kfree(info);
}

static const struct xenpv_device_id xenpv_blk_ids[] = {
	{ "vbd" },
	{ "" }
};

static struct xenpv_driver xenpv_blk_driver = {
	.name = "xenpv-vbd",
	.ids = xenpv_blk_ids,
	.probe = xenpv_blk_probe,
	.otherend_changed = xenpv_blk_otherend_changed,
	.otherend_rewritten = xenpv_blk_otherend_rewritten,
	.remove = xenpv_blk_remove,
};

static int __init xenpv_blk_init(void)
{
	int rc;

	xenpv_blk_major = XENPV_VBD_MAJOR;
	rc = register_blkdev(XENPV_VBD_MAJOR, "xvd");
	if (rc) {
		/* Someone has 202: take any major, names stay xvd*. */
		rc = register_blkdev(0, "xvd");
		if (rc < 0)
			return rc;
		xenpv_blk_major = rc;
	}
	xenpv_blk_debugfs = debugfs_create_dir("blkfront", xenpv_debugfs_dir());
	rc = xenpv_register_frontend(&xenpv_blk_driver);
	if (rc) {
		debugfs_remove(xenpv_blk_debugfs);
		unregister_blkdev(xenpv_blk_major, "xvd");
	}
	return rc;
}

static void __exit xenpv_blk_exit(void)
{
	xenpv_unregister_frontend(&xenpv_blk_driver);
	debugfs_remove(xenpv_blk_debugfs);
	unregister_blkdev(xenpv_blk_major, "xvd");
}

module_init(xenpv_blk_init);
module_exit(xenpv_blk_exit);

MODULE_DESCRIPTION("Xen virtual block device frontend (xenpv)");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xenpv:vbd");
XENPV_IMPORT_NS();
