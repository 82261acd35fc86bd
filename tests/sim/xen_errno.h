/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _XENPV_TESTS_SIM_XEN_ERRNO_H
#define _XENPV_TESTS_SIM_XEN_ERRNO_H

/* The Xen errno values the simulation returns (xen/include/public/errno.h). */
#define XEN_EPERM	1
#define XEN_ENOENT	2
#define XEN_ENOMEM	12
#define XEN_EFAULT	14
#define XEN_EBUSY	16
#define XEN_EINVAL	22
#define XEN_ENOSPC	28
#define XEN_ENOSYS	38

#endif
