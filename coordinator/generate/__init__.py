"""The FHF-scale registry generator: `flask --app wsgi generate --patients N` (services.py),
the rows of each chunk of patients (registry.py), bulk writing (loader.py)."""
