"""pystream.cli."""
