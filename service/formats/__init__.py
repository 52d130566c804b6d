"""SDMX message formats: readers and writers, one module per format and version."""
