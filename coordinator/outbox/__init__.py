"""The outbox: messages the jobs write for people (appointment reminders, review notices), kept
in the application and e-mailed by the `deliver_outbox` job when SMTP is configured.

Below the domains that write messages (careplans, scheduling, later stays) so that each of them
can: it knows users and patients by id only."""
