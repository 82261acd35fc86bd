/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv: the one door to the hypervisor.
 *
 * Every access xenpv makes to Xen (CPUID leaves, hypercalls, mapping frames
 * that Xen backs) goes through one ops table. The real table lives in
 * pvops/x86.c; tests/sim provides a simulated hypervisor with the same
 * table, so the layer code above runs unchanged under KUnit.
 *
 * This header is plain C: it must not include the asm/xen headers, which do not
 * build under UML.
 */
#ifndef _XENPV_HYPERVISOR_H
#define _XENPV_HYPERVISOR_H

#include <linux/types.h>
#include <xen/interface/xen.h>

/**
 * struct xenpv_hv_ops - how xenpv reaches the hypervisor
 * @name: short name for logs ("vmcall", "vmmcall", "sim")
 * @cpuid: run CPUID @leaf (subleaf 0); fill @regs with eax, ebx, ecx, edx
 * @hypercall: issue hypercall @nr with five arguments. Pointer arguments
 *	are kernel virtual addresses (an HVM guest passes its own virtual
 *	addresses; Xen walks the guest's page tables). Returns Xen's value:
 *	0 or positive on success, a negative Xen errno on failure.
 * @map_gpfn: map @nr guest frames from @gpfn on, which the hypervisor backs
 *	after XENMEM_add_to_physmap, into kernel virtual memory. NULL on
 *	failure.
 * @unmap: undo @map_gpfn.
 *
 * All callbacks may be called from any context that the caller's own
 * context allows (@hypercall from hard interrupt context too), except
 * @map_gpfn and @unmap, which may sleep.
 */
struct xenpv_hv_ops {
	const char *name;
	void (*cpuid)(u32 leaf, u32 regs[4]);
	long (*hypercall)(unsigned int nr, unsigned long a1, unsigned long a2,
			  unsigned long a3, unsigned long a4, unsigned long a5);
	void *(*map_gpfn)(unsigned long gpfn, unsigned int nr);
	void (*unmap)(void *va);
};

/*
 * The table in use. Set once at probe (or by a test) before any layer
 * starts, cleared after the last one stopped; never changed while a layer
 * runs, so readers need no lock.
 */
extern const struct xenpv_hv_ops *xenpv_hv;

void xenpv_hv_set_ops(const struct xenpv_hv_ops *ops);

static inline long xenpv_hypercall(unsigned int nr, unsigned long a1,
				   unsigned long a2, unsigned long a3)
{
	return xenpv_hv->hypercall(nr, a1, a2, a3, 0, 0);
}

/* Typed wrappers, one per hypercall xenpv uses. */
static inline int xenpv_xen_version(int cmd, void *arg)
{
	return xenpv_hypercall(__HYPERVISOR_xen_version, cmd,
			       (unsigned long)arg, 0);
}

static inline int xenpv_memory_op(unsigned int cmd, void *arg)
{
	return xenpv_hypercall(__HYPERVISOR_memory_op, cmd,
			       (unsigned long)arg, 0);
}

static inline int xenpv_hvm_op(int cmd, void *arg)
{
	return xenpv_hypercall(__HYPERVISOR_hvm_op, cmd,
			       (unsigned long)arg, 0);
}

static inline int xenpv_event_channel_op(int cmd, void *arg)
{
	return xenpv_hypercall(__HYPERVISOR_event_channel_op, cmd,
			       (unsigned long)arg, 0);
}

static inline int xenpv_sched_op(int cmd, void *arg)
{
	return xenpv_hypercall(__HYPERVISOR_sched_op, cmd,
			       (unsigned long)arg, 0);
}

static inline int xenpv_grant_table_op(unsigned int cmd, void *arg,
				       unsigned int count)
{
	return xenpv_hypercall(__HYPERVISOR_grant_table_op, cmd,
			       (unsigned long)arg, count);
}

static inline int xenpv_vcpu_op(int cmd, unsigned int vcpu, void *arg)
{
	return xenpv_hypercall(__HYPERVISOR_vcpu_op, cmd, vcpu,
			       (unsigned long)arg);
}

int xenpv_hvm_get_param(unsigned int index, u64 *value);
int xenpv_hvm_set_param(unsigned int index, u64 value);

/**
 * struct xenpv_xen_info - what detection found
 * @cpuid_base: first CPUID leaf of Xen's range (0x40000000, or 0x40000100
 *	when Xen also offers Viridian leaves first)
 * @max_leaf: highest Xen leaf
 * @major: Xen major version (from CPUID base + 1)
 * @minor: Xen minor version
 * @hvm_features: CPUID base + 4, eax: XEN_HVM_CPUID_* flags (0 if absent)
 * @vcpu_id: CPUID base + 4, ebx, when XEN_HVM_CPUID_VCPU_ID_PRESENT
 * @features: XENVER_get_features submap 0 (XENFEAT_* bits)
 * @extraversion: XENVER_extraversion, NUL-terminated
 */
struct xenpv_xen_info {
	u32 cpuid_base;
	u32 max_leaf;
	u16 major;
	u16 minor;
	u32 hvm_features;
	u32 vcpu_id;
	u32 features;
	char extraversion[16];
};

#define XENPV_CPUID_FIRST	0x40000000u
#define XENPV_CPUID_LAST	0x40010000u
#define XENPV_CPUID_STEP	0x100u

int xenpv_detect_cpuid(struct xenpv_xen_info *info);
int xenpv_detect_version(struct xenpv_xen_info *info);

/* /sys/kernel/debug/xenpv, for every layer and frontend. */
struct dentry;
struct dentry *xenpv_debugfs_dir(void);
void xenpv_debugfs_exit(void);

#endif /* _XENPV_HYPERVISOR_H */
