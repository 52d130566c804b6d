"""Tests of the ILMS structures (service.ilms)."""
