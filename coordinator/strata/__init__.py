"""Territories, clinical programs and their population strata (the risk pyramid)."""
