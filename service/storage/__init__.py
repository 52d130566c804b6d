"""Persistence: tables, repositories and the structure loader. All SQL lives here."""
