"""Task plugins (summarize, classify, translate, ...), their registry, runner and HTTP routes."""
