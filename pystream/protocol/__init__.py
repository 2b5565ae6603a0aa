"""pystream.protocol."""
