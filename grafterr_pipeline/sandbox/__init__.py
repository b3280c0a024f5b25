"""A local simulator of the Grafterr API, for tests, the demo and running by hand.

It implements ``docs/grafterr-api.md`` over HTTP on loopback, serves deterministic orders from
a seed, injects the faults and takes the liberties the contract allows when asked, delivers the
webhook events, and reports the ground truth a correct pipeline must end with. See
``docs/sandbox.md``.
"""

from __future__ import annotations

from grafterr_pipeline.sandbox.app import build_app
from grafterr_pipeline.sandbox.config import SandboxConfig
from grafterr_pipeline.sandbox.environment import pipeline_environment
from grafterr_pipeline.sandbox.server import SandboxServer
from grafterr_pipeline.sandbox.truth import GroundTruth, Tally, ground_truth

__all__ = [
    "GroundTruth",
    "SandboxConfig",
    "SandboxServer",
    "Tally",
    "build_app",
    "ground_truth",
    "pipeline_environment",
]
