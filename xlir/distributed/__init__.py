"""Distributed jobs on Ray: sharded index builds, sharded corpus translation, fan-out search.

Nothing here imports Ray until a job runs (``pip install "xlir[ray]"``). Without
``--engine ray`` every command runs in-process.

- :func:`xlir.distributed.index.build_index`: corpus shards -> index segments, resumable;
- :func:`xlir.distributed.translate.translate_corpus`: corpus shards translated, joined in order;
- :class:`xlir.distributed.search.FanOutSearcher`: queries sent to actors holding segments.
"""

from __future__ import annotations
