"""pystream.storage."""
