"""Tasks of the case managers (the transition-of-care protocol first), contacts with patients,
and the worklist alerts they acknowledge."""
