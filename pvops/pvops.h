/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv pvops/: internals shared by the files of this directory (and the
 * KUnit suites). Not an API for other modules.
 */
#ifndef _XENPV_PVOPS_H
#define _XENPV_PVOPS_H

#include <linux/types.h>
#include <xen/interface/xen.h>
#include <xenpv/hypervisor.h>

struct pci_dev;

/* x86.c */
const struct xenpv_hv_ops *xenpv_x86_ops(void);

/* main.c */
const struct xenpv_xen_info *xenpv_detected(void);
extern struct pci_driver xenpv_platform_driver;

/* pvclock.c: Xen's vcpu_time_info arithmetic, hardware independent. */
u64 xenpv_pvclock_scale(u64 delta, u32 mul, s8 shift);
u64 xenpv_pvclock_ns(const struct pvclock_vcpu_time_info *t, u64 tsc);

/* clock.c: the clocksource */
int xenpv_clock_init(struct shared_info *si, bool tsc_stable);
void xenpv_clock_exit(void);

/* power.c: power-off and restart through SCHEDOP_shutdown */
int xenpv_power_init(void);
void xenpv_power_exit(void);
int xenpv_shutdown(unsigned int reason);

/* unplug.c: the emulated-device unplug protocol */
int xenpv_unplug(const char *what);

/**
 * struct xenpv_platform - the bound Xen platform PCI device
 * @pdev: the device (5853:0001)
 * @info: what detection found
 * @mmio_start: BAR 1, where xenpv places frames Xen backs
 * @mmio_len: its length
 * @next_gpfn: first BAR frame not handed out yet
 * @end_gpfn: one past the last BAR frame
 * @shared_info: mapped shared_info (in the BAR, first frame)
 * @shared_info_gpfn: where it is mapped
 * @callback_via: the HVM_PARAM_CALLBACK_IRQ value in use (0: none)
 * @upcall_irq: the Linux IRQ the upcall arrives on (upcall.c)
 * @upcall_vector: its APIC vector on CPU 0 for the vector route, 0 for INTx
 * @upcalls: upcall interrupts: all of the vector route, those of the INTx
 *	route that found an upcall pending
 */
struct xenpv_platform {
	struct pci_dev *pdev;
	struct xenpv_xen_info info;
	resource_size_t mmio_start;
	resource_size_t mmio_len;
	unsigned long next_gpfn;
	unsigned long end_gpfn;
	struct shared_info *shared_info;
	unsigned long shared_info_gpfn;
	u64 callback_via;
	unsigned int upcall_irq;
	unsigned int upcall_vector;
	unsigned long upcalls;
};

/* upcall.c: how Xen raises the event upcall */
int xenpv_upcall_setup(struct xenpv_platform *plat);
void xenpv_upcall_teardown(struct xenpv_platform *plat);

#endif /* _XENPV_PVOPS_H */
