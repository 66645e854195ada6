"""Users, roles, sign-in, passwords and personal API tokens."""
