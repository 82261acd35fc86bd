// SPDX-License-Identifier: GPL-2.0
/*
 * xenpv: the real hypervisor ops for x86-64 HVM guests.
 *
 * Hypercalls are made directly with vmcall (Intel) or vmmcall (AMD,
 * Hygon), chosen by CPU vendor, as mainline does since XSA-466: there is
 * no executable hypercall page. Xen's 64-bit ABI: rax holds the hypercall
 * number and the result, arguments go in rdi, rsi, rdx, r10, r8. Xen may
 * clobber the argument registers, so all of them are outputs here.
 */

#include <linux/io.h>
#include <linux/mm.h>
#include <asm/processor.h>
#include <xenpv/hypervisor.h>

#include "pvops.h"

#define XENPV_HYPERCALL(insn)						\
static long xenpv_##insn(unsigned int nr, unsigned long a1,		\
			 unsigned long a2, unsigned long a3,		\
			 unsigned long a4, unsigned long a5)		\
{									\
	register unsigned long r10 asm("r10") = a4;			\
	register unsigned long r8 asm("r8") = a5;			\
	unsigned long ret = nr;						\
									\
	asm volatile(#insn						\
		     : "+a" (ret), "+D" (a1), "+S" (a2), "+d" (a3),	\
		       "+r" (r10), "+r" (r8)				\
		     : : "memory");					\
	return (long)ret;						\
}

XENPV_HYPERCALL(vmcall)
XENPV_HYPERCALL(vmmcall)

/*
 * The instruction itself rather than the kernel's cpuid() helper, whose
 * header moved twice between 6.1 and 7.x: in an HVM guest it traps to Xen
 * either way.
 */
static void xenpv_x86_cpuid(u32 leaf, u32 regs[4])
{
	asm volatile("cpuid"
		     : "=a" (regs[0]), "=b" (regs[1]), "=c" (regs[2]),
		       "=d" (regs[3])
		     : "0" (leaf), "2" (0));
}

static void *xenpv_x86_map_gpfn(unsigned long gpfn, unsigned int nr)
{
	/* Frames Xen backs inside the platform BAR: ordinary cached memory. */
	return memremap(PFN_PHYS(gpfn), (size_t)nr << PAGE_SHIFT, MEMREMAP_WB);
}

static void xenpv_x86_unmap(void *va)
{
	memunmap(va);
}

static const struct xenpv_hv_ops xenpv_intel_ops = {
	.name = "vmcall",
	.cpuid = xenpv_x86_cpuid,
	.hypercall = xenpv_vmcall,
	.map_gpfn = xenpv_x86_map_gpfn,
	.unmap = xenpv_x86_unmap,
};

static const struct xenpv_hv_ops xenpv_amd_ops = {
	.name = "vmmcall",
	.cpuid = xenpv_x86_cpuid,
	.hypercall = xenpv_vmmcall,
	.map_gpfn = xenpv_x86_map_gpfn,
	.unmap = xenpv_x86_unmap,
};

/**
 * xenpv_x86_ops() - the ops table for this CPU
 *
 * Context: any.
 * Return: the table whose hypercall instruction matches the CPU vendor.
 */
const struct xenpv_hv_ops *xenpv_x86_ops(void)
{
	switch (boot_cpu_data.x86_vendor) {
	case X86_VENDOR_AMD:
	case X86_VENDOR_HYGON:
		return &xenpv_amd_ops;
	default:
		return &xenpv_intel_ops;
	}
}
