"""pystream.compute."""
