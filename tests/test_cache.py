"""The one versioned cache: one build per version, even under concurrent callers."""

from __future__ import annotations

import threading
import time

from spacematch.cache import VersionedCache


def test_builds_once_per_version_and_rebuilds_when_it_moves():
    cache: VersionedCache[int] = VersionedCache()
    calls: list[int] = []

    def build(value: int):
        return lambda: calls.append(value) or value

    assert cache.get("k", 1, build(10)) == 10
    assert cache.get("k", 1, build(11)) == 10
    assert cache.get("k", 2, build(12)) == 12
    assert calls == [10, 12]
    assert cache.builds == 2


def test_concurrent_callers_wait_for_one_build():
    cache: VersionedCache[str] = VersionedCache()
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        time.sleep(0.05)
        return "done"

    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get("k", 7, slow))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ["done"] * 8
    assert len(calls) == 1


def test_a_build_may_read_another_key():
    cache: VersionedCache[int] = VersionedCache()
    outer = cache.get("outer", 1, lambda: cache.get("inner", 1, lambda: 2) + 1)
    assert outer == 3
