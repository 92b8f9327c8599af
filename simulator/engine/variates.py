"""Variates: random numbers drawn in batches by NumPy and served to the hot path one at a time.

Drawing one variate at a time from NumPy costs a microsecond; drawing a
batch and handing out its elements costs a list index. :class:`Variates`
holds one batch of one stream (a station's service times, a status
message's delay) and asks for the next batch when it runs out, so the
sequence is exactly the stream's, batch after batch.
"""
from __future__ import annotations

from typing import Callable

__all__ = ["Variates"]


class Variates:
    """The variates of one random stream, served in order.

    Parameters
    ----------
    next_batch : callable
        Returns the stream's next batch as a list of floats (for instance
        :func:`simulator.traffic.batch_drawer`).

    Examples
    --------
    >>> batches = iter([[1.0, 2.0], [3.0]])
    >>> variates = Variates(lambda: next(batches))
    >>> [variates.next() for _ in range(3)]
    [1.0, 2.0, 3.0]
    """

    __slots__ = ("next_batch", "batch", "position")

    def __init__(self, next_batch: Callable[[], list[float]]):
        self.next_batch = next_batch
        #: The batch as a tuple: its items lie in the object itself, where a list's lie in a block apart, so a
        #: variate of a stream read rarely (out of the cache) costs one memory read fewer.
        self.batch: tuple[float, ...] = ()
        self.position = 0

    def next(self) -> float:
        """The stream's next variate."""
        position = self.position
        if position == len(self.batch):
            self.batch = tuple(self.next_batch())
            position = 0
        self.position = position + 1
        return self.batch[position]
