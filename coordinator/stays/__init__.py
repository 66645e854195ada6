"""Hospital stays: admissions, discharges, readmissions."""
