/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv xenbus/: internals shared by the bus, the frontend helpers and
 * control/. Not an API for other modules.
 */
#ifndef _XENPV_XENBUS_BUS_H
#define _XENPV_XENBUS_BUS_H

#include <linux/types.h>

/**
 * struct xenpv_control_ops - what control/ requests make the guest do
 * @poweroff: orderly power-off (control/shutdown = poweroff or halt)
 * @reboot: orderly reboot (control/shutdown = reboot)
 * @sysrq: a magic SysRq key (control/sysrq)
 *
 * The KUnit suites install their own, so that a test does not power off
 * the kernel it runs in.
 */
struct xenpv_control_ops {
	void (*poweroff)(void);
	void (*reboot)(void);
	void (*sysrq)(u8 key);
};

extern const struct xenpv_control_ops *xenpv_control_ops;

struct xenpv_device;

struct xenpv_device *xenpv_bus_find(const char *nodename);

int xenpv_xsdev_init(void);
void xenpv_xsdev_exit(void);

int xenpv_control_init(void);
void xenpv_control_exit(void);
int xenpv_control_handle_shutdown(void);
int xenpv_control_handle_sysrq(void);

#endif /* _XENPV_XENBUS_BUS_H */
