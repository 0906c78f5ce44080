"""Native thread limits (OpenMP, BLAS) for the library's entry points."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from threadpoolctl import threadpool_limits

P = ParamSpec("P")
R = TypeVar("R")


def single_native_thread(function: Callable[P, R]) -> Callable[P, R]:
    """Run `function` with OpenMP (gradient boosting) and BLAS (logistic regression) limited
    to one thread each, then restore the previous limits.

    On small machines that run several jobs at once (2 cores, a multiprocess Dagster
    executor, dbt beside it), these thread pools fight each other: a logistic regression fit
    measured 1.9 s with 2 BLAS threads vs 0.1 s with one. Our matrices are small enough that
    one thread per process is faster there and not much slower on an idle machine.
    """

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with threadpool_limits(limits=1):
            return function(*args, **kwargs)

    return wrapper
