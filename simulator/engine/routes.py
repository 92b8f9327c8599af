"""Routes as the engine walks them: station objects, the link delay before each, and branches.

:class:`Path` is the hot-path form of a :class:`~simulator.topology.Route`:
station state objects instead of indices, plus the figures a hop needs
(length, whether any link takes time, copies carried, recipient).
:class:`RouteBook` hands out paths: a pair's path is chained from the two
agencies' halves, compiled once per agency (:class:`PathHalves`); fan-out
trees are built from the topology and kept where they repeat (directives to
every province).

A pair's path is not copied out of its halves: it is the first half's
stations and links, with the second half to follow (``then``), so handing
one out costs one small object whatever the number of agencies (a cache of
joined paths missed five times in six on the full 2025 structure, and
joining was a tenth of a run).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Final, Sequence

from ..topology import Route, RouteHalves, Topology
from .stations import StationState

__all__ = ["Path", "PathHalves", "RouteBook", "joined"]

#: Fan-out trees to at least this many recipients are kept (they repeat: "all provinces" from one sender).
_KEEP_TREES_FROM: Final = 8
#: Most fan-out trees kept; the oldest goes first.
_TREES_KEPT: Final = 4096


class Path:
    """A compiled route, or the first of its two legs.

    ``latency[i] + size * inv_bandwidth[i]`` is the link before
    ``stations[i]``; index ``length`` is the link after the last station.
    A path with a path ``then`` goes on along it after its last station
    (and the link after it): the job's route becomes ``then``
    (:meth:`StationState.send_on <simulator.engine.stations.StationState.send_on>`);
    :meth:`whole` gives the two legs as one path.
    """

    __slots__ = ("stations", "latency", "inv_bandwidth", "length", "has_links", "tails", "copies", "recipient",
                 "then")

    def __init__(self, stations: tuple[StationState, ...], latency: tuple[float, ...], inv_bandwidth: tuple[float, ...],
                 tails: tuple["Path", ...] = (), recipient: int = -1):
        self.stations = stations
        self.latency = latency
        self.inv_bandwidth = inv_bandwidth
        self.length = len(stations)
        self.has_links = any(latency) or any(inv_bandwidth)
        self.tails = tails
        self.copies: int = sum(t.copies for t in tails) if tails else 1
        self.recipient = recipient
        #: The leg that follows this one's last link (``None``: the route ends there).
        self.then: Path | None = None

    @staticmethod
    def chained(first: "Path", second: "Path", recipient: int) -> "Path":
        """``first`` then ``second`` to ``recipient``, sharing their stations and links (nothing is copied)."""
        path = Path(first.stations, first.latency, first.inv_bandwidth, (), recipient)
        path.then = second
        return path

    def whole(self) -> "Path":
        """The route as one path: a chained path's legs joined (:func:`joined`), any other path itself."""
        if self.then is None:
            return self
        return joined(self, self.then, self.recipient)

    @classmethod
    def compile(cls, route: Route, stations: Sequence[StationState]) -> "Path":
        """The path of a topology route (and of its branches)."""
        return cls(tuple(stations[i] for i in route.stations), route.latency, route.inv_bandwidth,
                   tuple(cls.compile(t, stations) for t in route.tails), route.recipient)


def joined(first: Path, second: Path, recipient: int) -> Path:
    """``first`` then ``second`` copied into one path, as :meth:`RouteHalves.route
    <simulator.topology.RouteHalves.route>` joins routes: the link after ``first`` adds to the one before
    ``second``'s first station."""
    lat, inv = first.latency, first.inv_bandwidth
    return Path(first.stations + second.stations,
                lat[:-1] + (lat[-1] + second.latency[0],) + second.latency[1:],
                inv[:-1] + (inv[-1] + second.inv_bandwidth[0],) + second.inv_bandwidth[1:],
                (), recipient)


class PathHalves:
    """Every agency's halves (:class:`~simulator.topology.RouteHalves`) compiled to paths, chained in compiled code.

    A pair's path is ``up[origin]`` then ``down[recipient]``, or ``rise``
    then ``fall`` behind one platform, the halves the topology joins routes
    from; only the pieces are paths already, and they are chained
    (:meth:`Path.chained`), not copied.
    """

    def __init__(self, halves: RouteHalves, stations: Sequence[StationState]):
        self.platform_of: list[int] = halves.platform_of
        self.up = [Path.compile(r, stations) for r in halves.up]
        self.down = [Path.compile(r, stations) for r in halves.down]
        self.rise = [Path.compile(r, stations) for r in halves.rise]
        self.fall = [Path.compile(r, stations) for r in halves.fall]

    def route(self, origin: int, recipient: int) -> Path:
        """The path from ``origin`` to ``recipient``, its two halves chained.

        A first half without a station (the sender's system and platform both passed through) is joined to
        the second instead: a job then sets out straight onto the second half's first link, as on one path.
        """
        platform_of = self.platform_of
        if platform_of[origin] == platform_of[recipient]:  # they meet at their platform
            first, second = self.rise[origin], self.fall[recipient]
        else:
            first, second = self.up[origin], self.down[recipient]
        if not first.length:
            return joined(first, second, recipient)
        return Path.chained(first, second, recipient)


class RouteBook:
    """Paths between agencies for one run.

    A pair's path is chained from the agencies' compiled halves
    (:class:`PathHalves`, the same stations and links as :meth:`Topology.route`
    gives), fresh for every copy: nothing grows with the square of the
    agencies.
    """

    def __init__(self, topology: Topology, stations: Sequence[StationState]):
        self._halves: RouteHalves = topology.route_halves()
        self._paths = PathHalves(self._halves, stations)
        self._stations = stations
        # ordered, so that forgetting the oldest entry costs O(1): a plain dict's first key is found by skipping
        # the slots its earlier deletions left (quadratic in the evictions; it was a fifth of a week's run)
        self._trees: OrderedDict[tuple[int, tuple[int, ...]], Path] = OrderedDict()

    def pair(self, origin: int, recipient: int) -> Path:
        """The path of one copy from ``origin`` to ``recipient``: the two agencies' halves, chained."""
        return self._paths.route(origin, recipient)

    def tree(self, origin: int, recipients: tuple[int, ...]) -> Path:
        """The delivery tree of a document to several recipients (kept when it is large enough to repeat)."""
        if len(recipients) < _KEEP_TREES_FROM:
            return Path.compile(self._halves.fanout(origin, recipients), self._stations)
        path = self._trees.get((origin, recipients))
        if path is None:
            path = self._keep(self._trees, (origin, recipients), _TREES_KEPT,
                              Path.compile(self._halves.fanout(origin, recipients), self._stations))
        return path

    @staticmethod
    def _keep(kept: OrderedDict, key: tuple, limit: int, path: Path) -> Path:
        """Keep ``path`` under ``key``, forgetting the oldest entry when ``limit`` is reached."""
        if len(kept) >= limit:
            kept.popitem(last=False)
        kept[key] = path
        return path
