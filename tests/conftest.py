"""Test-wide settings.

Hypothesis' per-example deadline is a timing assertion; tests here assert
behaviour, never speed (speed lives in benchmarks/), and the machines are
shared and noisy. So no deadline, anywhere.
"""

from hypothesis import settings

settings.register_profile("pystream", deadline=None)
settings.load_profile("pystream")
