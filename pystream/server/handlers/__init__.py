"""pystream.server.handlers."""
