"""Background work: long work (CSV imports, batch prints, exports) as items in the database.

An item is queued in the caller's transaction (`queue.enqueue`), claimed by exactly one worker
(`queue.claim`), run by the handler registered for its kind (`registry`), and ended in the
same transaction as its handler's work (`queue.end`, fenced by the attempt). Its progress and
heartbeat are published while it runs (`beacon`), so any web process shows its progress; a
worker that stops beating (killed, host down) has its item queued again by another
(`queue.reap`) up to `max_attempts`, then failed with the reason. Cancelling a queued item
ends it at once; a running one stops at its next checkpoint and its work is rolled back.
Workers run as threads of the web process (`make run`, SQLite) or as
`flask --app wsgi worker` processes (production). See docs/architecture.md.
"""
