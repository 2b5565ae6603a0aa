"""pystream.coordinator."""
