// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: power off through SCHEDOP_shutdown.
 *
 * A module cannot take over x86's machine_ops (they are __ro_after_init),
 * but since 5.19 it can register a power-off handler: native power-off
 * runs the handler chain before ACPI's (SYS_OFF_PRIO_FIRMWARE), so with
 * xenpv loaded `poweroff` ends the domain with SHUTDOWN_poweroff. x86 never
 * runs the restart handler chain, so reboot keeps using the emulated reset
 * (ACPI or keyboard controller), which Xen's device model turns into a
 * domain reboot; control/reboot from the toolstack is handled by xenbus.
 */

#include <linux/notifier.h>
#include <linux/printk.h>
#include <linux/reboot.h>
#include <xen/interface/sched.h>

#include "pvops.h"

static struct sys_off_handler *xenpv_poweroff_handler;

/**
 * xenpv_shutdown() - ask Xen to shut this domain down
 * @reason: SHUTDOWN_poweroff, SHUTDOWN_reboot, ...
 *
 * Context: any; on success Xen deschedules the domain and this does not
 * return in practice.
 * Return: the hypercall's error.
 */
int xenpv_shutdown(unsigned int reason)
{
	struct sched_shutdown s = { .reason = reason };

	return xenpv_sched_op(SCHEDOP_shutdown, &s);
}

static int xenpv_power_off(struct sys_off_data *data)
{
	int rc;

	pr_info("xenpv: power off: SCHEDOP_shutdown(poweroff)\n");
	rc = xenpv_shutdown(SHUTDOWN_poweroff);

	pr_emerg("xenpv: SCHEDOP_shutdown(poweroff) failed: %d\n", rc);
	return NOTIFY_DONE;
}

/**
 * xenpv_power_init() - install the power-off handler
 *
 * Context: process context.
 * Return: 0 or a negative errno.
 */
int xenpv_power_init(void)
{
	xenpv_poweroff_handler =
		register_sys_off_handler(SYS_OFF_MODE_POWER_OFF,
					 SYS_OFF_PRIO_FIRMWARE + 1,
					 xenpv_power_off, NULL);
	if (IS_ERR(xenpv_poweroff_handler)) {
		int rc = PTR_ERR(xenpv_poweroff_handler);

		xenpv_poweroff_handler = NULL;
		return rc;
	}
	return 0;
}

/**
 * xenpv_power_exit() - remove the power-off handler
 *
 * Context: process context.
 */
void xenpv_power_exit(void)
{
	unregister_sys_off_handler(xenpv_poweroff_handler);
	xenpv_poweroff_handler = NULL;
}
