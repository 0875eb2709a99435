"""The Ray session of the ``ray`` engine: a Ray started on this machine, bound to 127.0.0.1, with the CPUs
available (or ``scale.workers``) and a bounded object store; quiet, and shut down when the work is done. A
session already running in this process (``start`` called by its owner) is used as it is."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ragtune.config import ScaleConfig
from ragtune.errors import ConfigError

MB = 1024 * 1024


def import_ray() -> Any:
    """``ray`` with Ray Data; on Linux its node address is the loopback address, so that every Ray server
    listens on 127.0.0.1 only (the setting is read when ray is first imported)."""
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ConfigError("scale.engine 'ray' needs Ray Data: pip install 'ragtune[scale]'") from None
    return ray


def available_cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def start(scale: ScaleConfig) -> Any:
    """Start a local Ray for ``scale`` and configure Ray Data (ordered, quiet, object store bounded)."""
    ray = import_ray()
    ray.init(address="local", num_cpus=scale.workers or available_cpus(),
             object_store_memory=scale.object_store_mb * MB, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR)
    if ray.util.get_node_ip_address() != "127.0.0.1":
        ray.shutdown()
        raise ConfigError("Ray was imported before ragtune could bind it to 127.0.0.1: set the environment "
                          "variable RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 before starting Python")
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    context.execution_options.preserve_order = True  # results (and store writes) in input order
    context.execution_options.resource_limits = ray.data.ExecutionResources(
        object_store_memory=scale.object_store_mb * MB // 2)
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return ray


@contextmanager
def ray_session(scale: ScaleConfig) -> Iterator[Any]:
    """``ray``, started for the duration of the block unless this process already runs a session."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    start(scale)
    try:
        yield ray
    finally:
        ray.shutdown()
