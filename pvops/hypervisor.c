// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: the ops table in use, HVM parameters, and detection of Xen from
 * its CPUID leaves and version hypercalls. Hardware independent: the CPUID
 * instruction and the hypercall instruction are behind xenpv_hv.
 */

#include <linux/bits.h>
#include <linux/errno.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <xen/interface/xen.h>
#include <xen/interface/version.h>
#include <xen/interface/hvm/hvm_op.h>
#include <xenpv/hypervisor.h>

/* "XenVMMXenVMM" in ebx, ecx, edx of the range's first leaf. */
#define XENPV_SIG_EBX	0x566e6558u
#define XENPV_SIG_ECX	0x65584d4du
#define XENPV_SIG_EDX	0x4d4d566eu

/* Leaf base + 4: HVM features; eax flags, ebx vcpu id. */
#define XENPV_LEAF_HVM		4
#define XENPV_HVM_VCPU_ID_PRESENT	BIT(3)

const struct xenpv_hv_ops *xenpv_hv;

/**
 * xenpv_hv_set_ops() - install the hypervisor ops table
 * @ops: the table, or NULL to clear it
 *
 * Context: process context, before any layer starts or after the last one
 * stopped. Not locked: see the comment at xenpv_hv.
 */
void xenpv_hv_set_ops(const struct xenpv_hv_ops *ops)
{
	xenpv_hv = ops;
}

/**
 * xenpv_hvm_get_param() - read an HVM parameter (HVM_PARAM_*)
 * @index: parameter index
 * @value: where the value goes
 *
 * Context: any context in which a hypercall may be made.
 * Return: 0, or a negative Xen errno.
 */
int xenpv_hvm_get_param(unsigned int index, u64 *value)
{
	struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index };
	int rc;

	rc = xenpv_hvm_op(HVMOP_get_param, &p);
	if (!rc)
		*value = p.value;
	return rc;
}

/**
 * xenpv_hvm_set_param() - write an HVM parameter (HVM_PARAM_*)
 * @index: parameter index
 * @value: the value
 *
 * Context: any context in which a hypercall may be made.
 * Return: 0, or a negative Xen errno.
 */
int xenpv_hvm_set_param(unsigned int index, u64 value)
{
	struct xen_hvm_param p = {
		.domid = DOMID_SELF, .index = index, .value = value,
	};

	return xenpv_hvm_op(HVMOP_set_param, &p);
}

static bool xenpv_leaf_is_xen(const u32 r[4])
{
	return r[1] == XENPV_SIG_EBX && r[2] == XENPV_SIG_ECX &&
	       r[3] == XENPV_SIG_EDX;
}

/**
 * xenpv_detect_cpuid() - find Xen's CPUID range and read what it says
 * @info: filled with the range, version and HVM feature leaf
 *
 * Scans 0x40000000..0x40010000 in steps of 0x100, as Xen may sit behind
 * another hypervisor's leaves (Viridian). A range counts only if its
 * maximum leaf covers base + 2, the minimum Xen has always provided.
 *
 * Context: any.
 * Return: 0 if Xen was found, -ENODEV if not.
 */
int xenpv_detect_cpuid(struct xenpv_xen_info *info)
{
	u32 base, r[4];

	memset(info, 0, sizeof(*info));
	for (base = XENPV_CPUID_FIRST; base < XENPV_CPUID_LAST;
	     base += XENPV_CPUID_STEP) {
		xenpv_hv->cpuid(base, r);
		if (xenpv_leaf_is_xen(r) && r[0] >= base + 2 &&
		    r[0] < base + XENPV_CPUID_STEP)
			break;
	}
	if (base >= XENPV_CPUID_LAST)
		return -ENODEV;

	info->cpuid_base = base;
	info->max_leaf = r[0];

	xenpv_hv->cpuid(base + 1, r);
	info->major = r[0] >> 16;
	info->minor = r[0] & 0xffff;

	if (info->max_leaf >= base + XENPV_LEAF_HVM) {
		xenpv_hv->cpuid(base + XENPV_LEAF_HVM, r);
		info->hvm_features = r[0];
		if (r[0] & XENPV_HVM_VCPU_ID_PRESENT)
			info->vcpu_id = r[1];
	}
	return 0;
}

/**
 * xenpv_detect_version() - ask Xen itself for its version and features
 * @info: a result of xenpv_detect_cpuid(), completed here
 *
 * The first hypercalls xenpv makes: if they fail, the hypercall path is
 * broken and nothing else can work. The version from XENVER_version is
 * checked against the one CPUID gave.
 *
 * Context: process context.
 * Return: 0, -EIO if a hypercall failed, -EPROTO if the versions disagree.
 */
int xenpv_detect_version(struct xenpv_xen_info *info)
{
	struct xen_feature_info fi = { .submap_idx = 0 };
	char extra[XEN_EXTRAVERSION_LEN];
	int ver;

	ver = xenpv_xen_version(XENVER_version, NULL);
	if (ver < 0)
		return -EIO;
	if ((ver >> 16) != info->major || (ver & 0xffff) != info->minor)
		return -EPROTO;

	if (xenpv_xen_version(XENVER_get_features, &fi) < 0)
		return -EIO;
	info->features = fi.submap;

	memset(extra, 0, sizeof(extra));
	if (xenpv_xen_version(XENVER_extraversion, extra) < 0)
		return -EIO;
	/* Xen's string need not be terminated; ours is. */
	strscpy(info->extraversion, extra,
		min(sizeof(info->extraversion), sizeof(extra)));
	return 0;
}
