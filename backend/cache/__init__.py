"""Answer cache: Redis when configured, an in-process LRU otherwise."""
