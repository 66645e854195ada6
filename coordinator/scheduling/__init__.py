"""Follow-up appointments: series from templates, attendance, no-shows, calendars."""
