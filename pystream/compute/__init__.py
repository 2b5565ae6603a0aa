"""pystream.compute: numpy/numba kernels for the stream processor.

Modules here work on plain arrays and `BytesColumn`s: hashing (XXH64 and the shuffle
partitioner), grouping and per-group reductions, HyperLogLog sketches, window assignment
and user-defined aggregations. numba is imported only by `kernels`, and only when a kernel
that needs it first runs.
"""
