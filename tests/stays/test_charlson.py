"""The Charlson index of ICD-10 codes: Quan 2005's codes, Charlson 1987's weights."""

from __future__ import annotations

import pytest

from coordinator.stays import charlson
from coordinator.stays.charlson import Condition as C


@pytest.mark.parametrize(("code", "condition"), [
    ("I21.0", C.MYOCARDIAL_INFARCTION), ("I22", C.MYOCARDIAL_INFARCTION),
    ("I25.2", C.MYOCARDIAL_INFARCTION),
    ("I50.9", C.CONGESTIVE_HEART_FAILURE), ("I11.0", C.CONGESTIVE_HEART_FAILURE),
    ("I42.5", C.CONGESTIVE_HEART_FAILURE), ("I42.9", C.CONGESTIVE_HEART_FAILURE),
    ("I09.9", C.CONGESTIVE_HEART_FAILURE), ("P29.0", C.CONGESTIVE_HEART_FAILURE),
    ("I70.2", C.PERIPHERAL_VASCULAR_DISEASE), ("Z95.8", C.PERIPHERAL_VASCULAR_DISEASE),
    ("K55.1", C.PERIPHERAL_VASCULAR_DISEASE),
    ("I63.9", C.CEREBROVASCULAR_DISEASE), ("G45.9", C.CEREBROVASCULAR_DISEASE),
    ("H34.0", C.CEREBROVASCULAR_DISEASE), ("I69.4", C.CEREBROVASCULAR_DISEASE),
    ("F01.9", C.DEMENTIA), ("G30.1", C.DEMENTIA), ("F05.1", C.DEMENTIA), ("G31.1", C.DEMENTIA),
    ("J44.1", C.CHRONIC_PULMONARY_DISEASE), ("I27.8", C.CHRONIC_PULMONARY_DISEASE),
    ("J68.4", C.CHRONIC_PULMONARY_DISEASE),
    ("M05.9", C.RHEUMATIC_DISEASE), ("M32.1", C.RHEUMATIC_DISEASE),
    ("M35.3", C.RHEUMATIC_DISEASE),
    ("K25.0", C.PEPTIC_ULCER_DISEASE), ("K28.9", C.PEPTIC_ULCER_DISEASE),
    ("B18.2", C.MILD_LIVER_DISEASE), ("K70.3", C.MILD_LIVER_DISEASE),
    ("K74.6", C.MILD_LIVER_DISEASE), ("Z94.4", C.MILD_LIVER_DISEASE),
    ("E11.9", C.DIABETES_WITHOUT_COMPLICATION), ("E10.1", C.DIABETES_WITHOUT_COMPLICATION),
    ("E14.6", C.DIABETES_WITHOUT_COMPLICATION),
    ("E11.2", C.DIABETES_WITH_COMPLICATION), ("E10.5", C.DIABETES_WITH_COMPLICATION),
    ("E13.7", C.DIABETES_WITH_COMPLICATION),
    ("G81.1", C.HEMIPLEGIA_OR_PARAPLEGIA), ("G04.1", C.HEMIPLEGIA_OR_PARAPLEGIA),
    ("G83.4", C.HEMIPLEGIA_OR_PARAPLEGIA),
    ("N18.5", C.RENAL_DISEASE), ("I12.0", C.RENAL_DISEASE), ("Z99.2", C.RENAL_DISEASE),
    ("Z49.1", C.RENAL_DISEASE),
    ("C34.1", C.MALIGNANCY), ("C50.9", C.MALIGNANCY), ("C91.0", C.MALIGNANCY),
    ("C83.3", C.MALIGNANCY),
    ("I85.0", C.SEVERE_LIVER_DISEASE), ("K72.9", C.SEVERE_LIVER_DISEASE),
    ("K76.7", C.SEVERE_LIVER_DISEASE),
    ("C78.0", C.METASTATIC_SOLID_TUMOUR), ("C80", C.METASTATIC_SOLID_TUMOUR),
    ("B20.0", C.AIDS_HIV), ("B24", C.AIDS_HIV),
])
def test_codes_of_each_condition(code, condition):
    assert charlson.conditions_of(code) == (condition,)
    assert charlson.conditions_of(code.replace(".", "")) == (condition,)


@pytest.mark.parametrize(("code", "expected"), [
    ("I10", ()),                                # hypertension: no Charlson condition
    ("I42.1", ()),                              # not in Quan's heart failure codes
    ("I25.1", ()),                              # coronary atherosclerosis, no infarction
    ("C44.9", ()),                              # skin other than melanoma: excluded
    ("B23.0", ()),                              # not in Quan's HIV codes
    ("Z45.0", ()),
    ("C77", (C.METASTATIC_SOLID_TUMOUR,)),      # C77-C80, not "any malignancy"
    ("K70.4", (C.SEVERE_LIVER_DISEASE,)),       # alcoholic hepatic failure: severe, not mild
    ("E11.2", (C.DIABETES_WITH_COMPLICATION,)),
    ("N18", (C.RENAL_DISEASE,)),                # a category covers its subcategories
])
def test_codes_next_to_a_condition(code, expected):
    assert charlson.conditions_of(code) == expected


def test_the_table_has_the_17_conditions_with_the_original_weights():
    assert len(charlson.TABLE) == 17
    assert set(C) == {row.condition for row in charlson.TABLE}
    assert charlson.WEIGHTS == {
        C.MYOCARDIAL_INFARCTION: 1, C.CONGESTIVE_HEART_FAILURE: 1,
        C.PERIPHERAL_VASCULAR_DISEASE: 1, C.CEREBROVASCULAR_DISEASE: 1, C.DEMENTIA: 1,
        C.CHRONIC_PULMONARY_DISEASE: 1, C.RHEUMATIC_DISEASE: 1, C.PEPTIC_ULCER_DISEASE: 1,
        C.MILD_LIVER_DISEASE: 1, C.DIABETES_WITHOUT_COMPLICATION: 1,
        C.DIABETES_WITH_COMPLICATION: 2, C.HEMIPLEGIA_OR_PARAPLEGIA: 2, C.RENAL_DISEASE: 2,
        C.MALIGNANCY: 2, C.SEVERE_LIVER_DISEASE: 3, C.METASTATIC_SOLID_TUMOUR: 6, C.AIDS_HIV: 6,
    }
    # no code prefix belongs to two conditions
    prefixes = [p for row in charlson.TABLE for p in row.prefixes]
    assert len(prefixes) == len(set(prefixes))


def test_each_condition_counts_once():
    assert charlson.index(["I50.9", "I50.1", "I11.0", "I42.0"]) == 1


@pytest.mark.parametrize(("codes", "expected"), [
    (["K70.3", "K72.9"], 3),          # mild + severe liver disease: severe only
    (["E11.9", "E11.2"], 2),          # diabetes without + with complications: with only
    (["C34.1", "C78.0"], 6),          # malignancy + metastases: metastatic only
    (["K70.3"], 1), (["E11.9"], 1), (["C34.1"], 2),
])
def test_the_severe_form_counts_alone(codes, expected):
    assert charlson.index(codes) == expected


def test_an_empty_record_scores_0():
    assert charlson.index([]) == 0
    assert charlson.index(["Z45.0", "R51"]) == 0


def test_sums_of_weights():
    # heart failure 1 + diabetes 1 (the example: C = 2)
    assert charlson.index(["I50.9", "E11.9"]) == 2
    # MI 1 + COPD 1 + renal 2 + diabetes with complications 2 = 6
    assert charlson.index(["I21.4", "J44.9", "N18.4", "E11.2"]) == 6
    # every condition, each pair's severe form only: 10 x 1 (but the milder three) ...
    every = ["I21", "I50", "I70", "I63", "F03", "J44", "M05", "K25", "K70.3", "E11.9", "E11.2",
             "G81", "N18", "C34", "K72.9", "C78", "B20"]
    assert charlson.index(every) == 1 * 8 + 2 + 2 + 2 + 3 + 6 + 6
