"""The append-only audit trail: who did what to which record of which patient, when, from where."""
