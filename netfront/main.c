// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv-netfront: eth* interfaces served by a Xen network backend.
 *
 * The interface exists from probe on, carrier off. Backend InitWait: read
 * the offer (xenpv_net_offer_keys[]), negotiate, set up per queue a tx and
 * an rx ring with their slot pages and one event channel (or one each
 * way, split), publish them in one transaction, go Connected; carrier on
 * when the backend is Connected too. Closing or Closed: carrier off, stop,
 * free (grants the backend may still hold are revoked later, never
 * reused), go Closed. Removal unregisters the interface.
 *
 * Locking: info->mutex serialises the connection steps. Each queue's
 * tx_lock guards its tx ids and the tx responses; the tx requests are
 * produced only by ndo_start_xmit, which the stack serialises per queue.
 * The rx ring belongs to the queue's NAPI poll. info->state is read
 * locklessly by the data path and changed only with the data path stopped
 * (or to BROKEN, after which it only fails). tx_pool, tx_skbs, tx_zpages
 * and tx_zrefs are under tx_lock too.
 *
 * The backend is not trusted: responses are copied out of the rings once
 * and checked (xenpv_net_check_tx_rsp(), xenpv_net_rx_parse()); a
 * response that fits nothing we sent marks the device broken (one
 * message, carrier off, Closing). Event channels are bound with lateeoi;
 * an interrupt that found no work is reported spurious.
 */

#include <linux/etherdevice.h>
#include <linux/ethtool.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <linux/u64_stats_sync.h>
#include <linux/workqueue.h>
#include <net/tcp.h>
#include <xenpv/compat.h>
#include <xenpv/compat-net.h>
#include <xenpv/events.h>
#include <xenpv/grant.h>
#include <xenpv/xenbus.h>
#include <xenpv/xenstore.h>

#include "netfront.h"

static unsigned int max_queues = XENPV_NET_MAX_QUEUES;
module_param(max_queues, uint, 0444);
MODULE_PARM_DESC(max_queues, "Most queues per interface (default 8; at most the CPUs)");

static bool trusted = true;
module_param(trusted, bool, 0444);
MODULE_PARM_DESC(trusted, "Trust backends (default on); off, or a device's own 'trusted' key of 0, never sends in place");

/*
 * Off by default: in the testbed, copying sent faster (the skb is freed at
 * once, so TCP's small-queue limit does not wait for the backend's answer;
 * Documentation/netfront.rst has the figures).
 */
static bool tx_in_place;
module_param(tx_in_place, bool, 0444);
MODULE_PARM_DESC(tx_in_place, "Send in place (grant the skb's own pages) to trusted backends, as mainline does (default off: copy)");

#define TX_SIZE		__CONST_RING_SIZE(xen_netif_tx, PAGE_SIZE)
#define RX_SIZE		__CONST_RING_SIZE(xen_netif_rx, PAGE_SIZE)
/* Responses copied out at once: a packet's longest chain. */
#define RX_CHAIN	(XENPV_NET_MAX_SLOTS + XENPV_NET_MAX_EXTRAS)

enum xenpv_net_state {
	XENPV_NET_DOWN,
	XENPV_NET_CONNECTED,
	XENPV_NET_BROKEN,
};

struct xenpv_net_stats {
	u64_stats_t packets;
	u64_stats_t bytes;
	u64_stats_t errors;
	u64_stats_t dropped;
	u64_stats_t copied;	/* packets copied whole, not handed over in pages */
	u64_stats_t stops;	/* tx: the queue stopped, short of room */
	struct u64_stats_sync syncp;
};

struct xenpv_net_info;

struct xenpv_net_queue {
	struct xenpv_net_info *info;
	unsigned int idx;
	/* tx: ids and responses under tx_lock, requests by xmit */
	spinlock_t tx_lock;
	struct xen_netif_tx_front_ring tx;
	void *tx_va;
	grant_ref_t tx_ring_ref;
	struct page *tx_pages[TX_SIZE];
	grant_ref_t tx_refs[TX_SIZE];
	u8 tx_inflight[TX_SIZE];
	u16 tx_free[TX_SIZE];
	unsigned int tx_nr_free;
	/*
	 * Sent in place (trusted backend, tx_in_place): per id, the skb
	 * (one reference per id), the page shown and the ref from tx_pool that shows it;
	 * tx_skbs[id] NULL for an id whose data is in its own slot page.
	 */
	struct sk_buff *tx_skbs[TX_SIZE];
	struct page *tx_zpages[TX_SIZE];
	grant_ref_t tx_zrefs[TX_SIZE];
	struct xenpv_grant_pool tx_pool;
	bool tx_pool_ready;
	/*
	 * rx: owned by the NAPI poll. A slot's page is from rx_pool once a
	 * packet has been taken from the slot (rx_pooled); the first ones
	 * are xenpv_grant_pages_alloc()'s.
	 */
	struct xen_netif_rx_front_ring rx;
	void *rx_va;
	grant_ref_t rx_ring_ref;
	struct page *rx_pages[RX_SIZE];
	grant_ref_t rx_refs[RX_SIZE];
	bool rx_pooled[RX_SIZE];
	struct page_pool *rx_pool;
	evtchn_port_t evtchn_tx, evtchn_rx;
	int irq_tx, irq_rx;		/* the same IRQ unless split */
	atomic_t eoi_owed;		/* rx IRQ delivered, EOI not yet sent */
	atomic_t tx_reaped;		/* xmit took answers an event was for */
	struct napi_struct napi;
	bool napi_added, napi_enabled;
	struct xenpv_net_stats rx_stats, tx_stats;
	char name_tx[IFNAMSIZ + 24], name_rx[IFNAMSIZ + 24];
};

struct xenpv_net_info {
	struct net_device *ndev;
	struct xenpv_device *xdev;
	struct mutex mutex;		/* connection steps */
	enum xenpv_net_state state;
	bool trusted;			/* the backend (fixed at probe) */
	bool in_place;			/* send in place (fixed at probe) */
	struct xenpv_net_feat feat;
	struct xenpv_net_queue *queues;
	unsigned int nr_queues;		/* set up (feat.nr_queues once done) */
	struct work_struct broken_work;
};

/* The backend keys read at InitWait: name, where, default. */
static const struct {
	const char *key;
	size_t offset;
	unsigned int dflt;
} xenpv_net_offer_keys[] = {
	{ "feature-rx-copy", offsetof(struct xenpv_net_offer, rx_copy), 0 },
	{ "feature-sg", offsetof(struct xenpv_net_offer, sg), 0 },
	{ "feature-gso-tcpv4", offsetof(struct xenpv_net_offer, gso_tcpv4), 0 },
	{ "feature-gso-tcpv6", offsetof(struct xenpv_net_offer, gso_tcpv6), 0 },
	{ "feature-ipv6-csum-offload",
	  offsetof(struct xenpv_net_offer, ipv6_csum), 0 },
	{ "feature-split-event-channels",
	  offsetof(struct xenpv_net_offer, split_evtchn), 0 },
	{ "multi-queue-max-queues",
	  offsetof(struct xenpv_net_offer, max_queues), 1 },
};

/* What we write at connect, all "1": receive by copy, and our features. */
static const char *const xenpv_net_our_keys[] = {
	"request-rx-copy", "feature-rx-notify", "feature-sg",
	"feature-gso-tcpv4", "feature-gso-tcpv6", "feature-ipv6-csum-offload",
};

static void xenpv_net_count(struct xenpv_net_stats *st, unsigned int bytes,
			    bool error, bool dropped)
{
	u64_stats_update_begin(&st->syncp);
	if (error) {
		u64_stats_inc(&st->errors);
	} else if (dropped) {
		u64_stats_inc(&st->dropped);
	} else {
		u64_stats_inc(&st->packets);
		u64_stats_add(&st->bytes, bytes);
	}
	u64_stats_update_end(&st->syncp);
}

static void xenpv_net_count_copied(struct xenpv_net_stats *st)
{
	u64_stats_update_begin(&st->syncp);
	u64_stats_inc(&st->copied);
	u64_stats_update_end(&st->syncp);
}

/* Room for the largest packet (with tx_lock held). */
static bool xenpv_net_tx_room(struct xenpv_net_queue *q)
{
	return q->tx_nr_free >= XENPV_NET_MAX_SLOTS &&
	       RING_FREE_REQUESTS(&q->tx) >= XENPV_NET_TX_ENTRIES;
}

/* Stop the tx queue for lack of room, and count it (with tx_lock held). */
static void xenpv_net_tx_stop(struct xenpv_net_queue *q,
			      struct netdev_queue *txq)
{
	if (netif_tx_queue_stopped(txq))
		return;
	netif_tx_stop_queue(txq);
	u64_stats_update_begin(&q->tx_stats.syncp);
	u64_stats_inc(&q->tx_stats.stops);
	u64_stats_update_end(&q->tx_stats.syncp);
}

static void xenpv_net_broken_workfn(struct work_struct *work)
{
	struct xenpv_net_info *info =
		container_of(work, struct xenpv_net_info, broken_work);

	netif_carrier_off(info->ndev);
	netif_tx_disable(info->ndev);
	xenpv_xenbus_dev_fatal(info->xdev, -EPROTO,
			       "backend sent an invalid response");
}

static void xenpv_net_mark_broken(struct xenpv_net_queue *q, const char *why)
{
	struct xenpv_net_info *info = q->info;

	if (xchg(&info->state, XENPV_NET_BROKEN) == XENPV_NET_BROKEN)
		return;
	netdev_err(info->ndev, "queue %u: %s; the device is dead\n", q->idx,
		   why);
	schedule_work(&info->broken_work);
}

/*
 * Give back what an id sent in place holds: end its grant and return the
 * ref to the pool, and drop the id's skb reference. When the backend still
 * maps the page (it answered without unmapping, or the connection is being
 * torn down under it), the ref goes to the deferred revoke instead: with a
 * reference to the page for a frag's page; for the skb head's (kmalloc
 * memory, which takes no page references) the id's skb reference is kept
 * for good, so that memory is never reused. Called with tx_lock held.
 * Return: true when the backend still mapped the page.
 */
static bool xenpv_net_tx_release(struct xenpv_net_queue *q, u16 id, bool ok)
{
	struct sk_buff *skb = q->tx_skbs[id];
	struct page *page = q->tx_zpages[id];
	grant_ref_t ref = q->tx_zrefs[id];
	bool mapped = false;

	if (!skb)
		return false;
	q->tx_skbs[id] = NULL;
	q->tx_zpages[id] = NULL;
	q->tx_zrefs[id] = XENPV_GRANT_NO_REF;
	if (!xenpv_grant_end_access(ref)) {
		xenpv_grant_pool_put(&q->tx_pool, ref);
	} else {
		mapped = true;
		if (page)
			get_page(page);
		xenpv_grant_revoke(ref, page);
		if (!page)
			return true;	/* the head: the skb stays */
	}
	if (ok)
		dev_consume_skb_any(skb);
	else
		dev_kfree_skb_any(skb);
	return mapped;
}

/*
 * Ask for the next tx event (with tx_lock held), @gap answers on:
 * - 1 while skbs sent in place wait for their answers;
 * - half of those outstanding while the queue is stopped, which wakes it
 *   with room for several packets while the backend still has work;
 * - else half a ring: a copied packet was freed when sent and each xmit
 *   takes the answers already in, so an event per answer would buy
 *   nothing but an interrupt per packet sent (one per ACK while
 *   receiving).
 * The gap never exceeds the requests outstanding while stopped (xmit
 * only adds to req_prod_pvt, so a stale read is low), so the event comes.
 * Return: true when answers came in meanwhile.
 */
static bool xenpv_net_tx_arm_event(struct xenpv_net_queue *q,
				   struct netdev_queue *txq)
{
	RING_IDX out = READ_ONCE(q->tx.req_prod_pvt) - q->tx.rsp_cons;
	unsigned int gap = 1;

	if (!q->info->in_place && netif_tx_queue_stopped(txq))
		gap = max_t(unsigned int, out / 2, 1);
	else if (!q->info->in_place)
		gap = RING_SIZE(&q->tx) / 2;
	q->tx.sring->rsp_event = q->tx.rsp_cons + gap;
	virt_mb();	/* the event index before the check */
	return RING_HAS_UNCONSUMED_RESPONSES(&q->tx);
}

/* Take the tx responses; wake the queue once it has room again. */
static bool xenpv_net_tx_complete(struct xenpv_net_queue *q)
{
	struct netdev_queue *txq = netdev_get_tx_queue(q->info->ndev, q->idx);
	struct xen_netif_tx_response rsp;
	unsigned long flags;
	RING_IDX i, rp;
	bool any = false;
	int rc;

	spin_lock_irqsave(&q->tx_lock, flags);
	do {
		rp = READ_ONCE(q->tx.sring->rsp_prod);
		virt_rmb();	/* the responses before the index */
		if (rp - q->tx.rsp_cons > RING_SIZE(&q->tx)) {
			xenpv_net_mark_broken(q, "tx response index out of range");
			goto out;
		}
		for (i = q->tx.rsp_cons; i != rp; i++) {
			memcpy(&rsp, RING_GET_RESPONSE(&q->tx, i), sizeof(rsp));
			any = true;
			rc = xenpv_net_check_tx_rsp(&rsp, q->tx_inflight, TX_SIZE);
			if (rc < 0) {
				q->tx.rsp_cons = i + 1;
				xenpv_net_mark_broken(q, "tx response for no request");
				goto out;
			}
			if (rc)
				continue;
			q->tx_inflight[rsp.id] = 0;
			if (xenpv_net_tx_release(q, rsp.id,
						 rsp.status == XEN_NETIF_RSP_OKAY))
				xenpv_net_mark_broken(q, "tx page still mapped after its response");
			q->tx_free[q->tx_nr_free++] = rsp.id;
			if (rsp.status != XEN_NETIF_RSP_OKAY)
				xenpv_net_count(&q->tx_stats, 0, true, false);
		}
		q->tx.rsp_cons = rp;
	} while (xenpv_net_tx_arm_event(q, txq));
	/*
	 * Room for the largest packet, ids and ring entries both (a GSO
	 * packet takes one entry more than ids): waking short of entries
	 * would only stop the queue again at the next xmit, over and over.
	 */
	if (netif_tx_queue_stopped(txq) && xenpv_net_tx_room(q) &&
	    READ_ONCE(q->info->state) == XENPV_NET_CONNECTED)
		netif_tx_wake_queue(txq);
out:
	spin_unlock_irqrestore(&q->tx_lock, flags);
	return any;
}

/*
 * The copy send: claim ids for the pages @pkt needs and copy the packet
 * into their slot pages, packed from the first one's start.
 * Return: the ring entries in @slots; -EBUSY when the ids or the ring are
 * short (the queue is stopped); -EIO to drop the packet.
 */
static int xenpv_net_xmit_copy(struct xenpv_net_queue *q, struct sk_buff *skb,
			       const struct xenpv_net_txpkt *pkt,
			       union xenpv_net_tx_slot *slots)
{
	struct netdev_queue *txq = netdev_get_tx_queue(q->info->ndev, q->idx);
	struct xenpv_net_txreq reqs[XENPV_NET_MAX_SLOTS];
	unsigned int pages, i, off;
	unsigned long flags;
	int nslots;

	nslots = xenpv_net_tx_slots(pkt);
	if (nslots < 0)
		return -EIO;
	pages = DIV_ROUND_UP(pkt->len, PAGE_SIZE);
	spin_lock_irqsave(&q->tx_lock, flags);
	if (q->tx_nr_free < pages ||
	    RING_FREE_REQUESTS(&q->tx) < (unsigned int)nslots) {
		xenpv_net_tx_stop(q, txq);
		spin_unlock_irqrestore(&q->tx_lock, flags);
		return -EBUSY;
	}
	for (i = 0; i < pages; i++) {
		reqs[i].id = q->tx_free[--q->tx_nr_free];
		reqs[i].ref = q->tx_refs[reqs[i].id];
		q->tx_inflight[reqs[i].id] = 1;
	}
	spin_unlock_irqrestore(&q->tx_lock, flags);

	/* The ids are ours: copy the packet into their pages unlocked. */
	for (i = 0, off = 0; i < pages; off += reqs[i++].size) {
		reqs[i].offset = 0;
		reqs[i].size = min_t(unsigned int, PAGE_SIZE, pkt->len - off);
		if (skb_copy_bits(skb, off,
				  page_address(q->tx_pages[reqs[i].id]),
				  reqs[i].size))
			goto put_ids;
	}
	nslots = xenpv_net_fill_tx(pkt, reqs, pages, slots);
	if (nslots < 0)
		goto put_ids;
	return nslots;

put_ids:
	spin_lock_irqsave(&q->tx_lock, flags);
	for (i = 0; i < pages; i++) {
		q->tx_inflight[reqs[i].id] = 0;
		q->tx_free[q->tx_nr_free++] = reqs[i].id;
	}
	spin_unlock_irqrestore(&q->tx_lock, flags);
	return -EIO;
}

/*
 * The pieces of @skb, each within a page, into @pages and @reqs; the
 * first *@nr_head of them are the head's.
 */
static int xenpv_net_tx_pieces(struct sk_buff *skb, struct page **pages,
			       struct xenpv_net_txreq *reqs, unsigned int room,
			       unsigned int *nr_head)
{
	struct xenpv_net_txpiece pc[XENPV_NET_MAX_SLOTS];
	unsigned long base = (unsigned long)skb->data & PAGE_MASK;
	unsigned int nr = 0, i, j;
	const skb_frag_t *f;
	int k;

	if (skb_has_frag_list(skb))
		return -E2BIG;
	k = xenpv_net_tx_split(offset_in_page(skb->data), skb_headlen(skb), pc,
			       room);
	for (i = 0; k > 0 && i < k; i++, nr++) {
		pages[nr] = virt_to_page((void *)(base + pc[i].page * PAGE_SIZE));
		reqs[nr].offset = pc[i].offset;
		reqs[nr].size = pc[i].size;
	}
	*nr_head = nr;
	for (j = 0; k >= 0 && j < skb_shinfo(skb)->nr_frags; j++) {
		f = &skb_shinfo(skb)->frags[j];
		k = xenpv_net_tx_split(skb_frag_off(f), skb_frag_size(f), pc,
				       room - nr);
		for (i = 0; k > 0 && i < k; i++, nr++) {
			pages[nr] = skb_frag_page(f) +
				    skb_frag_off(f) / PAGE_SIZE + pc[i].page;
			reqs[nr].offset = pc[i].offset;
			reqs[nr].size = pc[i].size;
		}
	}
	if (k < 0)
		return k;
	for (i = 0; i < nr; i++)
		if (xenpv_page_to_gfn(pages[i]) > U32_MAX)
			return -E2BIG;	/* beyond what a v1 entry holds */
	return nr;
}

/*
 * The in-place send (trusted backend): each piece of the skb gets an id
 * and a ref from tx_pool granting its page read-only; each id holds a
 * reference to the skb until its response.
 * Return: the ring entries in @slots; -EBUSY when the ids or the ring are
 * short (the queue is stopped); -E2BIG to copy the packet instead (too
 * many pieces, or the pool short); -EIO to drop it.
 */
static int xenpv_net_xmit_in_place(struct xenpv_net_queue *q,
				   struct sk_buff *skb,
				   const struct xenpv_net_txpkt *pkt,
				   union xenpv_net_tx_slot *slots)
{
	struct netdev_queue *txq = netdev_get_tx_queue(q->info->ndev, q->idx);
	bool gso = pkt->gso_type != XEN_NETIF_GSO_TYPE_NONE;
	domid_t domid = q->info->xdev->otherend_id;
	struct xenpv_net_txreq reqs[XENPV_NET_MAX_SLOTS];
	struct page *pages[XENPV_NET_MAX_SLOTS];
	unsigned int i, nr, nr_head;
	unsigned long flags;
	int rc;

	rc = xenpv_net_tx_pieces(skb, pages, reqs, XENPV_NET_MAX_SLOTS,
				 &nr_head);
	if (rc <= 0)
		return -E2BIG;
	nr = rc;
	spin_lock_irqsave(&q->tx_lock, flags);
	if (q->tx_pool.nr < nr) {
		spin_unlock_irqrestore(&q->tx_lock, flags);
		return -E2BIG;
	}
	if (q->tx_nr_free < nr || RING_FREE_REQUESTS(&q->tx) < nr + gso) {
		xenpv_net_tx_stop(q, txq);
		spin_unlock_irqrestore(&q->tx_lock, flags);
		return -EBUSY;
	}
	for (i = 0; i < nr; i++) {
		reqs[i].id = q->tx_free[--q->tx_nr_free];
		q->tx_inflight[reqs[i].id] = 1;
		if (xenpv_grant_pool_claim(&q->tx_pool, &reqs[i].ref))
			goto release;	/* cannot be: nr checked above */
		if (xenpv_grant_access(reqs[i].ref, domid,
				       xenpv_page_to_gfn(pages[i]), true)) {
			xenpv_grant_pool_put(&q->tx_pool, reqs[i].ref);
			goto release;
		}
		q->tx_skbs[reqs[i].id] = skb_get(skb);
		/* Head pages are kmalloc memory: no page references. */
		q->tx_zpages[reqs[i].id] = i < nr_head ? NULL : pages[i];
		q->tx_zrefs[reqs[i].id] = reqs[i].ref;
	}
	rc = xenpv_net_fill_tx(pkt, reqs, nr, slots);
	if (rc < 0) {
		i = nr;
		goto release_all;
	}
	spin_unlock_irqrestore(&q->tx_lock, flags);
	return rc;

release:
	/* reqs[i]'s id holds nothing yet. */
	q->tx_inflight[reqs[i].id] = 0;
	q->tx_free[q->tx_nr_free++] = reqs[i].id;
release_all:
	while (i--) {
		xenpv_net_tx_release(q, reqs[i].id, false);
		q->tx_inflight[reqs[i].id] = 0;
		q->tx_free[q->tx_nr_free++] = reqs[i].id;
	}
	spin_unlock_irqrestore(&q->tx_lock, flags);
	return -EIO;
}

static netdev_tx_t xenpv_net_start_xmit(struct sk_buff *skb,
					struct net_device *ndev)
{
	struct xenpv_net_info *info = netdev_priv(ndev);
	struct xenpv_net_queue *q = &info->queues[skb_get_queue_mapping(skb)];
	union xenpv_net_tx_slot slots[XENPV_NET_TX_ENTRIES];
	struct netdev_queue *txq = netdev_get_tx_queue(ndev, q->idx);
	struct xenpv_net_txpkt pkt = { .len = skb->len };
	unsigned long flags;
	int nslots = -E2BIG, notify, i;
	bool stop;

	if (READ_ONCE(info->state) != XENPV_NET_CONNECTED)
		goto drop;
	pkt.csum_partial = skb->ip_summed == CHECKSUM_PARTIAL;
	if (skb_is_gso(skb)) {
		if (skb_shinfo(skb)->gso_type & SKB_GSO_TCPV4)
			pkt.gso_type = XEN_NETIF_GSO_TYPE_TCPV4;
		else if (skb_shinfo(skb)->gso_type & SKB_GSO_TCPV6)
			pkt.gso_type = XEN_NETIF_GSO_TYPE_TCPV6;
		else
			goto drop;
		pkt.gso_size = skb_shinfo(skb)->gso_size;
	}
	if (!pkt.len || pkt.len > XEN_NETIF_MAX_TX_SIZE)
		goto drop;
	if (info->in_place)
		nslots = xenpv_net_xmit_in_place(q, skb, &pkt, slots);
	if (nslots == -E2BIG) {
		nslots = xenpv_net_xmit_copy(q, skb, &pkt, slots);
		if (nslots > 0)
			xenpv_net_count_copied(&q->tx_stats);
	}
	if (nslots == -EBUSY) {
		/* Stopped: the event for the next answer, and those in. */
		if (xenpv_net_tx_complete(q))
			atomic_set(&q->tx_reaped, 1);
		return NETDEV_TX_BUSY;
	}
	if (nslots < 0)
		goto drop;

	for (i = 0; i < nslots; i++)
		memcpy(RING_GET_REQUEST(&q->tx, q->tx.req_prod_pvt + i),
		       &slots[i], sizeof(slots[i]));
	q->tx.req_prod_pvt += nslots;
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->tx, notify);
	if (notify)
		xenpv_notify_remote_via_irq(q->irq_tx);
	xenpv_net_count(&q->tx_stats, pkt.len, false, false);
	/* Ours; ids sent in place hold references of their own. */
	dev_consume_skb_any(skb);

	/*
	 * Take the answers that are in: the ids come back without waiting
	 * for an interrupt, and the skbs sent in place are freed as soon as
	 * possible, so TCP's limit on bytes queued below it (TSQ) lets the
	 * next ones go sooner. The event that comes for them then finds
	 * nothing: it is not spurious.
	 */
	if (xenpv_net_tx_complete(q))
		atomic_set(&q->tx_reaped, 1);
	spin_lock_irqsave(&q->tx_lock, flags);
	stop = !xenpv_net_tx_room(q);
	if (stop)
		xenpv_net_tx_stop(q, txq);
	spin_unlock_irqrestore(&q->tx_lock, flags);
	/* Stopped: ask for the event that wakes it, take what came since. */
	if (stop && xenpv_net_tx_complete(q))
		atomic_set(&q->tx_reaped, 1);
	return NETDEV_TX_OK;

drop:
	xenpv_net_count(&q->tx_stats, 0, false, true);
	dev_kfree_skb_any(skb);
	return NETDEV_TX_OK;
}

/* Post rx buffers up to a full ring; notify the backend if it waits. */
static void xenpv_net_rx_refill(struct xenpv_net_queue *q)
{
	struct xen_netif_rx_request *req;
	unsigned int id;
	int notify;

	while (q->rx.req_prod_pvt - q->rx.rsp_cons < RING_SIZE(&q->rx)) {
		id = q->rx.req_prod_pvt & (RING_SIZE(&q->rx) - 1);
		req = RING_GET_REQUEST(&q->rx, q->rx.req_prod_pvt);
		req->id = id;
		req->gref = q->rx_refs[id];
		q->rx.req_prod_pvt++;
	}
	RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&q->rx, notify);
	if (notify)
		xenpv_notify_remote_via_irq(q->irq_rx);
}

/*
 * A received packet up to RX_LINEAR_MAX bytes is copied into the skb's
 * linear area. A longer one (GSO, jumbo frames) gets its first RX_HEAD
 * bytes copied there and the rest handed up in its rx slot pages, as frags
 * (xenpv_net_rx_take_page()), as long as they fit the skb's frags; if
 * not, it is copied into fresh pages. No receive needs more than an
 * order-0 allocation and truesize stays close to the data.
 */
#define RX_LINEAR_MAX	2048
#define RX_HEAD		256

/*
 * A page for an rx slot, from the queue's page pool. A page new to the
 * pool is zeroed. One the pool recycles (the stack freed the skb that
 * held it) holds what the backend wrote into it before, plus whatever the
 * stack wrote over that, which only a trusted backend may see again:
 * for the others it is zeroed too.
 */
static struct page *xenpv_net_rx_alloc_page(struct xenpv_net_queue *q)
{
	struct page *page;

	page = page_pool_alloc_pages(q->rx_pool,
				     GFP_ATOMIC | __GFP_NOWARN | __GFP_ZERO);
	if (page && !q->info->trusted)
		clear_page(page_address(page));
	return page;
}

/*
 * Hand up @len bytes at @off of rx slot @id's page as the skb's next frag,
 * and post a fresh page in the slot (xenpv_net_rx_alloc_page()). The page
 * goes up only once its grant has ended; if the backend still maps it (a
 * copying backend never does), its bytes are copied instead and it stays
 * posted. The skb is marked for page pool recycling.
 */
static int xenpv_net_rx_take_page(struct xenpv_net_queue *q,
				  struct sk_buff *skb, u16 id,
				  unsigned int off, unsigned int len)
{
	struct page *fresh, *page = q->rx_pages[id];

	fresh = xenpv_net_rx_alloc_page(q);
	if (!fresh)
		return -ENOMEM;
	if (xenpv_grant_end_access(q->rx_refs[id])) {
		memcpy(page_address(fresh) + off, page_address(page) + off,
		       len);
		page = fresh;
	} else if (!xenpv_grant_access(q->rx_refs[id],
				       q->info->xdev->otherend_id,
				       xenpv_page_to_gfn(fresh), false)) {
		q->rx_pages[id] = fresh;
		q->rx_pooled[id] = true;
	} else {
		/* Our own ref, granting nothing: cannot fail. */
		page_pool_put_full_page(q->rx_pool, fresh, false);
		xenpv_net_mark_broken(q, "cannot grant a fresh rx page");
		return -EIO;
	}
	skb_add_rx_frag(skb, skb_shinfo(skb)->nr_frags, page, off, len,
			PAGE_SIZE);
	return 0;
}

/* Copy the rest of a packet (after its head) into fresh pages. */
static int xenpv_net_rx_copy_pages(struct sk_buff *skb,
				   struct xenpv_net_rx_cursor *c,
				   unsigned int len)
{
	struct page *page;
	unsigned int i, n;

	for (i = skb->len; i < len; i += n) {
		n = min_t(unsigned int, len - i, PAGE_SIZE);
		page = dev_alloc_page();
		if (!page)
			return -ENOMEM;
		skb_add_rx_frag(skb, skb_shinfo(skb)->nr_frags, page, 0, n,
				PAGE_SIZE);
		if (xenpv_net_rx_copy(c, page_address(page), n) != n)
			return -EIO;
	}
	return 0;
}

/* Hand up the rest of a packet (after its head) in its own slot pages. */
static int xenpv_net_rx_take_pages(struct xenpv_net_queue *q,
				   struct sk_buff *skb,
				   struct xenpv_net_rx_cursor *c,
				   const u16 *ids, const u16 *offs,
				   unsigned int len)
{
	struct xenpv_net_rx_cursor dry = *c;
	unsigned int frags = 0, slot, off, n;
	int rc;

	while (xenpv_net_rx_next_piece(&dry, &slot, &off))
		frags++;
	if (frags > MAX_SKB_FRAGS) {
		xenpv_net_count_copied(&q->rx_stats);
		return xenpv_net_rx_copy_pages(skb, c, len);
	}
	while ((n = xenpv_net_rx_next_piece(c, &slot, &off))) {
		rc = xenpv_net_rx_take_page(q, skb, ids[slot], offs[slot] + off,
					    n);
		if (rc)
			return rc;
	}
	return 0;
}

/* Build the skb of a checked chain. */
static struct sk_buff *xenpv_net_rx_skb(struct xenpv_net_queue *q,
					const struct xen_netif_rx_response *rsp,
					const struct xenpv_net_rxpkt *pkt)
{
	unsigned int extras = pkt->nr_slots - pkt->nr_data, i, d, head;
	u16 ids[XENPV_NET_MAX_SLOTS], offs[XENPV_NET_MAX_SLOTS];
	struct xenpv_net_rx_cursor c;
	struct sk_buff *skb;
	int rc;

	BUILD_BUG_ON(DIV_ROUND_UP(XEN_NETIF_MAX_TX_SIZE + 14 - RX_HEAD,
				  PAGE_SIZE) > MAX_SKB_FRAGS);
	if (pkt->len < ETH_HLEN)
		return NULL;	/* no Ethernet header: nothing to hand up */
	for (i = 0, d = 0; i < pkt->nr_slots; i++) {
		if (i && i <= extras)
			continue;	/* extra info, no data */
		ids[d] = rsp[i].id;
		offs[d] = rsp[i].offset;
		c.data[d] = page_address(q->rx_pages[rsp[i].id]) +
			    rsp[i].offset;
		c.len[d++] = rsp[i].status;
	}
	c.nr = d;
	c.slot = 0;
	c.off = 0;
	head = pkt->len <= RX_LINEAR_MAX ? pkt->len : RX_HEAD;
	skb = napi_alloc_skb(&q->napi, head);
	if (!skb)
		return NULL;
	/*
	 * Frags from rx_pool go back to it when the skb is freed. Every skb
	 * is marked, with pool pages or not: GRO and TCP merge only skbs
	 * marked alike.
	 */
	skb_mark_for_recycle(skb);
	/* pkt->len is the sum of the slots' lengths: the copies fill up. */
	if (xenpv_net_rx_copy(&c, skb_put(skb, head), head) != head)
		goto free_skb;
	if (head == pkt->len)
		xenpv_net_count_copied(&q->rx_stats);
	if (head < pkt->len) {
		rc = xenpv_net_rx_take_pages(q, skb, &c, ids, offs, pkt->len);
		if (rc || skb->len != pkt->len)
			goto free_skb;
	}
	skb->protocol = eth_type_trans(skb, q->info->ndev);
	skb_reset_network_header(skb);	/* skb_checksum_setup() parses it */
	if (pkt->flags & XEN_NETRXF_csum_blank) {
		/* The checksum is left to us or the next hop: find it. */
		if (skb_checksum_setup(skb, true))
			goto free_skb;
	} else if (pkt->flags & XEN_NETRXF_data_validated) {
		skb->ip_summed = CHECKSUM_UNNECESSARY;
	}
	if (pkt->gso_type) {
		skb_shinfo(skb)->gso_size = pkt->gso_size;
		skb_shinfo(skb)->gso_type =
			(pkt->gso_type == XEN_NETIF_GSO_TYPE_TCPV4 ?
			 SKB_GSO_TCPV4 : SKB_GSO_TCPV6) | SKB_GSO_DODGY;
		skb_shinfo(skb)->gso_segs = 0;
	}
	return skb;

free_skb:
	kfree_skb(skb);
	return NULL;
}

static int xenpv_net_rx(struct xenpv_net_queue *q, int budget)
{
	struct xen_netif_rx_response rsp[RX_CHAIN];
	struct xenpv_net_rxpkt pkt;
	struct sk_buff *skb;
	unsigned int n, i, avail;
	RING_IDX rp;
	int work = 0, rc;

	rp = READ_ONCE(q->rx.sring->rsp_prod);
	virt_rmb();	/* the responses before the index */
	if (rp - q->rx.rsp_cons > RING_SIZE(&q->rx)) {
		xenpv_net_mark_broken(q, "rx response index out of range");
		return 0;
	}
	while (q->rx.rsp_cons != rp && work < budget) {
		avail = rp - q->rx.rsp_cons;
		n = min_t(unsigned int, avail, RX_CHAIN);
		for (i = 0; i < n; i++)
			memcpy(&rsp[i], RING_GET_RESPONSE(&q->rx,
							  q->rx.rsp_cons + i),
			       sizeof(rsp[i]));
		rc = xenpv_net_rx_parse(rsp, n, q->rx.rsp_cons,
					RING_SIZE(&q->rx) - 1, &pkt);
		if (rc == -EAGAIN && n < RX_CHAIN)
			break;		/* the rest of the chain is coming */
		if (rc == -EAGAIN || rc == -EPROTO) {
			xenpv_net_mark_broken(q, "invalid rx response chain");
			return work;
		}
		if (rc == -EIO) {
			xenpv_net_count(&q->rx_stats, 0, true, false);
		} else {
			skb = xenpv_net_rx_skb(q, rsp, &pkt);
			if (skb) {
				xenpv_net_count(&q->rx_stats, skb->len, false,
						false);
				napi_gro_receive(&q->napi, skb);
			} else {
				xenpv_net_count(&q->rx_stats, 0, false, true);
			}
		}
		q->rx.rsp_cons += pkt.nr_slots;
		work++;
	}
	xenpv_net_rx_refill(q);
	return work;
}

static int xenpv_net_poll(struct napi_struct *napi, int budget)
{
	struct xenpv_net_queue *q = container_of(napi, struct xenpv_net_queue,
						 napi);
	bool tx = false;
	int work = 0, more;

	if (READ_ONCE(q->info->state) == XENPV_NET_CONNECTED) {
		work = xenpv_net_rx(q, budget);
		if (q->irq_tx == q->irq_rx) {
			tx = xenpv_net_tx_complete(q);
			tx |= atomic_xchg(&q->tx_reaped, 0);
		}
	}
	if (work >= budget)
		return budget;
	if (napi_complete_done(napi, work)) {
		if (atomic_xchg(&q->eoi_owed, 0))
			xenpv_irq_lateeoi(q->irq_rx,
					  work || tx ? 0 : XENPV_EOI_SPURIOUS);
		RING_FINAL_CHECK_FOR_RESPONSES(&q->rx, more);
		if (more)
			napi_schedule(napi);
	}
	return work;
}

static irqreturn_t xenpv_net_rx_interrupt(int irq, void *dev_id)
{
	struct xenpv_net_queue *q = dev_id;

	atomic_set(&q->eoi_owed, 1);
	napi_schedule(&q->napi);
	return IRQ_HANDLED;
}

static irqreturn_t xenpv_net_tx_interrupt(int irq, void *dev_id)
{
	struct xenpv_net_queue *q = dev_id;
	bool any = false;

	if (READ_ONCE(q->info->state) == XENPV_NET_CONNECTED)
		any = xenpv_net_tx_complete(q);
	any |= atomic_xchg(&q->tx_reaped, 0);
	xenpv_irq_lateeoi(irq, any ? 0 : XENPV_EOI_SPURIOUS);
	return IRQ_HANDLED;
}

static int xenpv_net_open(struct net_device *ndev)
{
	netif_tx_start_all_queues(ndev);
	return 0;
}

static int xenpv_net_close(struct net_device *ndev)
{
	netif_tx_stop_all_queues(ndev);
	return 0;
}

static netdev_features_t xenpv_net_fix_features(struct net_device *ndev,
						netdev_features_t features)
{
	struct xenpv_net_info *info = netdev_priv(ndev);

	if (!info->feat.sg)
		features &= ~NETIF_F_SG;
	if (!info->feat.tso4)
		features &= ~NETIF_F_TSO;
	if (!info->feat.tso6)
		features &= ~NETIF_F_TSO6;
	if (!info->feat.ipv6_csum)
		features &= ~NETIF_F_IPV6_CSUM;
	return features;
}

static int xenpv_net_change_mtu(struct net_device *ndev, int mtu)
{
	if (mtu > ETH_DATA_LEN && !(ndev->features & NETIF_F_SG))
		return -EINVAL;
	WRITE_ONCE(ndev->mtu, mtu);
	return 0;
}

/*
 * ethtool: per-queue counters, "<queue>_<dir>_<counter>", in
 * xenpv_net_read_stats() order; the last one is tx's alone.
 */
static const char *const xenpv_net_stat_names[] = {
	"packets", "bytes", "errors", "dropped", "copied", "stops",
};

#define XENPV_NET_TX_NSTATS	ARRAY_SIZE(xenpv_net_stat_names)
#define XENPV_NET_RX_NSTATS	(XENPV_NET_TX_NSTATS - 1)
#define XENPV_NET_NSTATS	(XENPV_NET_RX_NSTATS + XENPV_NET_TX_NSTATS)

/* A consistent snapshot of one direction's counters, in stat_names order. */
static void xenpv_net_read_stats(struct xenpv_net_stats *st, u64 *v)
{
	unsigned int start;

	do {
		start = u64_stats_fetch_begin(&st->syncp);
		v[0] = u64_stats_read(&st->packets);
		v[1] = u64_stats_read(&st->bytes);
		v[2] = u64_stats_read(&st->errors);
		v[3] = u64_stats_read(&st->dropped);
		v[4] = u64_stats_read(&st->copied);
		v[5] = u64_stats_read(&st->stops);
	} while (u64_stats_fetch_retry(&st->syncp, start));
}

static void xenpv_net_get_stats64(struct net_device *ndev,
				  struct rtnl_link_stats64 *tot)
{
	struct xenpv_net_info *info = netdev_priv(ndev);
	unsigned int i;
	u64 v[XENPV_NET_TX_NSTATS];

	for (i = 0; info->queues && i < info->nr_queues; i++) {
		xenpv_net_read_stats(&info->queues[i].rx_stats, v);
		tot->rx_packets += v[0];
		tot->rx_bytes += v[1];
		tot->rx_errors += v[2];
		tot->rx_dropped += v[3];
		xenpv_net_read_stats(&info->queues[i].tx_stats, v);
		tot->tx_packets += v[0];
		tot->tx_bytes += v[1];
		tot->tx_errors += v[2];
		tot->tx_dropped += v[3];
	}
}

static const struct net_device_ops xenpv_net_ops = {
	.ndo_open = xenpv_net_open,
	.ndo_stop = xenpv_net_close,
	.ndo_start_xmit = xenpv_net_start_xmit,
	.ndo_fix_features = xenpv_net_fix_features,
	.ndo_change_mtu = xenpv_net_change_mtu,
	.ndo_get_stats64 = xenpv_net_get_stats64,
	.ndo_set_mac_address = eth_mac_addr,
	.ndo_validate_addr = eth_validate_addr,
};

static int xenpv_net_get_sset_count(struct net_device *ndev, int sset)
{
	struct xenpv_net_info *info = netdev_priv(ndev);

	return sset == ETH_SS_STATS ? info->nr_queues * XENPV_NET_NSTATS :
				      -EOPNOTSUPP;
}

static void xenpv_net_get_strings(struct net_device *ndev, u32 sset, u8 *data)
{
	struct xenpv_net_info *info = netdev_priv(ndev);
	unsigned int i, j, d;

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < info->nr_queues; i++)
		for (d = 0; d < 2; d++)
			for (j = 0; j < (d ? XENPV_NET_TX_NSTATS :
					     XENPV_NET_RX_NSTATS); j++) {
				snprintf(data, ETH_GSTRING_LEN, "q%u_%s_%s", i,
					 d ? "tx" : "rx",
					 xenpv_net_stat_names[j]);
				data += ETH_GSTRING_LEN;
			}
}

static void xenpv_net_get_ethtool_stats(struct net_device *ndev,
					struct ethtool_stats *stats, u64 *data)
{
	struct xenpv_net_info *info = netdev_priv(ndev);
	u64 v[XENPV_NET_TX_NSTATS];
	unsigned int i;

	for (i = 0; i < info->nr_queues; i++) {
		xenpv_net_read_stats(&info->queues[i].rx_stats, v);
		memcpy(data, v, XENPV_NET_RX_NSTATS * sizeof(*data));
		data += XENPV_NET_RX_NSTATS;
		xenpv_net_read_stats(&info->queues[i].tx_stats, data);
		data += XENPV_NET_TX_NSTATS;
	}
}

static void xenpv_net_get_drvinfo(struct net_device *ndev,
				  struct ethtool_drvinfo *drvinfo)
{
	struct xenpv_net_info *info = netdev_priv(ndev);

	strscpy(drvinfo->driver, "xenpv-netfront", sizeof(drvinfo->driver));
	strscpy(drvinfo->bus_info, dev_name(&info->xdev->dev),
		sizeof(drvinfo->bus_info));
}

static const struct ethtool_ops xenpv_net_ethtool_ops = {
	.get_drvinfo = xenpv_net_get_drvinfo,
	.get_link = ethtool_op_get_link,
	.get_sset_count = xenpv_net_get_sset_count,
	.get_strings = xenpv_net_get_strings,
	.get_ethtool_stats = xenpv_net_get_ethtool_stats,
};

static void xenpv_net_free_queue(struct xenpv_net_queue *q)
{
	unsigned long flags;
	unsigned int j;

	if (q->napi_enabled)
		napi_disable(&q->napi);
	q->napi_enabled = false;
	if (q->irq_tx > 0 && q->irq_tx != q->irq_rx)
		xenpv_unbind_from_irqhandler(q->irq_tx, q);
	else if (!q->irq_tx && q->evtchn_tx && q->evtchn_tx != q->evtchn_rx)
		xenpv_evtchn_close(q->evtchn_tx);
	if (q->irq_rx > 0)
		xenpv_unbind_from_irqhandler(q->irq_rx, q);
	else if (q->evtchn_rx)
		xenpv_evtchn_close(q->evtchn_rx);
	q->irq_tx = 0;
	q->irq_rx = 0;
	q->evtchn_tx = 0;
	q->evtchn_rx = 0;
	if (q->napi_added)
		netif_napi_del(&q->napi);
	q->napi_added = false;
	if (q->tx_va)
		xenpv_grant_ring_free(q->tx_va, 1, &q->tx_ring_ref);
	if (q->rx_va)
		xenpv_grant_ring_free(q->rx_va, 1, &q->rx_ring_ref);
	q->tx_va = NULL;
	q->rx_va = NULL;
	/* The backend may still map a page: revoked, never reused. */
	if (q->tx_pool_ready) {
		spin_lock_irqsave(&q->tx_lock, flags);
		for (j = 0; j < TX_SIZE; j++)
			xenpv_net_tx_release(q, j, false);
		spin_unlock_irqrestore(&q->tx_lock, flags);
		xenpv_grant_pool_destroy(&q->tx_pool);
		q->tx_pool_ready = false;
	}
	xenpv_grant_pages_free(TX_SIZE, q->tx_pages, q->tx_refs);
	/*
	 * A pool page leaves the pool before its revoke, which may have to
	 * wait for the backend to unmap it and then frees it as any page:
	 * with a reference of our own, giving it back to the pool releases
	 * it from the pool instead of recycling it.
	 */
	for (j = 0; j < RX_SIZE; j++) {
		if (q->rx_pooled[j] && q->rx_pages[j]) {
			get_page(q->rx_pages[j]);
			page_pool_put_full_page(q->rx_pool, q->rx_pages[j],
						false);
		}
		q->rx_pooled[j] = false;
	}
	xenpv_grant_pages_free(RX_SIZE, q->rx_pages, q->rx_refs);
	/* Pages still in skbs come back to it later: it waits for them. */
	if (q->rx_pool)
		page_pool_destroy(q->rx_pool);
	q->rx_pool = NULL;
}

/* The page pool of a queue's rx pages: a ring's worth, order 0. */
static int xenpv_net_rx_pool_create(struct xenpv_net_queue *q)
{
	struct page_pool_params pp = {
		.order = 0,
		.pool_size = RX_SIZE,
		.nid = NUMA_NO_NODE,
		.dev = &q->info->ndev->dev,
	};
	struct page_pool *pool = page_pool_create(&pp);

	if (IS_ERR(pool))
		return PTR_ERR(pool);
	q->rx_pool = pool;
	return 0;
}

static int xenpv_net_setup_queue(struct xenpv_net_info *info, unsigned int i)
{
	struct xenpv_net_queue *q = &info->queues[i];
	struct xenpv_device *xdev = info->xdev;
	unsigned int j;
	int rc;

	q->info = info;
	q->idx = i;
	spin_lock_init(&q->tx_lock);
	u64_stats_init(&q->rx_stats.syncp);
	u64_stats_init(&q->tx_stats.syncp);
	rc = xenpv_xenbus_setup_ring(xdev, 1, &q->tx_va, &q->tx_ring_ref);
	if (rc) {
		q->tx_va = NULL;
		return rc;
	}
	SHARED_RING_INIT((struct xen_netif_tx_sring *)q->tx_va);
	FRONT_RING_INIT(&q->tx, (struct xen_netif_tx_sring *)q->tx_va,
			PAGE_SIZE);
	rc = xenpv_xenbus_setup_ring(xdev, 1, &q->rx_va, &q->rx_ring_ref);
	if (rc) {
		q->rx_va = NULL;
		return rc;
	}
	SHARED_RING_INIT((struct xen_netif_rx_sring *)q->rx_va);
	FRONT_RING_INIT(&q->rx, (struct xen_netif_rx_sring *)q->rx_va,
			PAGE_SIZE);
	/* Read-only for tx, the backend only reads what we send. */
	rc = xenpv_grant_pages_alloc(xdev->otherend_id, TX_SIZE, true,
				     q->tx_pages, q->tx_refs) ?:
	     xenpv_grant_pages_alloc(xdev->otherend_id, RX_SIZE, false,
				     q->rx_pages, q->rx_refs);
	if (rc)
		return rc;
	rc = xenpv_net_rx_pool_create(q);
	if (rc)
		return rc;
	if (info->in_place) {
		/* Refs for sending in place; short ones fall back to copy. */
		rc = xenpv_grant_pool_init(&q->tx_pool, TX_SIZE, GFP_KERNEL);
		if (rc)
			return rc;
		q->tx_pool_ready = true;
		if (xenpv_grant_grow(TX_SIZE) ||
		    xenpv_grant_pool_fill(&q->tx_pool, TX_SIZE))
			netdev_warn(info->ndev, "queue %u: no refs to send in place; copying\n",
				    i);
	}
	for (j = 0; j < TX_SIZE; j++)
		q->tx_free[j] = TX_SIZE - 1 - j;
	q->tx_nr_free = TX_SIZE;
	memset(q->tx_inflight, 0, sizeof(q->tx_inflight));

	netif_napi_add(info->ndev, &q->napi, xenpv_net_poll);
	q->napi_added = true;
	snprintf(q->name_rx, sizeof(q->name_rx), "%s-q%u-%s", info->ndev->name,
		 i, info->feat.split ? "rx" : "txrx");
	snprintf(q->name_tx, sizeof(q->name_tx), "%s-q%u-tx", info->ndev->name,
		 i);
	rc = xenpv_xenbus_alloc_evtchn(xdev, &q->evtchn_rx);
	if (rc)
		return rc;
	rc = xenpv_bind_evtchn_to_irqhandler(q->evtchn_rx,
					     xenpv_net_rx_interrupt, 0,
					     q->name_rx, q, true);
	if (rc < 0)
		return rc;
	q->irq_rx = rc;
	if (!info->feat.split) {
		q->evtchn_tx = q->evtchn_rx;
		q->irq_tx = q->irq_rx;
		return 0;
	}
	rc = xenpv_xenbus_alloc_evtchn(xdev, &q->evtchn_tx);
	if (rc)
		return rc;
	rc = xenpv_bind_evtchn_to_irqhandler(q->evtchn_tx,
					     xenpv_net_tx_interrupt, 0,
					     q->name_tx, q, true);
	if (rc < 0)
		return rc;
	q->irq_tx = rc;
	return 0;
}

static int xenpv_net_publish_queue(struct xenpv_xs_transaction t,
				   struct xenpv_net_info *info,
				   struct xenpv_net_queue *q, const char *dir)
{
	int rc;

	rc = xenpv_xs_printf(t, dir, "tx-ring-ref", "%u", q->tx_ring_ref) ?:
	     xenpv_xs_printf(t, dir, "rx-ring-ref", "%u", q->rx_ring_ref);
	if (rc)
		return rc;
	if (!info->feat.split)
		return xenpv_xs_printf(t, dir, "event-channel", "%u",
				       q->evtchn_rx);
	return xenpv_xs_printf(t, dir, "event-channel-tx", "%u",
			       q->evtchn_tx) ?:
	       xenpv_xs_printf(t, dir, "event-channel-rx", "%u",
			       q->evtchn_rx);
}

/* What any of our layouts writes besides the features: see below. */
static const struct xenpv_xenbus_key xenpv_net_layout_keys[] = {
	{ "tx-ring-ref", 0 }, { "rx-ring-ref", 0 }, { "event-channel", 0 },
	{ "event-channel-tx", 0 }, { "event-channel-rx", 0 },
	{ "multi-queue-num-queues", 0 }, { "queue-", XENPV_NET_MAX_QUEUES },
};

static int xenpv_net_publish(struct xenpv_xs_transaction t, void *arg)
{
	struct xenpv_net_info *info = arg;
	const char *node = info->xdev->nodename;
	unsigned int i;
	char *dir;
	int rc;

	/* An earlier load's layout (more queues, split or not) must go. */
	rc = xenpv_xenbus_rm_keys(t, node, xenpv_net_layout_keys,
				  ARRAY_SIZE(xenpv_net_layout_keys));
	if (rc)
		return rc;
	if (info->feat.nr_queues == 1) {
		rc = xenpv_net_publish_queue(t, info, &info->queues[0], node);
	} else {
		rc = xenpv_xs_printf(t, node, "multi-queue-num-queues", "%u",
				     info->feat.nr_queues);
		for (i = 0; i < info->feat.nr_queues && !rc; i++) {
			dir = kasprintf(GFP_KERNEL, "%s/queue-%u", node, i);
			if (!dir)
				return -ENOMEM;
			rc = xenpv_net_publish_queue(t, info, &info->queues[i],
						     dir);
			kfree(dir);
		}
	}
	for (i = 0; i < ARRAY_SIZE(xenpv_net_our_keys) && !rc; i++)
		rc = xenpv_xs_write(t, node, xenpv_net_our_keys[i], "1");
	return rc;
}

/* Everything of the connection goes; the interface stays. */
static void xenpv_net_teardown(struct xenpv_net_info *info)
{
	unsigned int i;

	cancel_work_sync(&info->broken_work);
	WRITE_ONCE(info->state, XENPV_NET_DOWN);
	netif_carrier_off(info->ndev);
	netif_tx_disable(info->ndev);
	for (i = 0; info->queues && i < info->nr_queues; i++)
		xenpv_net_free_queue(&info->queues[i]);
	kfree(info->queues);
	info->queues = NULL;
	info->nr_queues = 0;
}

/* Backend InitWait: negotiate, set up and publish the rings. */
static int xenpv_net_talk_to_backend(struct xenpv_net_info *info)
{
	struct xenpv_device *xdev = info->xdev;
	struct xenpv_net_offer offer;
	unsigned int i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(xenpv_net_offer_keys); i++) {
		unsigned int v;

		if (xenpv_xs_scanf(XENPV_XBT_NIL, xdev->otherend,
				   xenpv_net_offer_keys[i].key, "%u", &v) != 1)
			v = xenpv_net_offer_keys[i].dflt;
		*(unsigned int *)((char *)&offer +
				  xenpv_net_offer_keys[i].offset) = v;
	}
	rc = xenpv_net_negotiate(&offer, max_queues, num_online_cpus(),
				 &info->feat);
	if (rc) {
		xenpv_xenbus_dev_fatal(xdev, rc, "the backend cannot copy (feature-rx-copy)");
		return rc;
	}
	info->queues = kcalloc(info->feat.nr_queues, sizeof(*info->queues),
			       GFP_KERNEL);
	if (!info->queues)
		return -ENOMEM;
	for (i = 0; i < info->feat.nr_queues; i++) {
		info->nr_queues = i + 1;
		rc = xenpv_net_setup_queue(info, i);
		if (rc)
			goto err;
	}
	rc = xenpv_xs_transact(xenpv_net_publish, info);
	if (rc)
		goto err;
	rtnl_lock();
	netif_set_real_num_tx_queues(info->ndev, info->feat.nr_queues);
	netif_set_real_num_rx_queues(info->ndev, info->feat.nr_queues);
	netdev_update_features(info->ndev);
	rtnl_unlock();
	for (i = 0; i < info->nr_queues; i++) {
		xenpv_net_rx_refill(&info->queues[i]);
		napi_enable(&info->queues[i].napi);
		info->queues[i].napi_enabled = true;
	}
	WRITE_ONCE(info->state, XENPV_NET_CONNECTED);
	return xenpv_xenbus_switch_state(xdev, XenbusStateConnected);

err:
	xenpv_xenbus_dev_fatal(xdev, rc, "setting up the rings");
	xenpv_net_teardown(info);
	return rc;
}

static void xenpv_net_otherend_changed(struct xenpv_device *xdev,
				       enum xenbus_state state)
{
	struct xenpv_net_info *info = dev_get_drvdata(&xdev->dev);
	unsigned int i;

	mutex_lock(&info->mutex);
	switch (state) {
	case XenbusStateInitWait:
		if (xdev->state != XenbusStateInitialising || info->queues)
			break;	/* a duplicate InitWait */
		xenpv_net_talk_to_backend(info);
		break;
	case XenbusStateConnected:
		if (READ_ONCE(info->state) != XENPV_NET_CONNECTED)
			break;
		netif_carrier_on(info->ndev);
		for (i = 0; i < info->nr_queues; i++)
			napi_schedule(&info->queues[i].napi);
		netdev_info(info->ndev, "connected: %u queue(s)%s%s%s%s%s\n",
			    info->feat.nr_queues,
			    info->feat.split ? ", split event channels" : "",
			    info->feat.sg ? ", sg" : "",
			    info->feat.tso4 ? ", tso" : "",
			    info->feat.tso6 ? ", tso6" : "",
			    info->feat.ipv6_csum ? ", ipv6 csum" : "");
		break;
	case XenbusStateClosing:
	case XenbusStateClosed:
		/* (Not while Initialising: the bus handles a reload.) */
		xenpv_net_teardown(info);
		xenpv_xenbus_switch_state(xdev, XenbusStateClosed);
		break;
	case XenbusStateInitialising:
		if (xdev->state == XenbusStateClosed) {
			xenpv_net_teardown(info);
			xenpv_xenbus_switch_state(xdev,
						  XenbusStateInitialising);
		}
		break;
	default:
		break;
	}
	mutex_unlock(&info->mutex);
}

static int xenpv_net_probe(struct xenpv_device *xdev,
			   const struct xenpv_device_id *id)
{
	struct xenpv_net_info *info;
	struct net_device *ndev;
	u8 mac[ETH_ALEN];
	unsigned int v;
	char *s;
	int rc;

	s = xenpv_xs_read(XENPV_XBT_NIL, xdev->nodename, "mac", NULL);
	if (IS_ERR(s) ||
	    sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx", &mac[0], &mac[1],
		   &mac[2], &mac[3], &mac[4], &mac[5]) != ETH_ALEN ||
	    !is_valid_ether_addr(mac)) {
		if (!IS_ERR(s))
			kfree(s);
		xenpv_xenbus_dev_fatal(xdev, -EINVAL, "reading a valid mac");
		return -EINVAL;
	}
	kfree(s);
	ndev = alloc_etherdev_mq(sizeof(*info), XENPV_NET_MAX_QUEUES);
	if (!ndev)
		return -ENOMEM;
	info = netdev_priv(ndev);
	info->ndev = ndev;
	info->xdev = xdev;
	if (!trusted || (xenpv_xs_scanf(XENPV_XBT_NIL, xdev->nodename,
					"trusted", "%u", &v) == 1 && !v))
		dev_info(&xdev->dev, "backend not trusted: every packet sent is copied\n");
	else
		info->trusted = true;
	info->in_place = info->trusted && tx_in_place;
	mutex_init(&info->mutex);
	INIT_WORK(&info->broken_work, xenpv_net_broken_workfn);
	eth_hw_addr_set(ndev, mac);
	ndev->netdev_ops = &xenpv_net_ops;
	ndev->ethtool_ops = &xenpv_net_ethtool_ops;
	ndev->hw_features = NETIF_F_SG | NETIF_F_IP_CSUM | NETIF_F_IPV6_CSUM |
			    NETIF_F_TSO | NETIF_F_TSO6 | NETIF_F_RXCSUM;
	ndev->features = ndev->hw_features;
	ndev->min_mtu = ETH_MIN_MTU;
	ndev->max_mtu = XEN_NETIF_MAX_TX_SIZE - ETH_HLEN;
	netif_set_tso_max_size(ndev, XEN_NETIF_MAX_TX_SIZE - MAX_TCP_HEADER);
	SET_NETDEV_DEV(ndev, &xdev->dev);
	netif_carrier_off(ndev);
	rc = register_netdev(ndev);
	if (rc)
		goto err_free;
	dev_set_drvdata(&xdev->dev, info);
	rc = xenpv_xenbus_switch_state(xdev, XenbusStateInitialising);
	if (rc)
		goto err_unregister;
	return 0;

err_unregister:
	dev_set_drvdata(&xdev->dev, NULL);
	unregister_netdev(ndev);
err_free:
	free_netdev(ndev);
	return rc;
}

static void xenpv_net_remove(struct xenpv_device *xdev)
{
	struct xenpv_net_info *info = dev_get_drvdata(&xdev->dev);
	struct net_device *ndev = info->ndev;

	mutex_lock(&info->mutex);
	xenpv_net_teardown(info);
	mutex_unlock(&info->mutex);
	unregister_netdev(ndev);
	dev_set_drvdata(&xdev->dev, NULL);
	free_netdev(ndev);
}

static const struct xenpv_device_id xenpv_net_ids[] = {
	{ "vif" },
	{ "" }
};

static struct xenpv_driver xenpv_net_driver = {
	.name = "xenpv-vif",
	.ids = xenpv_net_ids,
	.probe = xenpv_net_probe,
	.otherend_changed = xenpv_net_otherend_changed,
	.remove = xenpv_net_remove,
};

static int __init xenpv_net_init(void)
{
	return xenpv_register_frontend(&xenpv_net_driver);
}

static void __exit xenpv_net_exit(void)
{
	xenpv_unregister_frontend(&xenpv_net_driver);
}

module_init(xenpv_net_init);
module_exit(xenpv_net_exit);

MODULE_DESCRIPTION("Xen virtual network device frontend (xenpv)");
MODULE_LICENSE("GPL");
MODULE_ALIAS("xenpv:vif");
XENPV_IMPORT_NS();
