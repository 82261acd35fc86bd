/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv: the xenbus bus ("xenpv") and what frontends use of it.
 *
 * Every directory device/<type>/<id> in the guest's xenstore tree is a
 * device on the bus, named <type>-<id>. A frontend driver registers for
 * its types; the bus probes it with the backend's path and domain read
 * and checked, then calls otherend_changed() from the xenwatch thread
 * whenever the backend's state node takes a new value. Drivers react to
 * the state they see, not to transitions: a backend may skip states or
 * write the same one twice, and the bus passes on only real changes.
 *
 * Devices appear and disappear with their xenstore directories (hot-plug
 * and unplug), and modules load by alias: a device of type vbd asks udev
 * for "xenpv:vbd".
 */
#ifndef _XENPV_XENBUS_H
#define _XENPV_XENBUS_H

#include <linux/completion.h>
#include <linux/device.h>
#include <linux/mod_devicetable.h>
#include <linux/types.h>
#include <xen/interface/grant_table.h>
#include <xen/interface/io/xenbus.h>
#include <xen/interface/event_channel.h>
#include <xenpv/xenstore.h>

#define XENPV_DEVICETYPE_LEN	32

/**
 * struct xenpv_device - a device on the xenpv bus
 * @devicetype: "vbd", "vif", ...
 * @nodename: the frontend's directory, "device/<type>/<id>"
 * @otherend: the backend's directory, from <nodename>/backend
 * @otherend_id: the backend's domain, from <nodename>/backend-id
 * @state: our state as last written to <nodename>/state
 * @otherend_state: the backend's state as last passed to the driver
 * @otherend_watch: watch on <otherend>/state, while a driver is bound
 * @dev: the driver-model device
 */
struct xenpv_device {
	const char *devicetype;
	const char *nodename;
	const char *otherend;
	domid_t otherend_id;
	enum xenbus_state state;
	enum xenbus_state otherend_state;
	struct xenpv_xs_watch otherend_watch;
	struct device dev;
};

static inline struct xenpv_device *to_xenpv_device(struct device *dev)
{
	return container_of(dev, struct xenpv_device, dev);
}

/**
 * struct xenpv_device_id - a device type a driver handles
 * @devicetype: the xenstore type name ("vbd", "vif")
 */
struct xenpv_device_id {
	char devicetype[XENPV_DEVICETYPE_LEN];
};

/**
 * struct xenpv_driver - a frontend driver
 * @name: driver name
 * @ids: the types it handles, ending with an empty entry
 * @probe: bind to @dev; the backend path and domain are known and checked
 * @otherend_changed: the backend's state changed; runs in the xenwatch
 *	thread and may sleep, but must not wait for another watch
 * @otherend_rewritten: optional; the backend wrote its state node again
 *	with the same value (blkback does so to announce a new size); same
 *	context as @otherend_changed
 * @remove: unbind; the bus then writes state Closed
 * @driver: the driver-model driver
 */
struct xenpv_driver {
	const char *name;
	const struct xenpv_device_id *ids;
	int (*probe)(struct xenpv_device *dev,
		     const struct xenpv_device_id *id);
	void (*otherend_changed)(struct xenpv_device *dev,
				 enum xenbus_state backend_state);
	void (*otherend_rewritten)(struct xenpv_device *dev);
	void (*remove)(struct xenpv_device *dev);
	struct device_driver driver;
};

int __xenpv_register_frontend(struct xenpv_driver *drv, struct module *owner,
			      const char *mod_name);
#define xenpv_register_frontend(drv) \
	__xenpv_register_frontend(drv, THIS_MODULE, KBUILD_MODNAME)
void xenpv_unregister_frontend(struct xenpv_driver *drv);

/* For frontends: state, rings, event channels, errors. */
int xenpv_xenbus_switch_state(struct xenpv_device *dev,
			      enum xenbus_state state);
enum xenbus_state xenpv_xenbus_read_state(const char *path);
int xenpv_xenbus_setup_ring(struct xenpv_device *dev, unsigned int nr_pages,
			    void **vaddr, grant_ref_t *refs);
int xenpv_xenbus_alloc_evtchn(struct xenpv_device *dev, evtchn_port_t *port);
__printf(3, 4)
void xenpv_xenbus_dev_error(struct xenpv_device *dev, int err,
			    const char *fmt, ...);
__printf(3, 4)
void xenpv_xenbus_dev_fatal(struct xenpv_device *dev, int err,
			    const char *fmt, ...);
const char *xenpv_xenbus_strstate(enum xenbus_state state);

/**
 * struct xenpv_xenbus_key - a frontend key, or a numbered family of them
 * @name: the key, or the family's prefix ("ring-ref" for ring-ref0...)
 * @count: 0 for the key itself; else @name followed by 0 to @count - 1
 */
struct xenpv_xenbus_key {
	const char *name;
	unsigned int count;
};

int xenpv_xenbus_rm_keys(struct xenpv_xs_transaction t, const char *dir,
			 const struct xenpv_xenbus_key *keys, unsigned int n);

/* For xenpv.ko's platform code: after xenstore is connected. */
int xenpv_xenbus_init(void);
void xenpv_xenbus_exit(void);

#endif /* _XENPV_XENBUS_H */
