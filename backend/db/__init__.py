"""Database plumbing: the declarative base, the engine factory and the request session."""
