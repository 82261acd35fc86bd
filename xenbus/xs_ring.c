// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: the xenstore ring (xs_wire.h, Xen's docs/misc/xenstore-ring.txt).
 *
 * The page holds two 1 KiB byte rings: req (guest to xenstored) and rsp
 * (xenstored to guest). Each has a producer and a consumer index; they run
 * freely as u32 and are masked with MASK_XENSTORE_IDX() to address the
 * ring, so prod - cons is the number of bytes in flight. The side that
 * owns an index is the only one that writes it.
 *
 * xenstored is another domain: every index it writes is read once, and
 * checked. prod - cons greater than the ring size can only come from a
 * broken or hostile peer; the functions here then return -EIO and change
 * nothing, and the caller gives up on the connection.
 *
 * Barriers are virt_*(): the peer runs on other physical CPUs even when
 * this kernel is built for one.
 */

#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <asm/barrier.h>

#include "xenbus.h"

/**
 * xenpv_xs_ring_attach() - start using a ring page
 * @r: our view of the ring
 * @intf: the mapped page
 *
 * Takes over the indices the page holds: a previous user (the firmware,
 * an earlier load of xenpv) may have used the ring. Replies still unread
 * were meant for that user and are skipped; requests it left unconsumed
 * stay, and their replies will match no request of ours.
 *
 * Context: any; before the ring is used.
 * Return: the bytes of replies skipped (>= 0), or -EIO if the indices
 * are impossible (then the ring must not be used).
 */
int xenpv_xs_ring_attach(struct xenpv_xs_ring *r,
			 struct xenstore_domain_interface *intf)
{
	u32 req_prod = READ_ONCE(intf->req_prod);
	u32 rsp_cons = READ_ONCE(intf->rsp_cons);
	u32 rsp_prod = READ_ONCE(intf->rsp_prod);

	r->intf = intf;
	r->req_prod = req_prod;
	r->rsp_cons = rsp_cons;
	if (req_prod - READ_ONCE(intf->req_cons) > XENSTORE_RING_SIZE ||
	    rsp_prod - rsp_cons > XENSTORE_RING_SIZE)
		return -EIO;
	if (rsp_prod == rsp_cons)
		return 0;
	/* Done with the bytes we skip before giving their room back. */
	virt_mb();
	WRITE_ONCE(intf->rsp_cons, rsp_prod);
	r->rsp_cons = rsp_prod;
	return rsp_prod - rsp_cons;
}

/**
 * xenpv_xs_ring_write() - copy bytes into the request ring
 * @r: the ring
 * @data: the bytes
 * @len: how many
 *
 * Copies as much of @data as fits and publishes it; the caller notifies
 * xenstored and calls again for the rest.
 *
 * Context: any; callers serialise writes to one ring.
 * Return: the bytes written (0 when the ring is full), or -EIO if
 * xenstored's consumer index is impossible.
 */
int xenpv_xs_ring_write(struct xenpv_xs_ring *r, const void *data,
			unsigned int len)
{
	struct xenstore_domain_interface *intf = r->intf;
	u32 prod = r->req_prod;
	unsigned int done = 0;
	u32 cons, used;

	cons = READ_ONCE(intf->req_cons);
	used = prod - cons;
	if (used > XENSTORE_RING_SIZE)
		return -EIO;
	/* Read req_cons before reusing the bytes it gave back. */
	virt_mb();
	while (done < len && used < XENSTORE_RING_SIZE) {
		u32 off = MASK_XENSTORE_IDX(prod);
		u32 chunk = min3(len - done, XENSTORE_RING_SIZE - used,
				 XENSTORE_RING_SIZE - off);

		memcpy(intf->req + off, data + done, chunk);
		done += chunk;
		prod += chunk;
		used += chunk;
	}
	if (!done)
		return 0;
	/* The bytes before the index that announces them. */
	virt_wmb();
	WRITE_ONCE(intf->req_prod, prod);
	r->req_prod = prod;
	return done;
}

/**
 * xenpv_xs_ring_read() - copy bytes out of the reply ring
 * @r: the ring
 * @data: where to
 * @len: at most this many
 *
 * Copies what is there, up to @len bytes, and gives the space back; the
 * caller notifies xenstored, which may be waiting for room.
 *
 * Context: any; callers serialise reads of one ring.
 * Return: the bytes read (0 when the ring is empty), or -EIO if
 * xenstored's producer index is impossible.
 */
int xenpv_xs_ring_read(struct xenpv_xs_ring *r, void *data, unsigned int len)
{
	struct xenstore_domain_interface *intf = r->intf;
	u32 cons = r->rsp_cons;
	unsigned int done = 0;
	u32 prod, avail;

	prod = READ_ONCE(intf->rsp_prod);
	avail = prod - cons;
	if (avail > XENSTORE_RING_SIZE)
		return -EIO;
	/* Read rsp_prod before the bytes it announces. */
	virt_rmb();
	while (done < len && avail) {
		u32 off = MASK_XENSTORE_IDX(cons);
		u32 chunk = min3(len - done, avail, XENSTORE_RING_SIZE - off);

		memcpy(data + done, intf->rsp + off, chunk);
		done += chunk;
		cons += chunk;
		avail -= chunk;
	}
	if (!done)
		return 0;
	/* Finish reading the bytes before giving their room back. */
	virt_mb();
	WRITE_ONCE(intf->rsp_cons, cons);
	r->rsp_cons = cons;
	return done;
}

/**
 * xenpv_xs_ring_writable() - may a writer make progress?
 * @r: the ring
 *
 * Context: any.
 * Return: true if the request ring has room, or if its indices are
 * impossible (the next write reports that).
 */
bool xenpv_xs_ring_writable(struct xenpv_xs_ring *r)
{
	u32 used = r->req_prod - READ_ONCE(r->intf->req_cons);

	return used != XENSTORE_RING_SIZE;
}

/**
 * xenpv_xs_ring_readable() - may a reader make progress?
 * @r: the ring
 *
 * Context: any.
 * Return: true if the reply ring holds bytes, or if its indices are
 * impossible (the next read reports that).
 */
bool xenpv_xs_ring_readable(struct xenpv_xs_ring *r)
{
	return READ_ONCE(r->intf->rsp_prod) != r->rsp_cons;
}
