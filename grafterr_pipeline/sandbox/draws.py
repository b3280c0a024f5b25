"""Weighted random choices, precomputed once: generation draws millions of them."""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Generic, TypeVar

__all__ = ["Weighted"]

T = TypeVar("T")


@dataclass(frozen=True)
class Weighted(Generic[T]):
    """A choice among ``values`` by ``weights``, with the cumulative weights worked out once.

    ``random.choices`` re-accumulates the weights on every call, which dominated generation.
    """

    values: Sequence[T]
    weights: Sequence[float]
    _cumulative: tuple[float, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_cumulative", tuple(accumulate(self.weights)))

    def pick(self, rng: random.Random) -> T:
        """Draw one value."""
        return self.values[bisect(self._cumulative, rng.random() * self._cumulative[-1])]
