"""A local simulator of the Grafterr API, for tests, the demo and running by hand.

It implements ``docs/grafterr-api.md`` over HTTP on loopback, serves deterministic orders from
a seed, injects the faults and takes the liberties the contract allows when asked, delivers the
webhook events, and reports the ground truth a correct pipeline must end with. See
``docs/sandbox.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from grafterr_pipeline.lazy import lazy_attributes
from grafterr_pipeline.sandbox.config import SandboxConfig
from grafterr_pipeline.sandbox.environment import pipeline_environment

if TYPE_CHECKING:
    from grafterr_pipeline.sandbox.app import build_app
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

# The app and server load Starlette and uvicorn, the ground truth the order generator: loaded
# when first asked for (PEP 562), so that importing the configuration stays light.
_LAZY = {
    "build_app": "grafterr_pipeline.sandbox.app",
    "SandboxServer": "grafterr_pipeline.sandbox.server",
    "GroundTruth": "grafterr_pipeline.sandbox.truth",
    "Tally": "grafterr_pipeline.sandbox.truth",
    "ground_truth": "grafterr_pipeline.sandbox.truth",
}

__getattr__ = lazy_attributes(__name__, _LAZY)
