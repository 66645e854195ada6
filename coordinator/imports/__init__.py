"""The CSV import engine: one engine, one schema per kind of record."""
