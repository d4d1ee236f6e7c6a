"""A pool of Ray actors working through a list of shards, with retries and progress.

Each actor is created once and keeps what it loaded (a model, a translator) for every
shard it is given. A worker process that dies (killed, out of memory, its node lost) is
restarted by Ray and its shard retried, up to ``max_attempts`` in all; an error raised by
the work itself (a bad line in the corpus) is not retried and ends the job. Shards are
handed out one at a time, so a fast worker takes more of them.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any, Callable, Iterator, Sequence

from xlir.distributed.sharding import Shard, ShardError
from xlir.errors import XlirError
from xlir.progress import progress_enabled

__all__ = ["run_shards"]

logger = logging.getLogger(__name__)


def run_shards(
    ray,
    worker_cls: type,
    init_args: tuple,
    method: str,
    shards: Sequence[Shard],
    args_of: Callable[[Shard], tuple],
    *,
    workers: int,
    resources: dict[str, float],
    max_attempts: int = 3,
    total_docs: int | None = None,
    show_progress: bool | None = False,
    desc: str = "shards",
) -> Iterator[tuple[Shard, Any]]:
    """Run ``worker.method(*args_of(shard))`` for every shard on ``workers`` actors of
    ``worker_cls(*init_args)``; yields ``(shard, result)`` as shards finish.

    Raises the work's own :class:`XlirError` (a bad input line...) as is, and
    :class:`ShardError` when a shard's worker died ``max_attempts`` times. Actors are
    killed when the iteration ends, however it ends.
    """
    if max_attempts < 1:
        raise ValueError(f"max_attempts must be >= 1, got {max_attempts}")
    if not shards:
        return
    remote = ray.remote(worker_cls).options(
        max_restarts=max_attempts - 1, max_task_retries=max_attempts - 1, **resources
    )
    actors = [remote.remote(*init_args) for _ in range(max(1, min(workers, len(shards))))]
    queue = deque(shards)
    inflight: dict[Any, tuple[Shard, Any]] = {}

    def submit(actor) -> None:
        shard = queue.popleft()
        inflight[getattr(actor, method).remote(*args_of(shard))] = (shard, actor)

    total_docs = total_docs if total_docs is not None else sum(s.docs for s in shards)
    bar = _bar(show_progress, total_docs, desc)
    start = time.perf_counter()
    done_docs = 0
    try:
        for actor in actors:
            if queue:
                submit(actor)
        n_done = 0
        while inflight:
            ready, _ = ray.wait(list(inflight), num_returns=1)
            shard, actor = inflight.pop(ready[0])
            result = _get(ray, ready[0], shard, max_attempts)
            n_done += 1
            done_docs += shard.docs
            rate = done_docs / max(time.perf_counter() - start, 1e-9)
            logger.info("%s %d done: %d of %d shards, %d docs, %.0f docs/s", desc, shard.index, n_done, len(shards),
                        done_docs, rate)
            if bar is not None:
                bar.update(shard.docs)
                bar.set_postfix_str(f"shards {n_done}/{len(shards)}")
            if queue:
                submit(actor)
            yield shard, result
    finally:
        if bar is not None:
            bar.close()
        for actor in actors:
            ray.kill(actor, no_restart=True)


def _get(ray, ref, shard: Shard, max_attempts: int) -> Any:
    from ray import exceptions as rex

    try:
        return ray.get(ref)
    except rex.RayTaskError as e:
        cause = getattr(e, "cause", None)
        if isinstance(cause, XlirError):
            raise cause from None
        raise ShardError(f"shard {shard.index} failed: {cause or e}") from None
    except (rex.RayActorError, rex.WorkerCrashedError, rex.ObjectLostError) as e:
        raise ShardError(
            f"shard {shard.index} failed: its worker died {max_attempts} time(s) ({type(e).__name__}); "
            "finished shards are kept, run the job again to resume"
        ) from None


def _bar(show_progress: bool | None, total: int, desc: str):
    if not progress_enabled(show_progress):
        return None
    import sys

    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="doc", file=sys.stderr, dynamic_ncols=True)
