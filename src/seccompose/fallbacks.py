"""Newer syscalls that C libraries try first, falling back to older ones only on ENOSYS.

glibc (and musl) call e.g. ``clone3`` and, if the kernel answers ENOSYS, retry with
``clone``. Any other errno is taken as the real answer: a profile that refuses
``clone3`` with EPERM breaks ``pthread_create`` even though ``clone`` is allowed.
compose's ``eperm`` errno policy therefore answers ENOSYS for these (as Docker does for
``clone3``), and ``lint`` warns where a profile does not.

>>> ENOSYS_FALLBACK["clone3"]
('clone',)
"""

from __future__ import annotations

from typing import Final

__all__ = ["ENOSYS_FALLBACK"]

ENOSYS_FALLBACK: Final[dict[str, tuple[str, ...]]] = {
    "clone3": ("clone",),
    "faccessat2": ("faccessat",),
    "close_range": ("close",),
    "openat2": ("openat",),
    "statx": ("newfstatat", "fstatat64", "fstat", "stat", "lstat"),
    "fchmodat2": ("fchmodat",),
    "epoll_pwait2": ("epoll_pwait",),
    "clock_gettime64": ("clock_gettime",),
    "clock_settime64": ("clock_settime",),
    "clock_adjtime64": ("clock_adjtime",),
    "clock_getres_time64": ("clock_getres",),
    "clock_nanosleep_time64": ("clock_nanosleep",),
    "timer_gettime64": ("timer_gettime",),
    "timer_settime64": ("timer_settime",),
    "timerfd_gettime64": ("timerfd_gettime",),
    "timerfd_settime64": ("timerfd_settime",),
    "utimensat_time64": ("utimensat",),
    "pselect6_time64": ("pselect6",),
    "ppoll_time64": ("ppoll",),
    "io_pgetevents_time64": ("io_pgetevents",),
    "recvmmsg_time64": ("recvmmsg",),
    "mq_timedsend_time64": ("mq_timedsend",),
    "mq_timedreceive_time64": ("mq_timedreceive",),
    "semtimedop_time64": ("semtimedop",),
    "rt_sigtimedwait_time64": ("rt_sigtimedwait",),
    "futex_time64": ("futex",),
    "sched_rr_get_interval_time64": ("sched_rr_get_interval",),
}
"""Syscalls that C libraries try first, and the older calls they fall back to on ENOSYS only."""
