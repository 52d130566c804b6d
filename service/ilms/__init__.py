"""The ILMS structures: module DSDs, table dataflows and constraints, providers, categories."""
