"""Role home pages (worklists, shared plans, dashboard, administration), language, health."""
