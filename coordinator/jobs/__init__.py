"""The periodic-jobs mechanism: what a job is and the registry (registry.py), one run per job and
slot (runner.py, models.py), APScheduler (scheduler.py), `flask jobs` (cli.py) and the
administrators' pages (views.py). The jobs themselves are written by their domains
(`<domain>/jobs.py`) and listed in `web.register_jobs`."""
