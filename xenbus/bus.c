// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: the xenbus bus.
 *
 * Devices mirror the directories device/<type>/<id> of the guest's
 * xenstore tree. They are found at start and, through a watch on device/,
 * added and removed as the toolstack attaches and detaches them. Names
 * read from xenstore are checked before they become device names or
 * paths: a type or id with characters outside [a-z0-9_-], or too long, is
 * ignored with a warning.
 *
 * Locking: xenpv_bus_lock serialises adding and removing devices (the
 * initial scan and the device/ watch). Driver binding is the driver
 * core's business. A device's otherend watch exists only while a driver
 * is bound; its callback runs in the xenwatch thread, one at a time.
 *
 * The device/ watch callback only queues the changed path: the devices
 * are added and removed by xenpv_bus_changes_work. Removing a device
 * takes its device lock, which a driver being unbound holds while its
 * bus remove waits, in xenpv_xs_unwatch(), for the running callback to
 * end; done in the callback, that would deadlock (a disk detached just
 * as its driver unloads).
 */

#include <linux/ctype.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>
#include <xenpv/compat.h>
#include <xenpv/xenbus.h>

#include "bus.h"

#define XENPV_BUS_ID_MAX	16	/* device/<type>/<id>: longest id */

/* Serialises device add and remove; see the comment at the top. */
static DEFINE_MUTEX(xenpv_bus_lock);

static bool xenpv_bus_running;

static const struct xenpv_device_id *
xenpv_bus_match_id(const struct xenpv_device_id *ids,
		   const struct xenpv_device *xdev)
{
	for (; ids && ids->devicetype[0]; ids++)
		if (!strcmp(ids->devicetype, xdev->devicetype))
			return ids;
	return NULL;
}

static int xenpv_bus_match(struct device *dev,
			   xenpv_match_const struct device_driver *drv)
{
	const struct xenpv_driver *xdrv =
		container_of(drv, struct xenpv_driver, driver);

	return !!xenpv_bus_match_id(xdrv->ids, to_xenpv_device(dev));
}

static int xenpv_bus_uevent(xenpv_uevent_const struct device *dev,
			    struct kobj_uevent_env *env)
{
	const struct xenpv_device *xdev =
		container_of(dev, struct xenpv_device, dev);

	if (add_uevent_var(env, "MODALIAS=xenpv:%s", xdev->devicetype) ||
	    add_uevent_var(env, "XENBUS_TYPE=%s", xdev->devicetype) ||
	    add_uevent_var(env, "XENBUS_PATH=%s", xdev->nodename))
		return -ENOMEM;
	return 0;
}

/*
 * Read and check <nodename>/backend and <nodename>/backend-id. The
 * toolstack writes them; a value that is no absolute path or no ordinary
 * domain id makes the device unusable, not the guest.
 */
static int xenpv_bus_read_otherend(struct xenpv_device *xdev)
{
	unsigned int domid;
	char *path;
	int rc;

	rc = xenpv_xs_scanf(XENPV_XBT_NIL, xdev->nodename, "backend-id", "%u",
			    &domid);
	if (rc != 1 || domid >= DOMID_FIRST_RESERVED) {
		dev_warn(&xdev->dev, "bad or missing backend-id\n");
		return -EINVAL;
	}
	path = xenpv_xs_read(XENPV_XBT_NIL, xdev->nodename, "backend", NULL);
	if (IS_ERR(path)) {
		dev_warn(&xdev->dev, "no backend path: %ld\n", PTR_ERR(path));
		return PTR_ERR(path);
	}
	if (path[0] != '/' || strlen(path) < 2) {
		dev_warn(&xdev->dev, "backend path is not absolute\n");
		kfree(path);
		return -EINVAL;
	}
	kfree(xdev->otherend);
	xdev->otherend = path;
	xdev->otherend_id = domid;
	return 0;
}

static void xenpv_bus_otherend_changed(struct xenpv_xs_watch *watch,
				       const char *path, const char *token)
{
	struct xenpv_device *xdev =
		container_of(watch, struct xenpv_device, otherend_watch);
	struct xenpv_driver *drv;
	enum xenbus_state state;

	state = xenpv_xenbus_read_state(xdev->otherend);
	drv = xdev->dev.driver ?
	      container_of(xdev->dev.driver, struct xenpv_driver, driver) : NULL;
	/* Backends rewrite the same state: changes and rewrites differ. */
	if (state == xdev->otherend_state) {
		if (drv && drv->otherend_rewritten)
			drv->otherend_rewritten(xdev);
		return;
	}
	dev_dbg(&xdev->dev, "backend %s -> %s\n",
		xenpv_xenbus_strstate(xdev->otherend_state),
		xenpv_xenbus_strstate(state));
	xdev->otherend_state = state;

	/*
	 * A frontend still Initialising has published nothing, so a backend
	 * Closing or Closed is finishing an earlier connection (the driver
	 * was reloaded). Closing too would leave both sides Closed: once the
	 * backend is Closed, ask again (Closed, then Initialising), which
	 * brings it back to InitWait. The driver has nothing to tear down.
	 */
	if (xdev->state == XenbusStateInitialising &&
	    (state == XenbusStateClosing || state == XenbusStateClosed)) {
		if (state == XenbusStateClosed) {
			xenpv_xenbus_switch_state(xdev, XenbusStateClosed);
			xenpv_xenbus_switch_state(xdev, XenbusStateInitialising);
		}
		return;
	}
	if (drv && drv->otherend_changed)
		drv->otherend_changed(xdev, state);
}

static int xenpv_bus_probe(struct device *dev)
{
	struct xenpv_device *xdev = to_xenpv_device(dev);
	struct xenpv_driver *drv =
		container_of(dev->driver, struct xenpv_driver, driver);
	const struct xenpv_device_id *id;
	char *watch_path;
	int rc;

	id = xenpv_bus_match_id(drv->ids, xdev);
	if (!id)
		return -ENODEV;
	rc = xenpv_bus_read_otherend(xdev);
	if (rc)
		return rc;

	watch_path = kasprintf(GFP_KERNEL, "%s/state", xdev->otherend);
	if (!watch_path)
		return -ENOMEM;
	xdev->otherend_watch.path = watch_path;
	xdev->otherend_watch.callback = xenpv_bus_otherend_changed;
	xdev->otherend_state = XenbusStateUnknown;
	/* A device we closed before (module reload) starts over. */
	xdev->state = xenpv_xenbus_read_state(xdev->nodename);

	rc = drv->probe(xdev, id);
	if (rc)
		goto err_free_path;
	/* The watch fires once at once: the driver sees the current state. */
	rc = xenpv_xs_watch(&xdev->otherend_watch);
	if (rc) {
		dev_err(dev, "cannot watch %s: %d\n", watch_path, rc);
		goto err_remove;
	}
	return 0;

err_remove:
	if (drv->remove)
		drv->remove(xdev);
err_free_path:
	xdev->otherend_watch.path = NULL;
	kfree(watch_path);
	return rc;
}

static void xenpv_bus_remove(struct device *dev)
{
	struct xenpv_device *xdev = to_xenpv_device(dev);
	struct xenpv_driver *drv =
		container_of(dev->driver, struct xenpv_driver, driver);

	/* After this no otherend_changed() runs or will run. */
	xenpv_xs_unwatch(&xdev->otherend_watch);
	if (drv->remove)
		drv->remove(xdev);
	kfree(xdev->otherend_watch.path);
	xdev->otherend_watch.path = NULL;
	xenpv_xenbus_switch_state(xdev, XenbusStateClosed);
}

static ssize_t nodename_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "%s\n", to_xenpv_device(dev)->nodename);
}
static DEVICE_ATTR_RO(nodename);

static ssize_t devtype_show(struct device *dev, struct device_attribute *attr,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", to_xenpv_device(dev)->devicetype);
}
static DEVICE_ATTR_RO(devtype);

static ssize_t modalias_show(struct device *dev, struct device_attribute *attr,
			     char *buf)
{
	return sysfs_emit(buf, "xenpv:%s\n", to_xenpv_device(dev)->devicetype);
}
static DEVICE_ATTR_RO(modalias);

/* Read from xenstore on each access: the backend's state as it is now. */
static ssize_t otherend_state_show(struct device *dev,
				   struct device_attribute *attr, char *buf)
{
	struct xenpv_device *xdev = to_xenpv_device(dev);
	enum xenbus_state state = XenbusStateUnknown;
	char *path;

	path = xenpv_xs_read(XENPV_XBT_NIL, xdev->nodename, "backend", NULL);
	if (!IS_ERR(path)) {
		if (path[0] == '/')
			state = xenpv_xenbus_read_state(path);
		kfree(path);
	}
	return sysfs_emit(buf, "%s\n", xenpv_xenbus_strstate(state));
}
static DEVICE_ATTR_RO(otherend_state);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct xenpv_device *xdev = to_xenpv_device(dev);
	enum xenbus_state state = xenpv_xenbus_read_state(xdev->nodename);

	return sysfs_emit(buf, "%s\n", xenpv_xenbus_strstate(state));
}
static DEVICE_ATTR_RO(state);

static struct attribute *xenpv_dev_attrs[] = {
	&dev_attr_nodename.attr,
	&dev_attr_devtype.attr,
	&dev_attr_modalias.attr,
	&dev_attr_state.attr,
	&dev_attr_otherend_state.attr,
	NULL,
};
ATTRIBUTE_GROUPS(xenpv_dev);

static xenpv_bus_type_t xenpv_bus_type = {
	.name = "xenpv",
	.match = xenpv_bus_match,
	.uevent = xenpv_bus_uevent,
	.probe = xenpv_bus_probe,
	.remove = xenpv_bus_remove,
	.dev_groups = xenpv_dev_groups,
};

static void xenpv_dev_release(struct device *dev)
{
	struct xenpv_device *xdev = to_xenpv_device(dev);

	kfree(xdev->otherend);
	kfree(xdev->nodename);
	kfree(xdev->devicetype);
	kfree(xdev);
}

/* A type or id from xenstore: short, and safe in a path and a name. */
static bool xenpv_bus_name_ok(const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	if (!n || n == max)
		return false;
	for (; *s; s++)
		if (!(islower(*s) || isdigit(*s) || *s == '-' || *s == '_'))
			return false;
	return true;
}

static int xenpv_bus_match_nodename(struct device *dev, const void *data)
{
	return !strcmp(to_xenpv_device(dev)->nodename, data);
}

/**
 * xenpv_bus_find() - the device of a xenstore directory
 * @nodename: "device/<type>/<id>"
 *
 * Context: process context.
 * Return: the device with a reference held (put_device() it), or NULL.
 */
struct xenpv_device *xenpv_bus_find(const char *nodename)
{
	struct device *dev;

	dev = bus_find_device(&xenpv_bus_type, NULL, nodename,
			      xenpv_bus_match_nodename);
	return dev ? to_xenpv_device(dev) : NULL;
}

/* Called with xenpv_bus_lock held. */
static int xenpv_bus_add(const char *type, const char *id)
{
	struct xenpv_device *xdev, *old;
	int rc;

	if (!xenpv_bus_name_ok(type, XENPV_DEVICETYPE_LEN) ||
	    !xenpv_bus_name_ok(id, XENPV_BUS_ID_MAX)) {
		pr_warn_ratelimited("xenpv: ignoring device/%.32s/%.16s: bad name\n",
				    type, id);
		return -EINVAL;
	}
	xdev = kzalloc(sizeof(*xdev), GFP_KERNEL);
	if (!xdev)
		return -ENOMEM;
	xdev->devicetype = kstrdup(type, GFP_KERNEL);
	xdev->nodename = kasprintf(GFP_KERNEL, "device/%s/%s", type, id);
	if (!xdev->devicetype || !xdev->nodename) {
		kfree(xdev->devicetype);
		kfree(xdev->nodename);
		kfree(xdev);
		return -ENOMEM;
	}

	old = xenpv_bus_find(xdev->nodename);
	if (old) {
		put_device(&old->dev);
		kfree(xdev->devicetype);
		kfree(xdev->nodename);
		kfree(xdev);
		return 0;
	}

	xdev->state = XenbusStateUnknown;
	xdev->otherend_state = XenbusStateUnknown;
	xdev->dev.bus = &xenpv_bus_type;
	xdev->dev.release = xenpv_dev_release;
	device_initialize(&xdev->dev);
	rc = dev_set_name(&xdev->dev, "%s-%s", type, id);
	if (!rc)
		rc = device_add(&xdev->dev);
	if (rc) {
		pr_warn("xenpv: adding device/%s/%s failed: %d\n", type, id, rc);
		put_device(&xdev->dev);
	}
	return rc;
}

/* Called with xenpv_bus_lock held. */
static void xenpv_bus_del(struct xenpv_device *xdev)
{
	device_unregister(&xdev->dev);
}

static void xenpv_bus_scan_type(const char *type)
{
	unsigned int i, n;
	char **ids;

	ids = xenpv_xs_directory(XENPV_XBT_NIL, "device", type, &n);
	if (IS_ERR(ids))
		return;
	for (i = 0; i < n; i++)
		xenpv_bus_add(type, ids[i]);
	kfree(ids);
}

static void xenpv_bus_scan(void)
{
	unsigned int i, n;
	char **types;

	types = xenpv_xs_directory(XENPV_XBT_NIL, "device", "", &n);
	if (IS_ERR(types))
		return;
	mutex_lock(&xenpv_bus_lock);
	for (i = 0; i < n; i++)
		xenpv_bus_scan_type(types[i]);
	mutex_unlock(&xenpv_bus_lock);
	kfree(types);
}

/* A device/<type>/<id> whose directory changed, waiting for the work. */
struct xenpv_bus_change {
	struct list_head node;
	char type[XENPV_DEVICETYPE_LEN];
	char id[XENPV_BUS_ID_MAX + 1];
};

/* Protects xenpv_bus_changes; taken without xenpv_bus_lock. */
static DEFINE_SPINLOCK(xenpv_bus_changes_lock);
static LIST_HEAD(xenpv_bus_changes);

/*
 * Add the device if its directory exists and we do not have it, remove it
 * if it is gone.
 */
static void xenpv_bus_apply(const char *type, const char *id)
{
	struct xenpv_device *xdev;
	char *nodename;

	nodename = kasprintf(GFP_KERNEL, "device/%s/%s", type, id);
	if (!nodename)
		return;
	mutex_lock(&xenpv_bus_lock);
	if (xenpv_bus_running) {
		xdev = xenpv_bus_find(nodename);
		if (xenpv_xs_exists(XENPV_XBT_NIL, nodename, "")) {
			if (!xdev)
				xenpv_bus_add(type, id);
		} else if (xdev) {
			dev_info(&xdev->dev, "removed from xenstore\n");
			xenpv_bus_del(xdev);
		}
		if (xdev)
			put_device(&xdev->dev);
	}
	mutex_unlock(&xenpv_bus_lock);
	kfree(nodename);
}

static void xenpv_bus_changes_workfn(struct work_struct *work)
{
	struct xenpv_bus_change *c;

	for (;;) {
		spin_lock(&xenpv_bus_changes_lock);
		c = list_first_entry_or_null(&xenpv_bus_changes,
					     struct xenpv_bus_change, node);
		if (c)
			list_del(&c->node);
		spin_unlock(&xenpv_bus_changes_lock);
		if (!c)
			break;
		xenpv_bus_apply(c->type, c->id);
		kfree(c);
	}
}

static DECLARE_WORK(xenpv_bus_changes_work, xenpv_bus_changes_workfn);

/* Drop queued changes (the watch is gone and the work cancelled). */
static void xenpv_bus_changes_drop(void)
{
	struct xenpv_bus_change *c, *tmp;

	spin_lock(&xenpv_bus_changes_lock);
	list_for_each_entry_safe(c, tmp, &xenpv_bus_changes, node) {
		list_del(&c->node);
		kfree(c);
	}
	spin_unlock(&xenpv_bus_changes_lock);
}

/*
 * device/ changed: @path is device/<type>[/<id>[/...]]. Queue the device
 * for xenpv_bus_changes_work (see the comment at the top).
 */
static void xenpv_bus_devices_changed(struct xenpv_xs_watch *watch,
				      const char *path, const char *token)
{
	char buf[64], *p = buf, *type, *id;
	struct xenpv_bus_change *c;

	/*
	 * Only "device/<type>/<id>" matters: a longer path may be cut. A
	 * valid type and id always fit; a cut, overlong one fails the name
	 * check below.
	 */
	strscpy(buf, path, sizeof(buf));
	if (!strsep(&p, "/") || !p)	/* "device" */
		return;
	type = strsep(&p, "/");
	id = p ? strsep(&p, "/") : NULL;
	if (!type || !id || !*id)
		return;
	if (!xenpv_bus_name_ok(type, XENPV_DEVICETYPE_LEN) ||
	    !xenpv_bus_name_ok(id, XENPV_BUS_ID_MAX))
		return;
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return;
	strscpy(c->type, type, sizeof(c->type));
	strscpy(c->id, id, sizeof(c->id));
	spin_lock(&xenpv_bus_changes_lock);
	list_add_tail(&c->node, &xenpv_bus_changes);
	spin_unlock(&xenpv_bus_changes_lock);
	schedule_work(&xenpv_bus_changes_work);
}

static struct xenpv_xs_watch xenpv_bus_devices_watch = {
	.path = "device",
	.callback = xenpv_bus_devices_changed,
};

/**
 * __xenpv_register_frontend() - register a frontend driver
 * @drv: the driver; @drv->name, @drv->ids and @drv->probe must be set
 * @owner: its module
 * @mod_name: its module's name
 *
 * Use xenpv_register_frontend(). Devices present are probed at once.
 *
 * Context: process context.
 * Return: 0 or a negative errno.
 */
int __xenpv_register_frontend(struct xenpv_driver *drv, struct module *owner,
			      const char *mod_name)
{
	drv->driver.name = drv->name;
	drv->driver.bus = &xenpv_bus_type;
	drv->driver.owner = owner;
	drv->driver.mod_name = mod_name;
	return driver_register(&drv->driver);
}

XENPV_EXPORT(__xenpv_register_frontend);

/**
 * xenpv_unregister_frontend() - unregister a frontend driver
 * @drv: the driver
 *
 * Its devices are removed from it first (remove(), then state Closed).
 *
 * Context: process context.
 */
void xenpv_unregister_frontend(struct xenpv_driver *drv)
{
	driver_unregister(&drv->driver);
}

XENPV_EXPORT(xenpv_unregister_frontend);

static int xenpv_bus_del_one(struct device *dev, void *data)
{
	xenpv_bus_del(to_xenpv_device(dev));
	return 0;
}

/**
 * xenpv_xenbus_init() - start the bus: register it, start control/ and
 *	/dev/xen/xenbus, scan device/ and watch it
 *
 * Context: process context, after xenpv_xs_init().
 * Return: 0 or a negative errno.
 */
int xenpv_xenbus_init(void)
{
	int rc;

	rc = bus_register(&xenpv_bus_type);
	if (rc)
		return rc;
	rc = xenpv_control_init();
	if (rc)
		goto err_bus;
	rc = xenpv_xsdev_init();
	if (rc)
		goto err_control;

	mutex_lock(&xenpv_bus_lock);
	xenpv_bus_running = true;
	mutex_unlock(&xenpv_bus_lock);
	xenpv_bus_scan();
	rc = xenpv_xs_watch(&xenpv_bus_devices_watch);
	if (rc)
		goto err_devices;
	return 0;

err_devices:
	cancel_work_sync(&xenpv_bus_changes_work);
	xenpv_bus_changes_drop();
	mutex_lock(&xenpv_bus_lock);
	xenpv_bus_running = false;
	bus_for_each_dev(&xenpv_bus_type, NULL, NULL, xenpv_bus_del_one);
	mutex_unlock(&xenpv_bus_lock);
	xenpv_xsdev_exit();
err_control:
	xenpv_control_exit();
err_bus:
	bus_unregister(&xenpv_bus_type);
	return rc;
}

/**
 * xenpv_xenbus_exit() - stop the bus: remove every device, then the bus
 *
 * Context: process context, before xenpv_xs_exit(). No frontend module
 * can be loaded (they depend on xenpv.ko).
 */
void xenpv_xenbus_exit(void)
{
	xenpv_xs_unwatch(&xenpv_bus_devices_watch);
	cancel_work_sync(&xenpv_bus_changes_work);
	xenpv_bus_changes_drop();
	mutex_lock(&xenpv_bus_lock);
	xenpv_bus_running = false;
	bus_for_each_dev(&xenpv_bus_type, NULL, NULL, xenpv_bus_del_one);
	mutex_unlock(&xenpv_bus_lock);
	xenpv_xsdev_exit();
	xenpv_control_exit();
	bus_unregister(&xenpv_bus_type);
}
