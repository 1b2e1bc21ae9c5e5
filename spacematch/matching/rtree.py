"""An R-tree over boxes of any dimension with a numpy query that searches once (libspatialindex
through rtree), and the unique-positions helper the index uses on its results."""

from __future__ import annotations

import ctypes
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


class RTree:
    """A bulk-loaded R-tree over boxes of any dimension, with a numpy query that searches once.

    rtree's ``intersection_v`` starts with a two-slot buffer and repeats the search whenever the
    buffer overflows, which doubles the cost of a large window; a buffer sized to the tree
    avoids that. libspatialindex is not documented as thread-safe, so queries hold a lock.
    """

    def __init__(self, ids: np.ndarray, lows: np.ndarray, highs: np.ndarray) -> None:
        import numpy as np
        from rtree import index as rtree_index

        lows, highs = np.asarray(lows, dtype=float), np.asarray(highs, dtype=float)
        props = rtree_index.Property()
        props.dimension = self.dimension = lows.shape[1]
        props.leaf_capacity = 64
        props.index_capacity = 64
        self.size = len(ids)
        self._lock = threading.Lock()
        if self.size:
            self.tree = rtree_index.Index(
                (
                    np.asarray(ids, dtype=np.int64),
                    np.ascontiguousarray(lows),
                    np.ascontiguousarray(highs),
                ),
                properties=props,
            )
        else:
            self.tree = rtree_index.Index(properties=props)

    def query(self, lows: np.ndarray, highs: np.ndarray) -> np.ndarray:
        """Ids of every entry intersecting any of the k query boxes (k, d); may repeat an id."""
        import numpy as np
        from rtree import core as rtree_core

        lows = np.ascontiguousarray(lows, dtype=float).reshape(-1, self.dimension)
        highs = np.ascontiguousarray(highs, dtype=float).reshape(-1, self.dimension)
        k, d = lows.shape
        if not self.size or not k:
            return np.empty(0, dtype=np.int64)
        ids = np.empty(k * self.size, dtype=np.int64)
        counts = np.empty(k, dtype=np.uint64)
        done = ctypes.c_int64(0)
        with self._lock:
            rtree_core.rt.Index_Intersects_id_v(
                self.tree.handle,
                k,
                d,
                len(ids),
                d,
                1,
                lows.ctypes.data,
                highs.ctypes.data,
                ids.ctypes.data,
                counts.ctypes.data,
                ctypes.byref(done),
            )
            if done.value != k:  # cannot happen with a buffer this size; stay correct regardless
                # rtree leaves intersection_v unannotated: it returns (ids, counts) arrays.
                found: np.ndarray = self.tree.intersection_v(lows, highs)[0]  # type: ignore[no-untyped-call]
                return found
        return ids[: int(counts.sum())]

    def query_boxes(
        self, lows: np.ndarray, highs: np.ndarray, *, expect: int = 0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Ids intersecting each of k query boxes, and the count per box (in box order): a
        bulk query, one C call per buffer fill. ``expect``: a guess of the total hits (the
        buffer starts there and grows when libspatialindex stops at a box that does not fit;
        the box that did not fit reports its count, so the next fill always fits it)."""
        import numpy as np
        from rtree import core as rtree_core

        lows = np.ascontiguousarray(lows, dtype=float).reshape(-1, self.dimension)
        highs = np.ascontiguousarray(highs, dtype=float).reshape(-1, self.dimension)
        k, d = lows.shape
        counts = np.zeros(k, dtype=np.uint64)
        if not self.size or not k:
            return np.empty(0, dtype=np.int64), counts.astype(np.int64)
        ids = np.empty(max(int(expect), 4 * k, 1024), dtype=np.int64)
        box = hit = 0
        done = ctypes.c_int64(0)
        while box < k:
            with self._lock:
                rtree_core.rt.Index_Intersects_id_v(
                    self.tree.handle,
                    k - box,
                    d,
                    len(ids) - hit,
                    d,
                    1,
                    lows[box:].ctypes.data,
                    highs[box:].ctypes.data,
                    ids[hit:].ctypes.data,
                    counts[box:].ctypes.data,
                    ctypes.byref(done),
                )
            hit += int(counts[box : box + done.value].sum())
            box += done.value
            if box < k:  # counts[box] holds the size of the box that did not fit
                grown = np.empty(2 * len(ids) + int(counts[box]), dtype=np.int64)
                grown[:hit] = ids[:hit]
                ids = grown
        return ids[:hit], counts.astype(np.int64)


def unique_positions(ids: np.ndarray, n: int) -> np.ndarray:
    """Sorted unique ids in [0, n): a marker array beats sorting once ids are many."""
    import numpy as np

    if len(ids) * 32 < n:
        return np.unique(ids)
    mark = np.zeros(n, dtype=bool)
    mark[ids] = True
    return np.flatnonzero(mark)
