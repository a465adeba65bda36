"""A binary min-heap on two preallocated arrays for the numba searches (lazy deletion)."""
from __future__ import annotations

from numba import njit

__all__ = ["heap_push", "heap_pop"]


@njit(cache=True)
def heap_push(key, node, size, k, v):
    """Push ``(k, v)`` on the binary min-heap in ``key[:size]``/``node[:size]``; new size."""
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if key[parent] <= k:
            break
        key[i] = key[parent]
        node[i] = node[parent]
        i = parent
    key[i] = k
    node[i] = v
    return size + 1


@njit(cache=True)
def heap_pop(key, node, size):
    """Drop the heap's top (read it from ``key[0]``/``node[0]`` first); new size."""
    size -= 1
    k, v = key[size], node[size]
    i = 0
    while True:
        c = 2 * i + 1
        if c >= size:
            break
        if c + 1 < size and key[c + 1] < key[c]:
            c += 1
        if k <= key[c]:
            break
        key[i] = key[c]
        node[i] = node[c]
        i = c
    if size > 0:
        key[i] = k
        node[i] = v
    return size
