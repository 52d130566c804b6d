"""HTTP: routes, dependencies, middleware and exception handlers. FastAPI lives only here."""
