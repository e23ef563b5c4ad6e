"""API keys: hashed storage, constant-time checks, the `ApiKeyDep` dependency and the key CLI."""
