"""Individual care plans (PPCS): goals, actions, care team, revisions, sharing."""
