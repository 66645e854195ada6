"""Registry metrics (SQL aggregates) with small-cell suppression for councils."""
