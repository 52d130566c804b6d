"""Use cases: resolve a parsed query against the store (no HTTP, no SQL)."""
