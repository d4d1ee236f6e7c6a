"""Engine selection and the connection to a Ray cluster.

``local`` (the default everywhere) runs in this process, as xlir always has. ``ray``
connects to a Ray cluster (``address``, else ``$RAY_ADDRESS``, else a Ray instance
started on this machine) and runs the job's shards as Ray actors. Ray is imported only
here and in the modules that run on it.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from xlir.errors import MissingDependencyError, XlirError

__all__ = ["ENGINES", "import_ray", "connect", "worker_slots", "uses_device"]

logger = logging.getLogger(__name__)

ENGINES = ("local", "ray")


def import_ray():
    """The ``ray`` module; raises :class:`MissingDependencyError` with the install hint."""
    try:
        import ray
    except ImportError:
        raise MissingDependencyError('--engine ray needs Ray, which is not installed; run: pip install "xlir[ray]"') from None
    return ray


def connect(address: str | None = None, *, log_to_driver: bool = False):
    """Connect to Ray once per process and return the ``ray`` module.

    ``address`` is a cluster's ``HOST:PORT`` (or ``auto``); None uses ``$RAY_ADDRESS`` or
    starts a single-machine Ray instance. Workers import xlir from their own environment
    and read the corpus and index paths they are given, so on several machines those
    paths must be on a file system every node mounts at the same place. Workers' own
    output stays in Ray's logs unless ``log_to_driver``; their errors reach the driver as
    exceptions either way.
    """
    ray = import_ray()
    if ray.is_initialized():
        return ray
    address = address or os.environ.get("RAY_ADDRESS") or None
    try:
        ray.init(address=address, log_to_driver=log_to_driver, logging_level=logging.WARNING,
                 include_dashboard=False if address is None else None)
    except ConnectionError as e:
        raise XlirError(f"cannot connect to the Ray cluster at {address}: {e}") from None
    logger.info("connected to Ray (%s): %s", address or "local instance", _resources(ray))
    return ray


def _resources(ray) -> str:
    res = ray.cluster_resources()
    return ", ".join(f"{k}={res[k]:g}" for k in ("CPU", "GPU") if k in res) or "no CPUs"


def uses_device(params: Any) -> bool:
    """Whether a component runs a model that a GPU speeds up: its params have ``device``."""
    import dataclasses

    return dataclasses.is_dataclass(params) and any(f.name == "device" for f in dataclasses.fields(params))


def worker_slots(ray, *, gpu: bool) -> tuple[int, dict[str, float]]:
    """How many one-slot workers the cluster can run at once and each worker's resources:
    one GPU each when ``gpu`` and the cluster has GPUs, else one CPU each."""
    res = ray.cluster_resources()
    if gpu and res.get("GPU", 0) >= 1:
        return int(res["GPU"]), {"num_gpus": 1, "num_cpus": 1}
    slots = int(res.get("CPU", 0))
    if slots < 1:
        raise XlirError("the Ray cluster has no CPU to run workers on (start nodes with --num-cpus >= 1)")
    return slots, {"num_cpus": 1}
