"""Framework-free parsing of SDMX REST requests: structure queries and content negotiation."""
