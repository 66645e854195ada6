# ruff: noqa: E501  (a table: one row per line)
"""The access table: for every page route (`"METHOD endpoint"`) and every API operation
(`"METHOD /api/v1/path"`), what each identity gets (walked by test_access_table.py).

Identities (the columns, in this order):
  anon          nobody signed in
  admin         an administrator
  cm            the case manager of the patient, in the patient's territory (A)
  cm_other      a case manager of another territory (B)
  council       the council of territory A          council_other  the council of territory B
  gp            the GP of the patient, who consents to share their plan
  gp_withdrawn  the same GP, opening their patient whose consent was withdrawn after the plan
                was shared (the URLs name that patient's records)
  gp_other      a GP who is not the patient's GP
  pro           a care-team professional of the patient's plan
  integration   an integration account (a hospital system sending HL7 messages)

Every record in the URLs is of territory A: the patient (their plan, stays, events, tasks,
appointments, round, enrollment), the provider, the HL7 message, the feed. The care-plan batch
print and the import report are the case manager's, the report batch print is the council's.

Cells: `ok` the request passes the authorization layer (any answer but the refusals below and
a 5xx); `login` redirected to the sign-in page; `401` the API without a token; `403` refused;
`404` a record hidden from whom may not see it (its existence does not leak); `422` refused as
input naming the field (a record of another territory in a creation: the patient, the
provider's or the patient's territory).

The header of each block names the columns in short: cm-B, cou-B the other territory's, gp-w
the GP with the withdrawn consent, gp-x the other GP.
"""

from __future__ import annotations

ALLOWED = "ok"
COLUMNS = ("anon", "admin", "cm", "cm_other", "council", "council_other", "gp", "gp_withdrawn",
           "gp_other", "pro", "integration")

TABLE: dict[str, str] = {
    # -- Pages: "METHOD endpoint" (every method of every rule of the URL map) ----------
    #                                                       anon  admin cm    cm-B  coun  cou-B gp    gp-w  gp-x  pro   integ
    "GET admin.edit_user":                                 "login ok    403   403   403   403   403   403   403   403   403",
    "POST admin.edit_user":                                "login ok    403   403   403   403   403   403   403   403   403",
    "POST admin.reset_password":                           "login ok    403   403   403   403   403   403   403   403   403",
    "GET admin.create_user":                               "login ok    403   403   403   403   403   403   403   403   403",
    "POST admin.create_user":                              "login ok    403   403   403   403   403   403   403   403   403",
    "POST admin.reset_two_factor":                         "login ok    403   403   403   403   403   403   403   403   403",
    "POST admin.revoke_tokens":                            "login ok    403   403   403   403   403   403   403   403   403",
    "POST admin.toggle_active":                            "login ok    403   403   403   403   403   403   403   403   403",
    "GET admin.users":                                     "login ok    403   403   403   403   403   403   403   403   403",

    "GET audit.export":                                    "login ok    403   403   403   403   403   403   403   403   403",
    "GET audit.index":                                     "login ok    403   403   403   403   403   403   403   403   403",
    "GET audit.patient_log":                               "login ok    403   403   403   403   403   403   403   403   403",

    "GET auth.account":                                    "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "GET auth.change_password":                            "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "POST auth.change_password":                           "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "POST auth.disable_two_factor":                        "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "GET auth.login":                                      "ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "POST auth.login":                                     "ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "POST auth.logout":                                    "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "POST auth.new_recovery_codes":                        "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "GET auth.second_factor":                              "ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "POST auth.second_factor":                             "ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET auth.two_factor":                                 "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "POST auth.two_factor":                                "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",

    "GET calendar.caseload":                               "login 403   ok    ok    403   403   403   403   403   403   403",
    "POST calendar.create_patient_feed":                   "login ok    ok    404   403   403   403   403   403   403   403",
    "POST calendar.create_provider_feed":                  "login ok    ok    404   403   403   403   403   403   403   403",
    "GET calendar.feed":                                   "ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET calendar.patient":                                "login ok    ok    404   403   403   403   403   403   403   403",
    "GET calendar.provider":                               "login ok    ok    404   403   403   403   403   403   403   403",
    "POST calendar.revoke_feed":                           "login ok    ok    404   403   403   403   403   403   403   403",

    "POST careplans.activate":                             "login 403   ok    404   403   403   403   403   403   403   403",
    "GET careplans.batch":                                 "login 404   ok    404   403   403   404   404   404   404   403",
    "POST careplans.batch_cancel":                         "login 404   ok    404   403   403   404   404   404   404   403",
    "GET careplans.batch_pdf":                             "login 404   ok    404   403   403   404   404   404   404   403",
    "GET careplans.batch_progress":                        "login 404   ok    404   403   403   404   404   404   404   403",
    "POST careplans.close":                                "login 403   ok    404   403   403   403   403   403   403   403",
    "POST careplans.comment":                              "login ok    ok    404   403   403   ok    404   404   ok    403",
    "GET careplans.create":                                "login 403   ok    404   403   403   403   403   403   403   403",
    "POST careplans.create":                               "login 403   ok    404   403   403   403   403   403   403   403",
    "GET careplans.edit":                                  "login 403   ok    404   403   403   403   403   403   403   403",
    "POST careplans.edit":                                 "login 403   ok    404   403   403   403   403   403   403   403",
    "GET careplans.history":                               "login ok    ok    404   403   403   403   403   403   403   403",
    "GET careplans.index":                                 "login ok    ok    ok    403   403   ok    ok    ok    ok    403",
    "POST careplans.print_batch":                          "login 403   ok    ok    403   403   403   403   403   403   403",
    "GET careplans.print_pdf":                             "login ok    ok    404   403   403   ok    404   404   ok    403",
    "GET careplans.print_preview":                         "login ok    ok    404   403   403   ok    404   404   ok    403",
    "POST careplans.revise":                               "login 403   ok    404   403   403   403   403   403   403   403",
    "GET careplans.show":                                  "login ok    ok    404   403   403   ok    404   404   ok    403",

    "GET hl7.index":                                       "login ok    ok    ok    403   403   403   403   403   403   403",
    "POST hl7.link":                                       "login ok    ok    404   403   403   403   403   403   403   403",
    "POST hl7.reject":                                     "login ok    ok    404   403   403   403   403   403   403   403",
    "GET hl7.show":                                        "login ok    ok    404   403   403   403   403   403   403   403",

    "GET home.healthz":                                    "ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok",
    "GET home.home":                                       "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "POST home.set_language":                              "ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok",

    "POST imports.cancel":                                 "login ok    ok    404   403   403   403   403   403   403   403",
    "GET imports.example":                                 "login ok    ok    ok    403   403   403   403   403   403   403",
    "GET imports.formats":                                 "login ok    ok    ok    403   403   403   403   403   403   403",
    "GET imports.index":                                   "login ok    ok    ok    403   403   403   403   403   403   403",
    "GET imports.new":                                     "login ok    ok    ok    403   403   403   403   403   403   403",
    "POST imports.new":                                    "login ok    ok    ok    403   403   403   403   403   403   403",
    "GET imports.messages_csv":                            "login ok    ok    404   403   403   403   403   403   403   403",
    "GET imports.progress_fragment":                       "login ok    ok    404   403   403   403   403   403   403   403",
    "GET imports.show":                                    "login ok    ok    404   403   403   403   403   403   403   403",

    "GET jobs.index":                                      "login ok    403   403   403   403   403   403   403   403   403",
    "GET jobs.outbox_messages":                            "login ok    403   403   403   403   403   403   403   403   403",
    "POST jobs.run":                                       "login ok    403   403   403   403   403   403   403   403   403",

    "GET metric_targets.index":                            "login ok    ok    ok    ok    ok    403   403   403   403   403",
    "GET metric_targets.territory":                        "login ok    ok    403   ok    403   403   403   403   403   403",
    "POST metric_targets.territory":                       "login ok    403   403   ok    403   403   403   403   403   403",

    "GET metrics.dashboard":                               "login ok    ok    ok    ok    ok    403   403   403   403   403",
    "GET metrics.export":                                  "login ok    ok    ok    ok    ok    403   403   403   403   403",

    "GET metrics_report.batch":                            "login 404   404   404   ok    404   403   403   403   403   403",
    "POST metrics_report.batch_cancel":                    "login 404   404   404   ok    404   403   403   403   403   403",
    "GET metrics_report.batch_pdf":                        "login 404   404   404   ok    404   403   403   403   403   403",
    "GET metrics_report.batch_progress":                   "login 404   404   404   ok    404   403   403   403   403   403",
    "GET metrics_report.pdf":                              "login ok    ok    ok    ok    ok    403   403   403   403   403",
    "GET metrics_report.preview":                          "login ok    ok    ok    ok    ok    403   403   403   403   403",

    "POST patients.assign":                                "login ok    ok    404   403   403   403   403   403   403   403",
    "POST patients.consent":                               "login ok    ok    404   403   403   403   403   403   403   403",
    "GET patients.create":                                 "login ok    ok    ok    403   403   403   403   403   403   403",
    "POST patients.create":                                "login ok    ok    ok    403   403   403   403   403   403   403",
    "GET patients.edit":                                   "login ok    ok    404   403   403   403   403   403   403   403",
    "POST patients.edit":                                  "login ok    ok    404   403   403   403   403   403   403   403",
    "POST patients.exit_program":                          "login ok    ok    404   403   403   403   403   403   403   403",
    "GET patients.index":                                  "login ok    ok    ok    403   403   403   403   403   403   403",
    "GET patients.merge":                                  "login ok    403   403   403   403   403   403   403   403   403",
    "POST patients.merge":                                 "login ok    403   403   403   403   403   403   403   403   403",
    "POST patients.merge_search_nir":                      "login ok    403   403   403   403   403   403   403   403   403",
    "POST patients.search_nir":                            "login ok    ok    ok    403   403   403   403   403   403   403",
    "GET rights.export_json":                              "login ok    403   403   403   403   403   403   403   403   403",
    "GET rights.export_pdf":                               "login ok    403   403   403   403   403   403   403   403   403",
    "GET patients.correct_assignment":                     "login ok    ok    404   403   403   403   403   403   403   403",
    "POST patients.correct_assignment":                    "login ok    ok    404   403   403   403   403   403   403   403",
    "GET patients.show":                                   "login ok    ok    404   403   403   403   403   403   403   403",
    "GET patients.withdraw_consent":                       "login ok    ok    404   403   403   403   403   403   403   403",
    "POST patients.withdraw_consent":                      "login ok    ok    404   403   403   403   403   403   403   403",

    "GET programs.create":                                 "login ok    403   403   403   403   403   403   403   403   403",
    "POST programs.create":                                "login ok    403   403   403   403   403   403   403   403   403",
    "POST programs.create_indicator":                      "login ok    403   403   403   403   403   403   403   403   403",
    "GET programs.create_stratum":                         "login ok    403   403   403   403   403   403   403   403   403",
    "POST programs.create_stratum":                        "login ok    403   403   403   403   403   403   403   403   403",
    "POST programs.delete_indicator":                      "login ok    403   403   403   403   403   403   403   403   403",
    "GET programs.detail":                                 "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "GET programs.edit":                                   "login ok    403   403   403   403   403   403   403   403   403",
    "POST programs.edit":                                  "login ok    403   403   403   403   403   403   403   403   403",
    "GET programs.edit_followup":                          "login ok    403   403   403   403   403   403   403   403   403",
    "POST programs.edit_followup":                         "login ok    403   403   403   403   403   403   403   403   403",
    "GET programs.edit_stratum":                           "login ok    403   403   403   403   403   403   403   403   403",
    "POST programs.edit_stratum":                          "login ok    403   403   403   403   403   403   403   403   403",
    "GET programs.index":                                  "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "GET programs.indicators":                             "login ok    403   403   403   403   403   403   403   403   403",
    "POST programs.indicators":                            "login ok    403   403   403   403   403   403   403   403   403",

    "GET providers.create":                                "login ok    ok    ok    403   403   403   403   403   403   403",
    "POST providers.create":                               "login ok    ok    ok    403   403   403   403   403   403   403",
    "POST providers.delete":                               "login ok    ok    403   403   403   403   403   403   403   403",
    "GET providers.edit":                                  "login ok    ok    403   403   403   403   403   403   403   403",
    "POST providers.edit":                                 "login ok    ok    403   403   403   403   403   403   403   403",
    "GET providers.index":                                 "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "GET providers.search":                                "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "GET providers.show":                                  "login ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "POST providers.toggle_active":                        "login ok    ok    403   403   403   403   403   403   403   403",

    "GET scheduling.book":                                 "login ok    ok    404   403   403   403   403   403   403   403",
    "POST scheduling.book":                                "login ok    ok    404   403   403   403   403   403   403   403",
    "GET scheduling.day":                                  "login 403   ok    ok    403   403   403   403   403   403   403",
    "POST scheduling.day":                                 "login 403   ok    404   403   403   403   403   403   403   403",
    "GET scheduling.no_shows":                             "login 403   ok    ok    403   403   403   403   403   403   403",
    "POST scheduling.outcome":                             "login ok    ok    404   403   403   403   403   403   403   403",
    "POST scheduling.outreach":                            "login ok    ok    404   403   403   403   403   403   403   403",
    "GET scheduling.patient_appointments":                 "login ok    ok    404   403   403   403   403   403   403   403",
    "POST scheduling.rebook":                              "login ok    ok    404   403   403   403   403   403   403   403",
    "POST scheduling.reschedule":                          "login ok    ok    404   403   403   403   403   403   403   403",
    "GET scheduling.round_":                               "login ok    ok    404   403   403   403   403   403   403   403",
    "POST scheduling.round_":                              "login ok    ok    404   403   403   403   403   403   403   403",
    "POST scheduling.series_create":                       "login ok    ok    404   403   403   403   403   403   403   403",
    "GET scheduling.series_preview":                       "login ok    ok    404   403   403   403   403   403   403   403",
    "GET scheduling.show":                                 "login ok    ok    404   403   403   403   403   403   403   403",

    "POST stays.cancel_admission":                         "login ok    ok    404   403   403   403   403   403   403   403",
    "POST stays.cancel_discharge":                         "login ok    ok    404   403   403   403   403   403   403   403",
    "GET stays.create":                                    "login ok    ok    404   403   403   403   403   403   403   403",
    "POST stays.create":                                   "login ok    ok    404   403   403   403   403   403   403   403",
    "GET stays.create_event":                              "login ok    ok    404   403   403   403   403   403   403   403",
    "POST stays.create_event":                             "login ok    ok    404   403   403   403   403   403   403   403",
    "GET stays.edit":                                      "login ok    ok    404   403   403   403   403   403   403   403",
    "POST stays.edit":                                     "login ok    ok    404   403   403   403   403   403   403   403",
    "GET stays.edit_event":                                "login ok    ok    404   403   403   403   403   403   403   403",
    "POST stays.edit_event":                               "login ok    ok    404   403   403   403   403   403   403   403",

    "POST tasks.acknowledge":                              "login 403   ok    404   403   403   403   403   403   403   403",
    "POST tasks.close":                                    "login ok    ok    404   403   403   403   403   403   403   403",
    "GET tasks.index":                                     "login ok    ok    ok    403   403   403   403   403   403   403",
    "GET tasks.record_contact":                            "login ok    ok    404   403   403   403   403   403   403   403",
    "POST tasks.record_contact":                           "login ok    ok    404   403   403   403   403   403   403   403",
    "GET tasks.show":                                      "login ok    ok    404   403   403   403   403   403   403   403",

    "GET timeline.show":                                   "login ok    ok    404   403   403   403   403   403   403   403",

    # -- API: "METHOD /api/v1/path" (every operation of the OpenAPI description) -------
    #                                                       anon  admin cm    cm-B  coun  cou-B gp    gp-w  gp-x  pro   integ
    "GET /api/v1/appointments":                            "401   ok    ok    ok    403   403   403   403   403   403   403",
    "POST /api/v1/appointments":                           "401   ok    ok    404   403   403   403   403   403   403   403",
    "GET /api/v1/appointments/{appointment_id}":           "401   ok    ok    404   404   404   404   404   404   404   403",
    "PATCH /api/v1/appointments/{appointment_id}/status":  "401   ok    ok    404   403   403   403   403   403   403   403",

    "GET /api/v1/careplans":                               "401   ok    ok    ok    403   403   ok    ok    ok    ok    403",
    "POST /api/v1/careplans":                              "401   403   ok    404   403   403   403   403   403   403   403",
    "GET /api/v1/careplans/prints/{batch_id}":             "401   404   ok    404   403   403   404   404   404   404   403",
    "GET /api/v1/careplans/prints/{batch_id}/pdf":         "401   404   ok    404   403   403   404   404   404   404   403",
    "GET /api/v1/careplans/{plan_id}":                     "401   ok    ok    404   403   403   ok    404   404   ok    403",
    "PATCH /api/v1/careplans/{plan_id}":                   "401   403   ok    404   403   403   403   403   403   403   403",
    "GET /api/v1/careplans/{plan_id}/pdf":                 "401   ok    ok    404   403   403   ok    404   404   ok    403",
    "GET /api/v1/careplans/{plan_id}/revisions":           "401   ok    ok    404   403   403   404   404   404   404   403",

    "GET /api/v1/enrollments":                             "401   ok    ok    ok    403   403   403   403   403   403   403",
    "POST /api/v1/enrollments":                            "401   ok    ok    422   403   403   403   403   403   403   403",
    "GET /api/v1/enrollments/{enrollment_id}":             "401   ok    ok    404   404   404   404   404   404   404   403",

    "GET /api/v1/events":                                  "401   ok    ok    ok    403   403   ok    ok    ok    403   403",
    "POST /api/v1/events":                                 "401   ok    ok    404   403   403   403   403   403   403   403",
    "GET /api/v1/events/{event_id}":                       "401   ok    ok    404   403   403   ok    404   404   403   403",
    "PATCH /api/v1/events/{event_id}":                     "401   ok    ok    404   403   403   403   403   403   403   403",

    "POST /api/v1/hl7v2":                                  "401   403   403   403   403   403   403   403   403   403   ok",

    "GET /api/v1/me":                                      "401   ok    ok    ok    ok    ok    ok    ok    ok    ok    403",

    "GET /api/v1/metrics":                                 "401   ok    ok    403   ok    403   403   403   403   403   403",
    "GET /api/v1/metrics/targets":                         "401   ok    ok    403   ok    403   403   403   403   403   403",
    "PATCH /api/v1/metrics/targets":                       "401   ok    403   403   ok    403   403   403   403   403   403",
    "GET /api/v1/metrics/territories":                     "401   ok    ok    ok    ok    ok    403   403   403   403   403",

    "GET /api/v1/openapi.json":                            "ok    ok    ok    ok    ok    ok    ok    ok    ok    ok    ok",

    "GET /api/v1/patients":                                "401   ok    ok    ok    403   403   403   403   403   403   403",
    "POST /api/v1/patients":                               "401   ok    ok    422   403   403   403   403   403   403   403",
    "POST /api/v1/patients/search":                        "401   ok    ok    ok    403   403   403   403   403   403   403",
    "GET /api/v1/patients/{patient_id}":                   "401   ok    ok    404   404   404   404   404   404   404   403",
    "PATCH /api/v1/patients/{patient_id}":                 "401   ok    ok    404   403   403   403   403   403   403   403",

    "GET /api/v1/programs":                                "401   ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "GET /api/v1/programs/{code}":                         "401   ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "GET /api/v1/programs/{program_id}":                   "401   ok    ok    ok    ok    ok    ok    ok    ok    ok    403",

    "GET /api/v1/providers":                               "401   ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "POST /api/v1/providers":                              "401   ok    ok    422   403   403   403   403   403   403   403",
    "GET /api/v1/providers/{provider_id}":                 "401   ok    ok    ok    ok    ok    ok    ok    ok    ok    403",
    "PATCH /api/v1/providers/{provider_id}":               "401   ok    ok    403   403   403   403   403   403   403   403",

    "GET /api/v1/stays":                                   "401   ok    ok    ok    403   403   ok    ok    ok    403   403",
    "POST /api/v1/stays":                                  "401   ok    ok    404   403   403   403   403   403   403   403",
    "GET /api/v1/stays/{stay_id}":                         "401   ok    ok    404   403   403   ok    404   404   403   403",
    "PATCH /api/v1/stays/{stay_id}":                       "401   ok    ok    404   403   403   403   403   403   403   403",

    "GET /api/v1/tasks":                                   "401   ok    ok    ok    403   403   403   403   403   403   403",
    "GET /api/v1/tasks/{task_id}":                         "401   ok    ok    404   403   403   403   403   403   403   403",
    "PATCH /api/v1/tasks/{task_id}":                       "401   ok    ok    404   403   403   403   403   403   403   403",
}


def expected_cells(name: str) -> dict[str, str]:
    cells = TABLE[name].split()
    assert len(cells) == len(COLUMNS), f"{name}: {len(cells)} cells for {len(COLUMNS)} columns"
    return dict(zip(COLUMNS, cells, strict=True))
