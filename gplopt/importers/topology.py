"""Graph rules of an imported network: bus couplers merged, parallel branches merged, the tree oriented from
the slack, and a closed loop rejected with the names of the elements that form it."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from gplopt.errors import InstanceError


class Merge:
    """Union-find over bus indices; the representative of a group is its smallest index."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}

    def find(self, x: int) -> int:
        while self.parent.get(x, x) != x:
            x = self.parent.get(x, x)
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


@dataclass
class Edge:
    a: int                 # representative bus indices
    b: int
    r_ohm: float
    x_ohm: float
    rating_kva: float | None
    names: list[str]       # e.g. "line 'MV2.101 Line 1'"
    kind: str
    length_km: float | None


def merge_parallel(edges: list[Edge]) -> tuple[list[Edge], list[list[str]]]:
    """Branches between the same two buses become one equivalent: impedances in parallel, ratings added."""
    groups: dict[tuple[int, int], list[Edge]] = {}
    for e in edges:
        groups.setdefault((min(e.a, e.b), max(e.a, e.b)), []).append(e)
    out, merged = [], []
    for group in groups.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        y = sum(1.0 / complex(e.r_ohm, e.x_ohm) for e in group)
        z = 1.0 / y
        ratings = [e.rating_kva for e in group if e.rating_kva is not None]
        names = [n for e in group for n in e.names]
        out.append(Edge(a=group[0].a, b=group[0].b, r_ohm=z.real, x_ohm=z.imag,
                        rating_kva=sum(ratings) if len(ratings) == len(group) else None,
                        names=names, kind=group[0].kind, length_km=group[0].length_km))
        merged.append(names)
    return out, merged


def _path(adj: dict[int, list[tuple[int, int]]], src: int, dst: int) -> list[int]:
    """Edge indices on the tree path src -> dst (breadth-first)."""
    prev: dict[int, tuple[int, int]] = {src: (-1, -1)}
    queue = deque([src])
    while queue:
        u = queue.popleft()
        if u == dst:
            break
        for v, k in adj.get(u, []):
            if v not in prev:
                prev[v] = (u, k)
                queue.append(v)
    out = []
    while dst != src:
        dst, k = prev[dst]
        out.append(k)
    return out


def check_radial(edges: list[Edge]) -> None:
    """Reject the first closed loop, naming every element in it and how to open it."""
    uf = Merge()
    adj: dict[int, list[tuple[int, int]]] = {}
    for k, e in enumerate(edges):
        if uf.find(e.a) == uf.find(e.b):
            loop = [k, *_path(adj, e.a, e.b)]
            names = ", ".join(n for i in loop for n in edges[i].names)
            raise InstanceError(f"network loop ({names})", "radial in operation: open one element of the loop "
                                "(an open line switch or in_service=False in pandapower)",
                                f"{len(loop)} branches closed")
        uf.union(e.a, e.b)
        adj.setdefault(e.a, []).append((e.b, k))
        adj.setdefault(e.b, []).append((e.a, k))


def orient(edges: list[Edge], root: int) -> tuple[list[tuple[int, int, Edge]], set[int]]:
    """(parent, child, edge) in breadth-first order from the root, and the set of buses reached."""
    adj: dict[int, list[tuple[int, Edge]]] = {}
    for e in edges:
        adj.setdefault(e.a, []).append((e.b, e))
        adj.setdefault(e.b, []).append((e.a, e))
    seen, out, queue = {root}, [], deque([root])
    while queue:
        u = queue.popleft()
        for v, e in adj.get(u, []):
            if v not in seen:
                seen.add(v)
                out.append((u, v, e))
                queue.append(v)
    return out, seen
