"""Hospital stays, clinical events, readmissions and LACE (issue #13)."""
