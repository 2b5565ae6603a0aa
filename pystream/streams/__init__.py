"""pystream.streams."""
