// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: event channels as Linux interrupts.
 *
 * Each bound port is a Linux IRQ of xenpv's irq_domain, hwirq = port, with
 * the edge flow handler and xenpv's irq_chip:
 *   ack       clears the port's pending state (lateeoi: masks it first,
 *             until the driver calls xenpv_irq_lateeoi())
 *   mask      sets the mask, unmask clears it (and has Xen re-raise a port
 *             that became pending meanwhile)
 *   retrigger makes the port pending again, for genirq's resend.
 * A port can be masked for several reasons at once (XENPV_MASK_*); it is
 * unmasked when the last one goes.
 *
 * The platform code calls xenpv_events_upcall() from the interrupt handler
 * of the Xen platform PCI device. Xen raises that interrupt for vCPU 0
 * only, so every port is bound to vCPU 0 and IRQ affinity is fixed.
 *
 * The ABI (2-level or FIFO, events/2l.c and events/fifo.c) is chosen at
 * xenpv_events_init() by the module parameter xenpv.event_abi.
 */

#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/log2.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/xarray.h>
#include <xenpv/compat.h>
#include <xenpv/events.h>
#include <xenpv/hypervisor.h>

#include "events.h"

static char *event_abi = "fifo";
module_param(event_abi, charp, 0444);
MODULE_PARM_DESC(event_abi,
		 "Event channel ABI: fifo (default, where Xen offers it) or 2l; once FIFO was used, Xen keeps it until the domain reboots");

/*
 * Where dynamic IRQ numbers start. On x86 the allocator itself keeps above
 * the legacy and IO-APIC range. UML has no sparse IRQs and numbers its own
 * interrupts 0..UM_LAST_SIGNAL_IRQ - 1 from a private bitmap that the
 * generic allocator does not see; only the numbers above, which exist
 * when CONFIG_PCI_MSI is set (as in kunit.py's UML configuration), are the
 * generic allocator's alone. Without them, binding fails with -ENOMEM.
 */
#ifdef CONFIG_UML
#define XENPV_IRQ_FROM	UM_LAST_SIGNAL_IRQ
#else
#define XENPV_IRQ_FROM	1
#endif

/* xenpv_events_selftest(): events sent, and how long to wait for each. */
#define XENPV_SELFTEST_EVENTS		16
#define XENPV_SELFTEST_TIMEOUT_MS	1000
/*
 * Its lateeoi storm: at least XENPV_STORM_EVENTS notifications and at
 * least XENPV_STORM_MS, as fast as they go.
 */
#define XENPV_STORM_MS			50
#define XENPV_STORM_EVENTS		64

/*
 * xenpv_events_mutex serialises xenpv_events_start()/_exit() and every
 * bind, unbind and close. It protects xenpv_ports (writers), xenpv_domain
 * and xenpv_fwnode, and makes xenpv_abi change only under it. Never taken
 * in atomic context.
 */
static DEFINE_MUTEX(xenpv_events_mutex);

/*
 * The ports the layer knows, by port number: struct xenpv_port. Written
 * under xenpv_events_mutex; read under it, or under RCU (entries are
 * freed with kfree_rcu()).
 */
static DEFINE_XARRAY(xenpv_ports);

/*
 * The ABI in use, NULL when the layer is stopped. Set under
 * xenpv_events_mutex before the upcall is enabled and cleared after it was
 * disabled, so the upcall reads it without a lock.
 */
const struct xenpv_evtchn_abi *xenpv_abi;

static struct shared_info *xenpv_si;
static struct irq_domain *xenpv_domain;
static struct fwnode_handle *xenpv_fwnode;

/* The domain only maps port numbers; the chip is set up by the binder. */
static const struct irq_domain_ops xenpv_domain_ops = {};

static struct irq_chip xenpv_chip;

/*
 * Add @set and remove @clear from the port's mask reasons, then make the
 * port's mask match. Called with p->lock held.
 */
static void xenpv_port_update(struct xenpv_port *p, unsigned int set,
			      unsigned int clear)
{
	unsigned int old = p->mask_reasons;

	p->mask_reasons = (old | set) & ~clear;
	if (p->mask_reasons)
		xenpv_abi->mask(p->port);
	else if (old)
		xenpv_abi->unmask(p->port);
}

static void xenpv_port_change(struct xenpv_port *p, unsigned int set,
			      unsigned int clear)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&p->lock, flags);
	xenpv_port_update(p, set, clear);
	raw_spin_unlock_irqrestore(&p->lock, flags);
}

static void xenpv_chip_mask(struct irq_data *d)
{
	xenpv_port_change(irq_data_get_irq_chip_data(d), XENPV_MASK_DISABLED,
			  0);
}

static void xenpv_chip_unmask(struct irq_data *d)
{
	xenpv_port_change(irq_data_get_irq_chip_data(d), 0,
			  XENPV_MASK_DISABLED);
}

/*
 * Before the handler runs. A lateeoi port stays masked until the driver's
 * EOI; any port is cleared now, so an event arriving while the handler
 * runs is kept for the next upcall.
 */
static void xenpv_chip_ack(struct irq_data *d)
{
	struct xenpv_port *p = irq_data_get_irq_chip_data(d);
	unsigned long flags;

	raw_spin_lock_irqsave(&p->lock, flags);
	p->acks++;
	if (p->lateeoi)
		xenpv_port_update(p, XENPV_MASK_EOI, 0);
	raw_spin_unlock_irqrestore(&p->lock, flags);
	xenpv_abi->clear_pending(p->port);
}

/*
 * The handler will not run (IRQ disabled, or already running elsewhere):
 * genirq keeps the event as IRQS_PENDING and resends it when it unmasks.
 */
static void xenpv_chip_mask_ack(struct irq_data *d)
{
	struct xenpv_port *p = irq_data_get_irq_chip_data(d);
	unsigned long flags;

	raw_spin_lock_irqsave(&p->lock, flags);
	p->mask_acks++;
	xenpv_port_update(p, XENPV_MASK_DISABLED, 0);
	raw_spin_unlock_irqrestore(&p->lock, flags);
	xenpv_abi->clear_pending(p->port);
}

static int xenpv_chip_retrigger(struct irq_data *d)
{
	struct xenpv_port *p = irq_data_get_irq_chip_data(d);
	unsigned long flags;

	raw_spin_lock_irqsave(&p->lock, flags);
	p->retriggers++;
	xenpv_port_update(p, XENPV_MASK_TEMP, 0);
	xenpv_abi->set_pending(p->port);
	xenpv_port_update(p, 0, XENPV_MASK_TEMP);
	raw_spin_unlock_irqrestore(&p->lock, flags);
	return 1;
}

static struct irq_chip xenpv_chip = {
	.name = "xenpv-evtchn",
	.irq_enable = xenpv_chip_unmask,
	.irq_disable = xenpv_chip_mask,
	.irq_mask = xenpv_chip_mask,
	.irq_unmask = xenpv_chip_unmask,
	.irq_ack = xenpv_chip_ack,
	.irq_mask_ack = xenpv_chip_mask_ack,
	.irq_retrigger = xenpv_chip_retrigger,
	.flags = IRQCHIP_SKIP_SET_WAKE,
};

/**
 * xenpv_eoi_backoff_next() - the delay of a lateeoi port's next unmask
 * @b: the port's backoff state, updated
 * @spurious: the driver found no work for the event
 *
 * See XENPV_EOI_FREE_SPURIOUS for the policy. Pure bookkeeping: it does
 * not touch the port.
 *
 * Context: any; the caller serialises calls for one @b (the port's lock).
 * Return: 0 to unmask now, else the delay in jiffies.
 */
unsigned long xenpv_eoi_backoff_next(struct xenpv_eoi_backoff *b,
				     bool spurious)
{
	if (!spurious) {
		b->spurious = 0;
		b->delay = 0;
		return 0;
	}
	if (b->spurious < XENPV_EOI_FREE_SPURIOUS) {
		b->spurious++;
		return 0;
	}
	if (!b->delay)
		b->delay = XENPV_EOI_DELAY_MIN;
	else
		b->delay = min(b->delay * 2, XENPV_EOI_DELAY_MAX);
	return b->delay;
}

static void xenpv_eoi_workfn(struct work_struct *work)
{
	struct xenpv_port *p = container_of(to_delayed_work(work),
					    struct xenpv_port, eoi_work);

	xenpv_port_change(p, 0, XENPV_MASK_EOI);
}

/**
 * xenpv_port_of_irq() - the port record behind one of xenpv's IRQs
 * @irq: a Linux IRQ number
 *
 * Context: any. The record stays valid while the IRQ stays bound, which
 * the caller guarantees (it is the driver that owns the IRQ).
 * Return: the record, or NULL if @irq is not a xenpv event channel.
 */
struct xenpv_port *xenpv_port_of_irq(unsigned int irq)
{
	struct irq_data *d = irq_get_irq_data(irq);

	if (!d || !xenpv_domain || d->domain != xenpv_domain ||
	    d->chip != &xenpv_chip)
		return NULL;
	return irq_data_get_irq_chip_data(d);
}

/**
 * xenpv_events_handle_port() - deliver one pending port
 * @port: a port the ABI found pending and unmasked
 *
 * A port without an IRQ is masked and left pending: its event is
 * delivered if a handler is bound later.
 *
 * Context: hard-irq context, from the upcall.
 */
void xenpv_events_handle_port(evtchn_port_t port)
{
	if (generic_handle_domain_irq(xenpv_domain, port))
		xenpv_abi->mask(port);
}

/**
 * xenpv_events_upcall() - handle every pending event
 *
 * Called by the upcall's interrupt handler (pvops/upcall.c). Clears vCPU
 * 0's upcall flag, then lets the ABI scan; repeats while Xen raised the
 * flag again meanwhile, at most XENPV_UPCALL_ROUNDS times.
 *
 * Context: hard-irq context, interrupts off; not re-entered (every port
 * is bound to vCPU 0, and only vCPU 0 takes the upcall).
 * Return: true if the flag is still set: the caller calls again, unless
 * its interrupt is level-triggered and fires again by itself.
 */
bool xenpv_events_upcall(void)
{
	const struct xenpv_evtchn_abi *abi = READ_ONCE(xenpv_abi);
	struct vcpu_info *vi;
	unsigned int round;

	if (!abi)
		return false;
	vi = &xenpv_si->vcpu_info[0];
	for (round = 0; round < XENPV_UPCALL_ROUNDS; round++) {
		WRITE_ONCE(vi->evtchn_upcall_pending, 0);
		/* Clear the flag before looking at what it announced. */
		smp_mb();
		abi->handle_events();
		/* Read the flag again after the scan's reads. */
		smp_rmb();
		if (!READ_ONCE(vi->evtchn_upcall_pending))
			return false;
	}
	return true;
}

/**
 * xenpv_events_abi_name() - the event channel ABI in use
 *
 * Context: any.
 * Return: "2-level", "fifo", or "none" when the layer is stopped.
 */
const char *xenpv_events_abi_name(void)
{
	const struct xenpv_evtchn_abi *abi = READ_ONCE(xenpv_abi);

	return abi ? abi->name : "none";
}

/**
 * xenpv_events_start() - start the events layer with a given ABI
 * @si: the mapped shared_info page
 * @fifo: try the FIFO ABI first (falls back to 2-level)
 *
 * Context: process context, before the upcall is enabled. Takes
 * xenpv_events_mutex.
 * Return: 0, -EBUSY if already started, -ENOMEM.
 */
int xenpv_events_start(struct shared_info *si, bool fifo)
{
	const struct xenpv_evtchn_abi *abi = NULL;
	int rc = 0;

	mutex_lock(&xenpv_events_mutex);
	if (xenpv_abi) {
		rc = -EBUSY;
		goto out_unlock;
	}
	xenpv_fwnode = irq_domain_alloc_named_fwnode("xenpv-evtchn");
	if (!xenpv_fwnode) {
		rc = -ENOMEM;
		goto out_unlock;
	}
	xenpv_domain = irq_domain_create_tree(xenpv_fwnode, &xenpv_domain_ops,
					      NULL);
	if (!xenpv_domain) {
		rc = -ENOMEM;
		goto out_free_fwnode;
	}
	/* FIFO from an earlier load is adopted even when not wanted. */
	abi = xenpv_fifo_init(si, fifo);
	if (!abi)
		abi = xenpv_2l_init(si);
	xenpv_si = si;
	WRITE_ONCE(xenpv_abi, abi);
	pr_info("xenpv: events: %s ABI, all events on vCPU 0\n", abi->name);
	mutex_unlock(&xenpv_events_mutex);
	return 0;

out_free_fwnode:
	irq_domain_free_fwnode(xenpv_fwnode);
	xenpv_fwnode = NULL;
out_unlock:
	mutex_unlock(&xenpv_events_mutex);
	return rc;
}

/*
 * debugfs xenpv/events: every port the layer knows, with why it is masked
 * and what the ABI's word says, to tell a lost event from a masked one.
 */
static struct dentry *xenpv_events_debugfs;

static int xenpv_events_debug_show(struct seq_file *m, void *unused)
{
	const struct xenpv_evtchn_abi *abi;
	struct xenpv_port *p;
	unsigned long idx, flags;
	unsigned int reasons, spurious;
	unsigned long c[5];

	mutex_lock(&xenpv_events_mutex);
	abi = xenpv_abi;
	seq_printf(m, "abi %s\n", abi ? abi->name : "none");
	if (abi && xenpv_si)
		seq_printf(m, "vcpu0 upcall_pending %u\n",
			   READ_ONCE(xenpv_si->vcpu_info[0].evtchn_upcall_pending));
	if (abi && abi->show_queues)
		abi->show_queues(m);
	xa_for_each(&xenpv_ports, idx, p) {
		raw_spin_lock_irqsave(&p->lock, flags);
		reasons = p->mask_reasons;
		spurious = p->eoi.spurious;
		c[0] = p->acks;
		c[1] = p->mask_acks;
		c[2] = p->retriggers;
		c[3] = p->eoi_delays;
		c[4] = p->eoi_stray;
		raw_spin_unlock_irqrestore(&p->lock, flags);
		seq_printf(m, "port %u irq %u%s reasons 0x%x pending %d masked %d spurious %u eoi_work %d acks %lu mask_acks %lu retriggers %lu eoi_delays %lu eoi_stray %lu sends %ld",
			   p->port, p->irq, p->lateeoi ? " lateeoi" : "",
			   reasons, abi && abi->is_pending(p->port),
			   abi && abi->is_masked(p->port), spurious,
			   delayed_work_pending(&p->eoi_work),
			   c[0], c[1], c[2], c[3], c[4],
			   atomic_long_read(&p->sends));
		if (abi && abi->show)
			abi->show(m, p->port);
		seq_putc(m, '\n');
	}
	mutex_unlock(&xenpv_events_mutex);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(xenpv_events_debug);

/**
 * xenpv_events_init() - start the events layer
 * @si: the mapped shared_info page; it must stay mapped until
 *	xenpv_events_exit()
 * @fifo_gpfn: XENPV_EVENTS_FIFO_FRAMES frames reserved for the FIFO ABI's
 *	pages, at the same place on every load (see events/fifo.c); 0 for
 *	none (2-level only)
 *
 * Picks the ABI from xenpv.event_abi ("fifo" or "2l"; anything else is
 * reported and taken as "fifo"). FIFO set up by an earlier load is used
 * whatever the parameter says.
 *
 * Context: process context, after shared_info is mapped and before the
 * upcall (HVM_PARAM_CALLBACK_IRQ) is enabled.
 * Return: 0, -EBUSY if already started, -ENOMEM.
 */

int xenpv_events_init(struct shared_info *si, unsigned long fifo_gpfn)
{
	bool fifo = true;
	int rc;

	if (!strcmp(event_abi, "2l"))
		fifo = false;
	else if (strcmp(event_abi, "fifo"))
		pr_warn("xenpv: events: unknown event_abi=%s, using fifo\n",
			event_abi);
	xenpv_fifo_set_home(fifo_gpfn, fifo_gpfn ? XENPV_EVENTS_FIFO_FRAMES : 0);
	rc = xenpv_events_start(si, fifo);
	if (!rc)
		xenpv_events_debugfs = debugfs_create_file("events", 0400,
							   xenpv_debugfs_dir(),
							   NULL,
							   &xenpv_events_debug_fops);
	return rc;
}

/*
 * Forget a port: free its IRQ if it has one, mask it, drop what is
 * pending, close it if the layer opened it. Called under
 * xenpv_events_mutex.
 */
static void xenpv_port_release(struct xenpv_port *p)
{
	struct evtchn_close close = { .port = p->port };
	unsigned long flags;
	int rc;

	if (p->irq) {
		free_irq(p->irq, p->dev);
		cancel_delayed_work_sync(&p->eoi_work);
	}
	/* From here on an event for the port is dropped, not delivered. */
	raw_spin_lock_irqsave(&p->lock, flags);
	xenpv_port_update(p, XENPV_MASK_DISABLED, 0);
	xenpv_abi->clear_pending(p->port);
	raw_spin_unlock_irqrestore(&p->lock, flags);
	if (p->irq) {
		irq_dispose_mapping(p->irq);
		p->irq = 0;
	}
	if (p->owned) {
		rc = xenpv_event_channel_op(EVTCHNOP_close, &close);
		if (rc)
			pr_warn("xenpv: events: closing port %u failed (%d)\n",
				p->port, rc);
	}
	xa_erase(&xenpv_ports, p->port);
	kfree_rcu(p, rcu);
}

/**
 * xenpv_events_exit() - stop the events layer
 *
 * Unbinds every IRQ still bound (with a warning: its driver should have
 * done it), closes every port the layer opened, and removes the
 * irq_domain. With the FIFO ABI the control block and event array stay
 * with Xen (see events/fifo.c).
 *
 * Context: process context, after the upcall was disabled and its
 * interrupt freed. Takes xenpv_events_mutex.
 */
void xenpv_events_exit(void)
{
	struct xenpv_port *p;
	unsigned long idx;

	debugfs_remove(xenpv_events_debugfs);	/* waits for its readers */
	xenpv_events_debugfs = NULL;
	mutex_lock(&xenpv_events_mutex);
	if (!xenpv_abi)
		goto out_unlock;
	xa_for_each(&xenpv_ports, idx, p) {
		if (p->irq)
			pr_warn("xenpv: events: port %u still bound to irq %u at exit\n",
				p->port, p->irq);
		xenpv_port_release(p);
	}
	if (xenpv_abi->stop)
		xenpv_abi->stop();
	WRITE_ONCE(xenpv_abi, NULL);
	xenpv_si = NULL;
	irq_domain_remove(xenpv_domain);
	xenpv_domain = NULL;
	irq_domain_free_fwnode(xenpv_fwnode);
	xenpv_fwnode = NULL;
out_unlock:
	mutex_unlock(&xenpv_events_mutex);
	/* Let kfree_rcu() callbacks finish before a module could go. */
	rcu_barrier();
}

static bool xenpv_port_in_range(evtchn_port_t port)
{
	return port > 0 && port < xenpv_abi->nr_ports;
}

/*
 * Start tracking @port, masked. Called under xenpv_events_mutex with the
 * layer started.
 */
static struct xenpv_port *xenpv_port_new(evtchn_port_t port, bool owned)
{
	struct xenpv_port *p;
	int rc;

	if (!xenpv_port_in_range(port))
		return ERR_PTR(-EINVAL);
	rc = xenpv_abi->setup(port);
	if (rc)
		return ERR_PTR(rc);
	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return ERR_PTR(-ENOMEM);
	p->port = port;
	p->owned = owned;
	raw_spin_lock_init(&p->lock);
	p->mask_reasons = XENPV_MASK_DISABLED;
	INIT_DELAYED_WORK(&p->eoi_work, xenpv_eoi_workfn);
	xenpv_abi->mask(port);
	rc = xa_insert(&xenpv_ports, port, p, GFP_KERNEL);
	if (rc) {
		kfree(p);
		return ERR_PTR(rc == -EBUSY ? -EEXIST : rc);
	}
	return p;
}

/* Track a port Xen just gave us; close it again if that fails. */
static int xenpv_port_adopt(evtchn_port_t port)
{
	struct evtchn_close close = { .port = port };
	struct xenpv_port *p = xenpv_port_new(port, true);

	if (!IS_ERR(p))
		return 0;
	xenpv_event_channel_op(EVTCHNOP_close, &close);
	return PTR_ERR(p);
}

/*
 * Make @cmd, an EVTCHNOP that creates a port and writes its number to
 * *@xen_port, and track that port as the layer's own.
 */
static int xenpv_evtchn_new_port(int cmd, void *arg,
				 const evtchn_port_t *xen_port,
				 evtchn_port_t *port)
{
	int rc = -ENODEV;

	mutex_lock(&xenpv_events_mutex);
	if (!xenpv_abi)
		goto out_unlock;
	rc = xenpv_event_channel_op(cmd, arg);
	if (rc)
		goto out_unlock;
	rc = xenpv_port_adopt(*xen_port);
	if (!rc)
		*port = *xen_port;
out_unlock:
	mutex_unlock(&xenpv_events_mutex);
	return rc;
}

/**
 * xenpv_evtchn_alloc_unbound() - allocate a port for a remote domain
 * @remote_dom: the domain that may bind to it (DOMID_SELF for loopback)
 * @port: the new port
 *
 * The port starts masked; bind it with xenpv_bind_evtchn_to_irqhandler().
 * It belongs to the events layer (see <xenpv/events.h>).
 *
 * Context: process context. Takes xenpv_events_mutex.
 * Return: 0, -ENODEV if the layer is stopped, or a negative errno from
 * Xen or from tracking the port.
 */
int xenpv_evtchn_alloc_unbound(domid_t remote_dom, evtchn_port_t *port)
{
	struct evtchn_alloc_unbound a = {
		.dom = DOMID_SELF, .remote_dom = remote_dom,
	};

	return xenpv_evtchn_new_port(EVTCHNOP_alloc_unbound, &a, &a.port, port);
}

XENPV_EXPORT(xenpv_evtchn_alloc_unbound);

/**
 * xenpv_evtchn_bind_interdomain() - connect to a remote domain's port
 * @remote_dom: the remote domain (DOMID_SELF for loopback)
 * @remote_port: its port, allocated unbound for us
 * @port: our new end
 *
 * Context: process context. Takes xenpv_events_mutex.
 * Return: 0, -ENODEV if the layer is stopped, or a negative errno.
 */
int xenpv_evtchn_bind_interdomain(domid_t remote_dom,
				  evtchn_port_t remote_port,
				  evtchn_port_t *port)
{
	struct evtchn_bind_interdomain b = {
		.remote_dom = remote_dom, .remote_port = remote_port,
	};

	return xenpv_evtchn_new_port(EVTCHNOP_bind_interdomain, &b, &b.local_port, port);
}

XENPV_EXPORT(xenpv_evtchn_bind_interdomain);

/**
 * xenpv_evtchn_bind_virq() - bind a virtual IRQ of vCPU 0 to a new port
 * @virq: VIRQ_*
 * @port: the new port
 *
 * Context: process context. Takes xenpv_events_mutex.
 * Return: 0, -ENODEV if the layer is stopped, or a negative errno (Xen
 * refuses a VIRQ that is already bound).
 */
int xenpv_evtchn_bind_virq(unsigned int virq, evtchn_port_t *port)
{
	struct evtchn_bind_virq v = { .virq = virq, .vcpu = 0 };

	return xenpv_evtchn_new_port(EVTCHNOP_bind_virq, &v, &v.port, port);
}

XENPV_EXPORT(xenpv_evtchn_bind_virq);

/**
 * xenpv_evtchn_close() - close a port the layer opened, with no IRQ bound
 * @port: from xenpv_evtchn_alloc_unbound(), _bind_interdomain() or
 *	_bind_virq()
 *
 * Context: process context. Takes xenpv_events_mutex.
 * Return: 0; -EINVAL if @port is not one of the layer's open ports;
 * -EBUSY if an IRQ is bound to it (use xenpv_unbind_from_irqhandler()).
 */
int xenpv_evtchn_close(evtchn_port_t port)
{
	struct xenpv_port *p;
	int rc = -EINVAL;

	mutex_lock(&xenpv_events_mutex);
	if (!xenpv_abi)
		goto out_unlock;
	p = xa_load(&xenpv_ports, port);
	if (!p || !p->owned)
		goto out_unlock;
	rc = -EBUSY;
	if (p->irq)
		goto out_unlock;
	xenpv_port_release(p);
	rc = 0;
out_unlock:
	mutex_unlock(&xenpv_events_mutex);
	return rc;
}

XENPV_EXPORT(xenpv_evtchn_close);

/* Is @port open, and notifying vCPU 0? Under xenpv_events_mutex. */
static int xenpv_port_check_open(evtchn_port_t port)
{
	struct evtchn_status st = { .dom = DOMID_SELF, .port = port };
	struct evtchn_bind_vcpu bv = { .port = port, .vcpu = 0 };
	int rc;

	rc = xenpv_event_channel_op(EVTCHNOP_status, &st);
	if (rc)
		return rc;
	if (st.status == EVTCHNSTAT_closed)
		return -EINVAL;
	if (st.vcpu != 0)
		return xenpv_event_channel_op(EVTCHNOP_bind_vcpu, &bv);
	return 0;
}

/**
 * xenpv_bind_evtchn_to_irqhandler() - bind a port to a new IRQ and handler
 * @port: an open port of this domain
 * @handler: the interrupt handler, as for request_irq()
 * @irqflags: request_irq() flags (IRQF_*)
 * @name: the name in /proc/interrupts
 * @dev: the cookie passed to @handler and to xenpv_unbind_from_irqhandler()
 * @lateeoi: if true, after each delivery the port stays masked until the
 *	driver calls xenpv_irq_lateeoi() (from the handler or later); a
 *	driver that serves untrusted backends should use this (XSA-391)
 *
 * A port that was already pending is delivered once the IRQ is enabled.
 *
 * Context: process context. Takes xenpv_events_mutex.
 * Return: the IRQ number (> 0), or -ENODEV if the layer is stopped,
 * -EINVAL for a bad port or a closed one, -EBUSY if the port already has
 * an IRQ, or another negative errno.
 */
int xenpv_bind_evtchn_to_irqhandler(evtchn_port_t port,
				    irq_handler_t handler,
				    unsigned long irqflags, const char *name,
				    void *dev, bool lateeoi)
{
	struct xenpv_port *p;
	bool created = false;
	int irq, rc = -ENODEV;

	if (!handler)
		return -EINVAL;
	mutex_lock(&xenpv_events_mutex);
	if (!xenpv_abi)
		goto out_unlock;
	rc = -EINVAL;
	if (!xenpv_port_in_range(port))
		goto out_unlock;
	p = xa_load(&xenpv_ports, port);
	rc = -EBUSY;
	if (p && p->irq)
		goto out_unlock;
	rc = xenpv_port_check_open(port);
	if (rc)
		goto out_unlock;
	if (!p) {
		p = xenpv_port_new(port, false);
		if (IS_ERR(p)) {
			rc = PTR_ERR(p);
			goto out_unlock;
		}
		created = true;
	}

	/*
	 * No owner module: request_irq() takes a reference on the owner,
	 * and xenpv's own IRQs (xenstore's) would then keep xenpv from ever
	 * being unloaded. The drivers' own symbol references pin xenpv.
	 */
	irq = __irq_alloc_descs(-1, XENPV_IRQ_FROM, 1, NUMA_NO_NODE, NULL,
				NULL);
	if (irq < 0) {
		rc = irq;
		goto out_forget_port;
	}
	p->lateeoi = lateeoi;
	p->eoi.spurious = 0;
	p->eoi.delay = 0;
	p->dev = dev;
	irq_set_chip_and_handler_name(irq, &xenpv_chip, handle_edge_irq,
				      lateeoi ? "lateeoi" : "edge");
	irq_set_chip_data(irq, p);
	/* Every port notifies vCPU 0: there is no affinity to balance. */
	irq_set_status_flags(irq, IRQ_NO_BALANCING);
	rc = irq_domain_associate(xenpv_domain, irq, port);
	if (rc)
		goto out_free_desc;
	p->irq = irq;
	rc = request_irq(irq, handler, irqflags, name, dev);
	if (rc)
		goto out_dispose;
	mutex_unlock(&xenpv_events_mutex);
	return irq;

out_dispose:
	p->irq = 0;
	irq_dispose_mapping(irq);
	goto out_forget_port;
out_free_desc:
	irq_free_desc(irq);
out_forget_port:
	if (created) {
		xa_erase(&xenpv_ports, port);
		kfree_rcu(p, rcu);
	}
out_unlock:
	mutex_unlock(&xenpv_events_mutex);
	return rc;
}

XENPV_EXPORT(xenpv_bind_evtchn_to_irqhandler);

/**
 * xenpv_unbind_from_irqhandler() - undo xenpv_bind_evtchn_to_irqhandler()
 * @irq: the IRQ it returned
 * @dev: the same cookie
 *
 * Frees the IRQ (waiting for a running handler), cancels a delayed EOI,
 * masks the port and drops an event still pending for it, so that nothing
 * reaches the old handler. Closes the port if the events layer opened it;
 * otherwise leaves it open and masked.
 *
 * Context: process context, not from the IRQ's own handler. Takes
 * xenpv_events_mutex.
 * Return: 0, or -EINVAL if @irq is not bound by this layer (a second
 * unbind, or someone else's IRQ) or @dev does not match.
 */
int xenpv_unbind_from_irqhandler(unsigned int irq, void *dev)
{
	struct xenpv_port *p;
	int rc = -EINVAL;

	mutex_lock(&xenpv_events_mutex);
	if (!xenpv_abi)
		goto out_unlock;
	p = xenpv_port_of_irq(irq);
	if (!p || p->irq != irq || p->dev != dev)
		goto out_unlock;
	xenpv_port_release(p);
	rc = 0;
out_unlock:
	mutex_unlock(&xenpv_events_mutex);
	return rc;
}

XENPV_EXPORT(xenpv_unbind_from_irqhandler);

/**
 * xenpv_irq_to_evtchn() - the port behind one of xenpv's IRQs
 * @irq: the IRQ
 *
 * Context: any.
 * Return: the port, or -EINVAL if @irq is not a xenpv event channel.
 */
int xenpv_irq_to_evtchn(unsigned int irq)
{
	struct xenpv_port *p = xenpv_port_of_irq(irq);

	return p ? p->port : -EINVAL;
}

XENPV_EXPORT(xenpv_irq_to_evtchn);

/**
 * xenpv_notify_remote_via_evtchn() - send an event to the other end
 * @port: our end of an interdomain channel (or any open port of ours)
 *
 * Context: any, including hard-irq context.
 * Return: 0, -ENODEV if the layer is stopped, -EINVAL for a bad port, or
 * a negative errno from Xen.
 */
int xenpv_notify_remote_via_evtchn(evtchn_port_t port)
{
	const struct xenpv_evtchn_abi *abi = READ_ONCE(xenpv_abi);
	struct evtchn_send send = { .port = port };

	if (!abi)
		return -ENODEV;
	if (!port || port >= abi->nr_ports)
		return -EINVAL;
	return xenpv_event_channel_op(EVTCHNOP_send, &send);
}

XENPV_EXPORT(xenpv_notify_remote_via_evtchn);

/**
 * xenpv_notify_remote_via_irq() - send an event on the port of an IRQ
 * @irq: an IRQ from xenpv_bind_evtchn_to_irqhandler()
 *
 * Context: any, including hard-irq context.
 * Return: 0, -EINVAL if @irq is not a xenpv event channel, or as
 * xenpv_notify_remote_via_evtchn().
 */
int xenpv_notify_remote_via_irq(unsigned int irq)
{
	struct xenpv_port *p = xenpv_port_of_irq(irq);

	if (!p)
		return -EINVAL;
	atomic_long_inc(&p->sends);
	return xenpv_notify_remote_via_evtchn(p->port);
}

XENPV_EXPORT(xenpv_notify_remote_via_irq);

static int xenpv_evtchn_set_explicit(evtchn_port_t port, bool mask)
{
	struct xenpv_port *p;
	int rc = -EINVAL;

	rcu_read_lock();
	p = READ_ONCE(xenpv_abi) ? xa_load(&xenpv_ports, port) : NULL;
	if (p) {
		if (mask)
			xenpv_port_change(p, XENPV_MASK_EXPLICIT, 0);
		else
			xenpv_port_change(p, 0, XENPV_MASK_EXPLICIT);
		rc = 0;
	}
	rcu_read_unlock();
	return rc;
}

/**
 * xenpv_evtchn_mask() - mask a port by hand
 * @port: a port known to the layer (opened by it, or bound to an IRQ)
 *
 * The port stays masked until xenpv_evtchn_unmask(), whatever genirq
 * does; events arriving meanwhile stay pending.
 *
 * Context: any.
 * Return: 0, or -EINVAL if the layer does not know @port.
 */
int xenpv_evtchn_mask(evtchn_port_t port)
{
	return xenpv_evtchn_set_explicit(port, true);
}

XENPV_EXPORT(xenpv_evtchn_mask);

/**
 * xenpv_evtchn_unmask() - undo xenpv_evtchn_mask()
 * @port: the port
 *
 * The port is unmasked only if nothing else keeps it masked (a disabled
 * IRQ, an outstanding lateeoi); a pending event is then delivered.
 *
 * Context: any.
 * Return: 0, or -EINVAL if the layer does not know @port.
 */
int xenpv_evtchn_unmask(evtchn_port_t port)
{
	return xenpv_evtchn_set_explicit(port, false);
}

XENPV_EXPORT(xenpv_evtchn_unmask);

/**
 * xenpv_irq_lateeoi() - end the handling of an event on a lateeoi IRQ
 * @irq: an IRQ bound with @lateeoi true
 * @flags: XENPV_EOI_SPURIOUS if the event found no work
 *
 * Unmasks the port, so that the next event can be delivered. If the
 * driver keeps reporting spurious events, the unmask is delayed with a
 * growing backoff (XENPV_EOI_FREE_SPURIOUS), so that a backend storming
 * the port is throttled. A second EOI for one event is ignored.
 *
 * Context: any, including the IRQ's handler. Must not race with
 * xenpv_unbind_from_irqhandler() for the same IRQ.
 */
void xenpv_irq_lateeoi(unsigned int irq, unsigned int flags)
{
	struct xenpv_port *p = xenpv_port_of_irq(irq);
	unsigned long delay = 0, irqflags;

	if (WARN_ONCE(!p || !p->lateeoi,
		      "xenpv: lateeoi on irq %u: not a lateeoi event channel\n",
		      irq))
		return;
	raw_spin_lock_irqsave(&p->lock, irqflags);
	if (p->mask_reasons & XENPV_MASK_EOI) {
		delay = xenpv_eoi_backoff_next(&p->eoi,
					       flags & XENPV_EOI_SPURIOUS);
		if (!delay)
			xenpv_port_update(p, 0, XENPV_MASK_EOI);
		else
			p->eoi_delays++;
	} else {
		p->eoi_stray++;
	}
	raw_spin_unlock_irqrestore(&p->lock, irqflags);
	/* Queued outside p->lock: the workqueue takes sleeping locks on RT. */
	if (delay)
		mod_delayed_work(system_wq, &p->eoi_work, delay);
}

XENPV_EXPORT(xenpv_irq_lateeoi);

/*
 * @irq: the lateeoi IRQ, for the handler's EOI (storm only)
 * @storm_over: the storm ended; the next event is real work (storm only)
 */
struct xenpv_selftest {
	atomic_t delivered;
	struct completion done;
	unsigned int irq;
	bool storm_over;
};

static void xenpv_selftest_discard(evtchn_port_t port)
{
	mutex_lock(&xenpv_events_mutex);
	if (xenpv_abi)
		xenpv_abi->clear_pending(port);
	mutex_unlock(&xenpv_events_mutex);
}

static irqreturn_t xenpv_selftest_handler(int irq, void *dev)
{
	struct xenpv_selftest *st = dev;

	atomic_inc(&st->delivered);
	complete(&st->done);
	return IRQ_HANDLED;
}

/* A loopback channel: @a for sending, @b (returned pending-free) to bind. */
static int xenpv_selftest_pair(evtchn_port_t *a, evtchn_port_t *b)
{
	int rc;

	rc = xenpv_evtchn_alloc_unbound(DOMID_SELF, a);
	if (rc)
		return rc;
	rc = xenpv_evtchn_bind_interdomain(DOMID_SELF, *a, b);
	if (rc) {
		xenpv_evtchn_close(*a);
		return rc;
	}
	/*
	 * Xen marks a newly bound interdomain port pending, in case the
	 * other end notified it while it was unbound. Nobody did here: drop
	 * that notification while the port is still masked, so that every
	 * event counted is one we sent.
	 */
	xenpv_selftest_discard(*b);
	return 0;
}

/* Storm: every event is reported spurious, until the storm is over. */
static irqreturn_t xenpv_storm_handler(int irq, void *dev)
{
	struct xenpv_selftest *st = dev;
	bool over = READ_ONCE(st->storm_over);

	atomic_inc(&st->delivered);
	xenpv_irq_lateeoi(st->irq, over ? 0 : XENPV_EOI_SPURIOUS);
	if (over)
		complete(&st->done);
	return IRQ_HANDLED;
}

/*
 * The most deliveries the backoff may let through in @elapsed jiffies of
 * storm: the free spurious EOIs and the first delivery, then one per
 * delay, which doubles from XENPV_EOI_DELAY_MIN (at most log2 of the
 * window plus one of them) and then repeats at XENPV_EOI_DELAY_MAX; two
 * more for the window's edges.
 */
static unsigned int xenpv_storm_allowed(unsigned long elapsed)
{
	return XENPV_EOI_FREE_SPURIOUS + 1 + ilog2(elapsed + 1) + 1 +
	       elapsed / XENPV_EOI_DELAY_MAX + 2;
}

/*
 * xenpv_events_storm_test() - the lateeoi backoff against a storm
 *
 * Binds a loopback channel with lateeoi and a handler that reports every
 * event as spurious, then notifies it as fast as it can, at least
 * XENPV_STORM_EVENTS times and for XENPV_STORM_MS: the backoff must hold
 * deliveries to what xenpv_storm_allowed() gives for the time it took,
 * however slow the machine. Then one event that is real work must still
 * arrive (the port recovers).
 *
 * Context: process context, with the upcall enabled. Sleeps.
 * Return: 0, -EIO if the storm was not throttled, -ETIMEDOUT if the port
 * did not recover, or the error of a bind or notify.
 */
static int xenpv_events_storm_test(void)
{
	unsigned long timeout = msecs_to_jiffies(XENPV_SELFTEST_TIMEOUT_MS);
	unsigned long start = jiffies, end = start + msecs_to_jiffies(XENPV_STORM_MS);
	struct xenpv_selftest st = { .storm_over = false };
	unsigned int sent = 0, during = 0, allowed = 0;
	evtchn_port_t a, b;
	int irq, rc;

	atomic_set(&st.delivered, 0);
	init_completion(&st.done);
	rc = xenpv_selftest_pair(&a, &b);
	if (rc)
		goto out_log;
	irq = xenpv_bind_evtchn_to_irqhandler(b, xenpv_storm_handler, 0,
					      "xenpv-storm", &st, true);
	if (irq < 0) {
		rc = irq;
		xenpv_evtchn_close(b);
		goto out_close_a;
	}
	st.irq = irq;

	while (time_before(jiffies, end) || sent < XENPV_STORM_EVENTS) {
		rc = xenpv_notify_remote_via_evtchn(a);
		if (rc)
			break;
		sent++;
		cond_resched();
	}
	during = atomic_read(&st.delivered);
	allowed = xenpv_storm_allowed(jiffies - start);
	if (!rc && during > allowed)
		rc = -EIO;
	if (!rc) {
		/* The backoff ends with the next EOI that found work. */
		WRITE_ONCE(st.storm_over, true);
		reinit_completion(&st.done);
		rc = xenpv_notify_remote_via_evtchn(a);
		if (!rc && !wait_for_completion_timeout(&st.done, timeout))
			rc = -ETIMEDOUT;
	}
	xenpv_unbind_from_irqhandler(irq, &st);
out_close_a:
	xenpv_evtchn_close(a);
out_log:
	if (rc)
		pr_err("xenpv: events: lateeoi storm over %s failed (%d): %u events sent, %u delivered (at most %u allowed)\n",
		       xenpv_events_abi_name(), rc, sent, during, allowed);
	else
		pr_info("xenpv: events: lateeoi storm over %s: %u events sent, %u delivered (at most %u allowed), port recovered\n",
			xenpv_events_abi_name(), sent, during, allowed);
	return rc;
}

/**
 * xenpv_events_selftest() - send events to ourselves and time them
 *
 * Allocates an unbound port for our own domain, binds a second port to it
 * (a loopback channel), binds that to an IRQ, sends
 * XENPV_SELFTEST_EVENTS events one at a time, each waited for, then
 * unbinds and closes both ports. Logs one line with the count and the
 * latency from send to handler. Then storms a lateeoi loopback channel
 * (xenpv_events_storm_test()) and logs a second line.
 *
 * Context: process context, with the upcall enabled. Sleeps.
 * Return: 0 if every event arrived exactly once and the storm was
 * throttled; -ETIMEDOUT if one did not arrive within
 * XENPV_SELFTEST_TIMEOUT_MS; -EIO if one arrived twice or the storm was
 * not throttled; or the error of a bind.
 */
int xenpv_events_selftest(void)
{
	unsigned long timeout = msecs_to_jiffies(XENPV_SELFTEST_TIMEOUT_MS);
	struct xenpv_selftest st;
	evtchn_port_t a, b;
	s64 ns, sum = 0, max = 0;
	unsigned int i;
	ktime_t t0;
	int irq, rc;

	atomic_set(&st.delivered, 0);
	init_completion(&st.done);
	rc = xenpv_selftest_pair(&a, &b);
	if (rc)
		goto out_log;
	irq = xenpv_bind_evtchn_to_irqhandler(b, xenpv_selftest_handler, 0,
					      "xenpv-selftest", &st, false);
	if (irq < 0) {
		rc = irq;
		xenpv_evtchn_close(b);
		goto out_close_a;
	}

	for (i = 0; i < XENPV_SELFTEST_EVENTS; i++) {
		reinit_completion(&st.done);
		t0 = ktime_get();
		rc = xenpv_notify_remote_via_evtchn(a);
		if (rc)
			break;
		if (!wait_for_completion_timeout(&st.done, timeout)) {
			rc = -ETIMEDOUT;
			break;
		}
		ns = ktime_to_ns(ktime_sub(ktime_get(), t0));
		sum += ns;
		max = max(max, ns);
	}
	xenpv_unbind_from_irqhandler(irq, &st);
	if (!rc && atomic_read(&st.delivered) != XENPV_SELFTEST_EVENTS)
		rc = -EIO;
out_close_a:
	xenpv_evtchn_close(a);
out_log:
	if (rc)
		pr_err("xenpv: events: selftest over %s failed (%d) after %d/%u events\n",
		       xenpv_events_abi_name(), rc, atomic_read(&st.delivered),
		       XENPV_SELFTEST_EVENTS);
	else
		pr_info("xenpv: events: selftest over %s: %u/%u events delivered, latency avg %lld ns, max %lld ns\n",
			xenpv_events_abi_name(), XENPV_SELFTEST_EVENTS,
			XENPV_SELFTEST_EVENTS,
			div_s64(sum, XENPV_SELFTEST_EVENTS), max);
	return rc ?: xenpv_events_storm_test();
}
