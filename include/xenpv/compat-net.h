/* SPDX-License-Identifier: GPL-2.0 */
/*
 * xenpv: the networking side of compat.h, for the network frontend alone
 * (kept apart so that the other modules do not pull in its headers).
 */
#ifndef _XENPV_COMPAT_NET_H
#define _XENPV_COMPAT_NET_H

/* 6.6 split net/page_pool.h in two; Kbuild defines the macro from 6.6 on. */
#ifdef XENPV_PAGE_POOL_HELPERS
#include <net/page_pool/helpers.h>
#else
#include <net/page_pool.h>
#endif

#endif /* _XENPV_COMPAT_NET_H */
