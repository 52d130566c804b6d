"""Readers, one module per SDMX format family."""
