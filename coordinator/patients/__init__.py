"""Patient registry: identities, consent, GP and case manager, search, identity vigilance."""
