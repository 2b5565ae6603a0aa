"""pystream.client."""
