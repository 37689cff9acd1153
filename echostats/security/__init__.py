"""Token encryption and sessions (pure crypto: no I/O, no framework)."""
