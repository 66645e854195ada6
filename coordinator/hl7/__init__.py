"""The HL7 v2 ADT feed (IHE PAM, French extension, v2.5): hospital admissions and discharges
received over MLLP and HTTP, acknowledged, applied to stays, or held for reconciliation."""
