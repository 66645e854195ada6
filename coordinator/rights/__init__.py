"""Patients' rights (Code de la santé publique, L1111-7): everything the registry holds about
one patient, exported as JSON and as a readable PDF, with the patient's access log
(docs/patients-rights.md). A composition above the domains, like the timeline."""
