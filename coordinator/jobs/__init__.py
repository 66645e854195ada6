"""Periodic jobs (APScheduler 3), declared in one list, each runnable from the CLI."""
