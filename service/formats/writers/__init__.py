"""Writers, one module per SDMX format and version."""
