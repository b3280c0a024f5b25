"""The ``requests``-based Grafterr client: pull orders at the rate limit and miss none.

See :class:`GrafterrClient`. The pieces are public so tests and tools can compose them:
:class:`RetryPolicy`, :class:`RateLimitPolicy` with the machine-wide :class:`RateLimiter`,
:class:`PagingPolicy`, and the per-pull :class:`PullStats`.
"""

from __future__ import annotations

from grafterr_pipeline.client.api import GrafterrClient, PullResult
from grafterr_pipeline.client.paging import PagingPolicy
from grafterr_pipeline.client.ratelimit import RateLimiter, RateLimitPolicy
from grafterr_pipeline.client.retry import RetryPolicy, parse_retry_after
from grafterr_pipeline.client.stats import PullStats

__all__ = [
    "GrafterrClient",
    "PagingPolicy",
    "PullResult",
    "PullStats",
    "RateLimitPolicy",
    "RateLimiter",
    "RetryPolicy",
    "parse_retry_after",
]
