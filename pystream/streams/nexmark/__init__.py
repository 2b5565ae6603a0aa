"""Nexmark: the standard streaming benchmark (generator and queries) on pystream.streams."""
