"""pystream.server."""
