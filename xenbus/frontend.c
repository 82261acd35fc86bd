// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: helpers for frontend drivers on the xenbus bus: switching state,
 * setting up rings and event channels, and reporting errors where the
 * toolstack looks for them (error/<nodename>/error).
 */

#include <linux/ctype.h>
#include <linux/kstrtox.h>
#include <linux/slab.h>
#include <linux/stdarg.h>
#include <xenpv/compat.h>
#include <xenpv/events.h>
#include <xenpv/grant.h>
#include <xenpv/xenbus.h>

#include "bus.h"

#define XENPV_ERROR_MSG_MAX	256

static const char *const xenpv_state_names[] = {
	[XenbusStateUnknown] = "Unknown",
	[XenbusStateInitialising] = "Initialising",
	[XenbusStateInitWait] = "InitWait",
	[XenbusStateInitialised] = "Initialised",
	[XenbusStateConnected] = "Connected",
	[XenbusStateClosing] = "Closing",
	[XenbusStateClosed] = "Closed",
	[XenbusStateReconfiguring] = "Reconfiguring",
	[XenbusStateReconfigured] = "Reconfigured",
};

/**
 * xenpv_xenbus_strstate() - the name of a xenbus state
 * @state: the state
 *
 * Context: any.
 * Return: a constant string; "Invalid" for a value outside the enum.
 */
const char *xenpv_xenbus_strstate(enum xenbus_state state)
{
	if ((unsigned int)state >= ARRAY_SIZE(xenpv_state_names))
		return "Invalid";
	return xenpv_state_names[state];
}

XENPV_EXPORT(xenpv_xenbus_strstate);

/**
 * xenpv_xenbus_read_state() - read <path>/state
 * @path: a frontend or backend directory
 *
 * Context: process context; sleeps.
 * Return: the state, or XenbusStateUnknown if the node is missing or holds
 * anything but a known state number.
 */
enum xenbus_state xenpv_xenbus_read_state(const char *path)
{
	int state;

	if (xenpv_xs_scanf(XENPV_XBT_NIL, path, "state", "%d", &state) != 1)
		return XenbusStateUnknown;
	if (state < XenbusStateUnknown || state > XenbusStateReconfigured)
		return XenbusStateUnknown;
	return state;
}

XENPV_EXPORT(xenpv_xenbus_read_state);

struct xenpv_switch_arg {
	struct xenpv_device *dev;
	enum xenbus_state state;
};

static int xenpv_switch_body(struct xenpv_xs_transaction t, void *data)
{
	struct xenpv_switch_arg *a = data;

	/* Never recreate the directory of a device the toolstack removed. */
	if (!xenpv_xs_exists(t, a->dev->nodename, ""))
		return -ENOENT;
	return xenpv_xs_printf(t, a->dev->nodename, "state", "%d", a->state);
}

/**
 * xenpv_xenbus_switch_state() - write our state to <nodename>/state
 * @dev: the device
 * @state: the new state
 *
 * Does nothing if @state is already ours. Writes inside a transaction
 * that checks the device directory still exists.
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno (the device keeps its old state then).
 */
int xenpv_xenbus_switch_state(struct xenpv_device *dev,
			      enum xenbus_state state)
{
	struct xenpv_switch_arg a = { .dev = dev, .state = state };
	int rc;

	if (state == dev->state)
		return 0;
	rc = xenpv_xs_transact(xenpv_switch_body, &a);
	if (rc) {
		if (rc != -ENOENT)
			dev_warn(&dev->dev, "writing state %s failed: %d\n",
				 xenpv_xenbus_strstate(state), rc);
		return rc;
	}
	dev->state = state;
	return 0;
}

XENPV_EXPORT(xenpv_xenbus_switch_state);

/**
 * xenpv_xenbus_setup_ring() - allocate a shared ring and grant it to the
 *	backend
 * @dev: the device
 * @nr_pages: pages in the ring (a power of two for the ring macros)
 * @vaddr: the zeroed, contiguous ring, on success
 * @refs: @nr_pages grant references, on success
 *
 * Undo with xenpv_grant_ring_free(). Reports a fatal error on failure.
 *
 * Context: process context; sleeps.
 * Return: 0 or a negative errno.
 */
int xenpv_xenbus_setup_ring(struct xenpv_device *dev, unsigned int nr_pages,
			    void **vaddr, grant_ref_t *refs)
{
	int rc;

	rc = xenpv_grant_ring_alloc(dev->otherend_id, nr_pages, GFP_KERNEL,
				    vaddr, refs);
	if (rc)
		xenpv_xenbus_dev_fatal(dev, rc, "granting a %u-page ring",
				       nr_pages);
	return rc;
}

XENPV_EXPORT(xenpv_xenbus_setup_ring);

/**
 * xenpv_xenbus_alloc_evtchn() - allocate an event channel for the backend
 * @dev: the device
 * @port: the new port, unbound until the backend binds it
 *
 * Reports a fatal error on failure. Once bound with
 * xenpv_bind_evtchn_to_irqhandler(), unbinding the IRQ closes the port;
 * a port that is never bound must be closed with xenpv_evtchn_close().
 *
 * Context: process context.
 * Return: 0 or a negative errno.
 */
int xenpv_xenbus_alloc_evtchn(struct xenpv_device *dev, evtchn_port_t *port)
{
	int rc = xenpv_evtchn_alloc_unbound(dev->otherend_id, port);

	if (rc)
		xenpv_xenbus_dev_fatal(dev, rc, "allocating an event channel");
	return rc;
}

XENPV_EXPORT(xenpv_xenbus_alloc_evtchn);

static __printf(3, 0)
void xenpv_xenbus_va_error(struct xenpv_device *dev, int err,
			   const char *fmt, va_list ap)
{
	char *msg, *path;
	int n;

	msg = kmalloc(XENPV_ERROR_MSG_MAX, GFP_KERNEL);
	if (!msg)
		return;
	n = scnprintf(msg, XENPV_ERROR_MSG_MAX, "%i ", -err);
	vscnprintf(msg + n, XENPV_ERROR_MSG_MAX - n, fmt, ap);
	dev_err(&dev->dev, "%s\n", msg);

	path = kasprintf(GFP_KERNEL, "error/%s", dev->nodename);
	if (path && xenpv_xs_write(XENPV_XBT_NIL, path, "error", msg))
		dev_err(&dev->dev, "cannot write %s/error\n", path);
	kfree(path);
	kfree(msg);
}

/**
 * xenpv_xenbus_dev_error() - report an error to the log and to xenstore
 * @dev: the device
 * @err: a negative errno
 * @fmt: what was being done, printf style
 *
 * Context: process context; sleeps.
 */
void xenpv_xenbus_dev_error(struct xenpv_device *dev, int err,
			    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xenpv_xenbus_va_error(dev, err, fmt, ap);
	va_end(ap);
}

XENPV_EXPORT(xenpv_xenbus_dev_error);

/**
 * xenpv_xenbus_dev_fatal() - report an error and start closing the device
 * @dev: the device
 * @err: a negative errno
 * @fmt: what was being done, printf style
 *
 * Context: process context; sleeps.
 */
void xenpv_xenbus_dev_fatal(struct xenpv_device *dev, int err,
			    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	xenpv_xenbus_va_error(dev, err, fmt, ap);
	va_end(ap);
	xenpv_xenbus_switch_state(dev, XenbusStateClosing);
}

XENPV_EXPORT(xenpv_xenbus_dev_fatal);

/* Is @name one of @keys: a key itself, or a family's prefix and a number? */
static bool xenpv_xenbus_key_listed(const char *name,
				    const struct xenpv_xenbus_key *keys,
				    unsigned int n)
{
	unsigned int i, nr;
	size_t len;

	for (i = 0; i < n; i++) {
		if (!keys[i].count) {
			if (!strcmp(name, keys[i].name))
				return true;
			continue;
		}
		len = strlen(keys[i].name);
		if (!strncmp(name, keys[i].name, len) && isdigit(name[len]) &&
		    !kstrtouint(name + len, 10, &nr) && nr < keys[i].count)
			return true;
	}
	return false;
}

/**
 * xenpv_xenbus_rm_keys() - remove keys an earlier connection left
 * @t: the transaction that publishes the new connection
 * @dir: the frontend's directory
 * @keys: the keys and numbered families to remove
 * @n: entries in @keys
 *
 * A frontend's directory outlives its driver: after a reload with other
 * parameters (fewer ring pages, one queue instead of several) the keys of
 * the old layout are still there, and a backend that finds them uses them
 * instead of the new ones. Remove every key the new layout does not write
 * in the transaction that writes the new ones. The directory is listed
 * once and only the keys found are removed.
 *
 * Context: process context; sleeps.
 * Return: 0, or the first error of listing @dir or of xenpv_xs_rm().
 */
int xenpv_xenbus_rm_keys(struct xenpv_xs_transaction t, const char *dir,
			 const struct xenpv_xenbus_key *keys, unsigned int n)
{
	unsigned int i, nr;
	char **names;
	int rc = 0;

	names = xenpv_xs_directory(t, dir, "", &nr);
	if (IS_ERR(names))
		return PTR_ERR(names);
	for (i = 0; i < nr && !rc; i++)
		if (xenpv_xenbus_key_listed(names[i], keys, n))
			rc = xenpv_xs_rm(t, dir, names[i]);
	kfree(names);
	return rc;
}

XENPV_EXPORT(xenpv_xenbus_rm_keys);
