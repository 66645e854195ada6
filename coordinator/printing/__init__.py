"""PDF printing with WeasyPrint (the only place that calls it)."""
