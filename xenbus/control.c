// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: control/, where the toolstack asks the guest to shut down
 * (xl shutdown, xl reboot) and to handle a SysRq key (xl sysrq).
 *
 * control/shutdown holds a command; the guest acknowledges it by writing
 * the empty string in the same transaction that read it, then acts.
 * poweroff and halt power the guest off, reboot reboots it, both in an
 * orderly way (user space shuts down first). suspend is refused: xenpv
 * cannot suspend yet, so it advertises no feature-suspend, and the
 * toolstack's request times out with a message in the guest's log.
 *
 * control/sysrq holds one key; the guest clears the node, then handles
 * the key as if typed on a console.
 */

#include <linux/printk.h>
#include <linux/reboot.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/sysrq.h>
#include <xenpv/xenstore.h>

#include "bus.h"

enum xenpv_shutdown_action {
	XENPV_ACT_POWEROFF,
	XENPV_ACT_REBOOT,
	XENPV_ACT_UNSUPPORTED,
};

static const struct {
	const char *command;
	enum xenpv_shutdown_action action;
} xenpv_shutdown_commands[] = {
	{ "poweroff", XENPV_ACT_POWEROFF },
	{ "halt", XENPV_ACT_POWEROFF },
	{ "reboot", XENPV_ACT_REBOOT },
	{ "suspend", XENPV_ACT_UNSUPPORTED },
	{ "s3", XENPV_ACT_UNSUPPORTED },
	{ "s4", XENPV_ACT_UNSUPPORTED },
};

/* What the guest tells the toolstack it can do (a failed write is fine). */
static const char *const xenpv_control_features[] = {
	"feature-poweroff",
	"feature-reboot",
};

static void xenpv_do_poweroff(void)
{
	orderly_poweroff(false);
}

static void xenpv_do_reboot(void)
{
	orderly_reboot();
}

static void xenpv_do_sysrq(u8 key)
{
#ifdef CONFIG_MAGIC_SYSRQ
	handle_sysrq(key);
#else
	pr_warn("xenpv: control/sysrq '%c' ignored: no CONFIG_MAGIC_SYSRQ\n",
		key);
#endif
}

static const struct xenpv_control_ops xenpv_control_real = {
	.poweroff = xenpv_do_poweroff,
	.reboot = xenpv_do_reboot,
	.sysrq = xenpv_do_sysrq,
};

/* Replaced only by the KUnit suites, while control/ is stopped. */
const struct xenpv_control_ops *xenpv_control_ops = &xenpv_control_real;

/* Read @node and clear it in one transaction; the value, or NULL. */
struct xenpv_control_take {
	const char *node;
	char *value;
};

static int xenpv_control_take_body(struct xenpv_xs_transaction t, void *arg)
{
	struct xenpv_control_take *take = arg;
	char *v;

	kfree(take->value);
	take->value = NULL;
	v = xenpv_xs_read(t, "control", take->node, NULL);
	if (IS_ERR(v))
		return PTR_ERR(v);
	if (!*v) {
		kfree(v);
		return 0;
	}
	take->value = v;
	return xenpv_xs_write(t, "control", take->node, "");
}

static char *xenpv_control_take(const char *node)
{
	struct xenpv_control_take take = { .node = node };
	int rc;

	rc = xenpv_xs_transact(xenpv_control_take_body, &take);
	if (rc) {
		if (rc != -ENOENT)
			pr_warn("xenpv: control/%s: %d\n", node, rc);
		kfree(take.value);
		return NULL;
	}
	return take.value;
}

/**
 * xenpv_control_handle_shutdown() - act on control/shutdown
 *
 * Context: process context (the xenwatch thread); sleeps.
 * Return: the action taken (enum xenpv_shutdown_action), -ENOENT if there
 * was no request, -EINVAL for an unknown one.
 */
int xenpv_control_handle_shutdown(void)
{
	char *cmd = xenpv_control_take("shutdown");
	unsigned int i;
	int act = -EINVAL;

	if (!cmd)
		return -ENOENT;
	for (i = 0; i < ARRAY_SIZE(xenpv_shutdown_commands); i++)
		if (!strcmp(cmd, xenpv_shutdown_commands[i].command))
			act = xenpv_shutdown_commands[i].action;

	switch (act) {
	case XENPV_ACT_POWEROFF:
		pr_info("xenpv: control/shutdown: %s\n", cmd);
		xenpv_control_ops->poweroff();
		break;
	case XENPV_ACT_REBOOT:
		pr_info("xenpv: control/shutdown: %s\n", cmd);
		xenpv_control_ops->reboot();
		break;
	case XENPV_ACT_UNSUPPORTED:
		pr_warn("xenpv: control/shutdown: %s is not supported\n", cmd);
		break;
	default:
		pr_warn("xenpv: control/shutdown: unknown request '%.16s'\n",
			cmd);
	}
	kfree(cmd);
	return act;
}

/**
 * xenpv_control_handle_sysrq() - act on control/sysrq
 *
 * Context: process context (the xenwatch thread); sleeps.
 * Return: the key handled, or -ENOENT if there was none.
 */
int xenpv_control_handle_sysrq(void)
{
	char *key = xenpv_control_take("sysrq");
	u8 k;

	if (!key)
		return -ENOENT;
	k = key[0];
	kfree(key);
	xenpv_control_ops->sysrq(k);
	return k;
}

static void xenpv_control_shutdown_changed(struct xenpv_xs_watch *w,
					   const char *path, const char *token)
{
	xenpv_control_handle_shutdown();
}

static void xenpv_control_sysrq_changed(struct xenpv_xs_watch *w,
					const char *path, const char *token)
{
	xenpv_control_handle_sysrq();
}

static struct xenpv_xs_watch xenpv_shutdown_watch = {
	.path = "control/shutdown",
	.callback = xenpv_control_shutdown_changed,
};

static struct xenpv_xs_watch xenpv_sysrq_watch = {
	.path = "control/sysrq",
	.callback = xenpv_control_sysrq_changed,
};

/**
 * xenpv_control_init() - advertise features and watch control/
 *
 * Context: process context, with xenstore connected.
 * Return: 0 or a negative errno.
 */
int xenpv_control_init(void)
{
	unsigned int i;
	int rc;

	for (i = 0; i < ARRAY_SIZE(xenpv_control_features); i++)
		xenpv_xs_write(XENPV_XBT_NIL, "control",
			       xenpv_control_features[i], "1");
	rc = xenpv_xs_watch(&xenpv_shutdown_watch);
	if (rc)
		return rc;
	rc = xenpv_xs_watch(&xenpv_sysrq_watch);
	if (rc)
		goto err_shutdown;
	return 0;

err_shutdown:
	xenpv_xs_unwatch(&xenpv_shutdown_watch);
	return rc;
}

/**
 * xenpv_control_exit() - stop watching control/
 *
 * Withdraws the features advertised at init.
 *
 * Context: process context.
 */
void xenpv_control_exit(void)
{
	unsigned int i;

	xenpv_xs_unwatch(&xenpv_sysrq_watch);
	xenpv_xs_unwatch(&xenpv_shutdown_watch);
	/* Without xenpv the toolstack must fall back to ACPI. */
	for (i = 0; i < ARRAY_SIZE(xenpv_control_features); i++)
		xenpv_xs_rm(XENPV_XBT_NIL, "control",
			    xenpv_control_features[i]);
}
