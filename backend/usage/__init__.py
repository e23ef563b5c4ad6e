"""Usage and estimated cost per API key, read from the history."""
