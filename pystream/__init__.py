"""pystream: a Kafka-compatible event streaming platform and stream processor.

Importing the package is cheap: it loads neither the broker nor numpy/numba.
"""

__version__ = "0.1.0"
