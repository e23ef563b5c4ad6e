"""Cross-cutting pieces: settings, errors, logging, the resources built in the lifespan."""
