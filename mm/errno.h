/* SPDX-License-Identifier: MIT */
/*
 * mm/errno.h - the errno values mm/ returns (negated), for freestanding code.
 * The values are Linux's, so on the host they agree with <errno.h>.
 */
#ifndef MM_ERRNO_H
#define MM_ERRNO_H

#ifndef EPERM
#define EPERM 1
#endif
#ifndef ENOENT
#define ENOENT 2
#endif
#ifndef EIO
#define EIO 5
#endif
#ifndef E2BIG
#define E2BIG 7
#endif
#ifndef EAGAIN
#define EAGAIN 11
#endif
#ifndef ENOMEM
#define ENOMEM 12
#endif
#ifndef EFAULT
#define EFAULT 14
#endif
#ifndef EBUSY
#define EBUSY 16
#endif
#ifndef EEXIST
#define EEXIST 17
#endif
#ifndef EINVAL
#define EINVAL 22
#endif
#ifndef ENOSPC
#define ENOSPC 28
#endif
#ifndef ERANGE
#define ERANGE 34
#endif
#ifndef ENOSYS
#define ENOSYS 38
#endif
#ifndef EOVERFLOW
#define EOVERFLOW 75
#endif
#ifndef EOPNOTSUPP
#define EOPNOTSUPP 95
#endif
#ifndef EDQUOT
#define EDQUOT 122
#endif
#ifndef EUCLEAN
#define EUCLEAN 117
#endif
#ifndef ESTALE
#define ESTALE 116
#endif
#ifndef ETIMEDOUT
#define ETIMEDOUT 110
#endif
#ifndef EINPROGRESS
#define EINPROGRESS 115
#endif

#endif /* MM_ERRNO_H */
