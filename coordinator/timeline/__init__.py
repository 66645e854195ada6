"""A patient's dated timeline: stays, appointments, stratum changes, plan revisions, contacts and
tasks on one page; a composition module above the domains it reads."""
