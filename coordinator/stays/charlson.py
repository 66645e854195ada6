"""The Charlson comorbidity index from ICD-10 codes, as LACE uses it.

Codes: Quan H, Sundararajan V, Halfon P, Fong A, Burnand B, Luthi JC, Saunders LD, Beck CA,
Feasby TE, Ghali WA. *Coding algorithms for defining comorbidities in ICD-9-CM and ICD-10
administrative data.* Med Care 2005;43(11):1130-1139 (doi:10.1097/01.mlr.0000182534.19832.83),
Table 1, the enhanced ICD-10 coding of the 17 Charlson conditions. A code belongs to a condition
when it starts with one of the listed categories or subcategories (`I50` covers `I50.9`).

Weights: the original ones of Charlson ME, Pompei P, Ales KL, MacKenzie CR. *A new method of
classifying prognostic comorbidity in longitudinal studies: development and validation.*
J Chronic Dis 1987;40(5):373-383 — the weights the LACE index (van Walraven 2010, CMAJ
182:551) was derived with; not Quan 2011's updated weights. Lymphoma and leukaemia, which
Charlson weighs 2 like any tumour, are in Quan's "any malignancy" group (2).

Hierarchy: a patient with both forms of one disease counts the severe form only — mild vs
moderate or severe liver disease, diabetes without vs with chronic complications, any
malignancy vs metastatic solid tumour.

A table module (17 rows) rather than comorbidipy or pycomorb, which pull pandas and pyarrow in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Condition(StrEnum):
    MYOCARDIAL_INFARCTION = "myocardial_infarction"
    CONGESTIVE_HEART_FAILURE = "congestive_heart_failure"
    PERIPHERAL_VASCULAR_DISEASE = "peripheral_vascular_disease"
    CEREBROVASCULAR_DISEASE = "cerebrovascular_disease"
    DEMENTIA = "dementia"
    CHRONIC_PULMONARY_DISEASE = "chronic_pulmonary_disease"
    RHEUMATIC_DISEASE = "rheumatic_disease"
    PEPTIC_ULCER_DISEASE = "peptic_ulcer_disease"
    MILD_LIVER_DISEASE = "mild_liver_disease"
    DIABETES_WITHOUT_COMPLICATION = "diabetes_without_complication"
    DIABETES_WITH_COMPLICATION = "diabetes_with_complication"
    HEMIPLEGIA_OR_PARAPLEGIA = "hemiplegia_or_paraplegia"
    RENAL_DISEASE = "renal_disease"
    MALIGNANCY = "malignancy"
    SEVERE_LIVER_DISEASE = "severe_liver_disease"
    METASTATIC_SOLID_TUMOUR = "metastatic_solid_tumour"
    AIDS_HIV = "aids_hiv"


def _span(first: str, last: str) -> list[str]:
    """The codes from `first` to `last` differing in their last character (`I60`..`I69`,
    `K70.0`..`K70.3`), written without the dot."""
    first, last = first.replace(".", ""), last.replace(".", "")
    assert first[:-1] == last[:-1], (first, last)
    return [first[:-1] + str(n) for n in range(int(first[-1]), int(last[-1]) + 1)]


def _codes(*items: str) -> tuple[str, ...]:
    """Prefixes without dots from `I50`, `I25.5` or a span `I42.5-I42.9` / `C00-C26`."""
    prefixes: list[str] = []
    for item in items:
        if "-" in item:
            first, last = item.split("-")
            first, last = first.replace(".", ""), last.replace(".", "")
            if len(first) == 3 and first[1:].isdigit() and last[1:].isdigit():
                prefixes += [f"{first[0]}{n:02d}" for n in range(int(first[1:]),
                                                                  int(last[1:]) + 1)]
            else:
                prefixes += _span(first, last)
        else:
            prefixes.append(item.replace(".", ""))
    return tuple(prefixes)


@dataclass(frozen=True)
class Row:
    condition: Condition
    weight: int
    prefixes: tuple[str, ...]


# Quan 2005, Table 1 (ICD-10 column); Charlson 1987 weights.
TABLE: tuple[Row, ...] = (
    Row(Condition.MYOCARDIAL_INFARCTION, 1, _codes("I21", "I22", "I25.2")),
    Row(Condition.CONGESTIVE_HEART_FAILURE, 1, _codes(
        "I09.9", "I11.0", "I13.0", "I13.2", "I25.5", "I42.0", "I42.5-I42.9", "I43", "I50",
        "P29.0")),
    Row(Condition.PERIPHERAL_VASCULAR_DISEASE, 1, _codes(
        "I70", "I71", "I73.1", "I73.8", "I73.9", "I77.1", "I79.0", "I79.2", "K55.1", "K55.8",
        "K55.9", "Z95.8", "Z95.9")),
    Row(Condition.CEREBROVASCULAR_DISEASE, 1, _codes("G45", "G46", "H34.0", "I60-I69")),
    Row(Condition.DEMENTIA, 1, _codes("F00-F03", "F05.1", "G30", "G31.1")),
    Row(Condition.CHRONIC_PULMONARY_DISEASE, 1, _codes(
        "I27.8", "I27.9", "J40-J47", "J60-J67", "J68.4", "J70.1", "J70.3")),
    Row(Condition.RHEUMATIC_DISEASE, 1, _codes(
        "M05", "M06", "M31.5", "M32-M34", "M35.1", "M35.3", "M36.0")),
    Row(Condition.PEPTIC_ULCER_DISEASE, 1, _codes("K25-K28")),
    Row(Condition.MILD_LIVER_DISEASE, 1, _codes(
        "B18", "K70.0-K70.3", "K70.9", "K71.3-K71.5", "K71.7", "K73", "K74", "K76.0",
        "K76.2-K76.4", "K76.8", "K76.9", "Z94.4")),
    Row(Condition.DIABETES_WITHOUT_COMPLICATION, 1, _codes(*(
        f"E1{n}.{sub}" for n in range(5) for sub in "01689"))),
    Row(Condition.DIABETES_WITH_COMPLICATION, 2, _codes(*(
        f"E1{n}.{sub}" for n in range(5) for sub in "23457"))),
    Row(Condition.HEMIPLEGIA_OR_PARAPLEGIA, 2, _codes(
        "G04.1", "G11.4", "G80.1", "G80.2", "G81", "G82", "G83.0-G83.4", "G83.9")),
    Row(Condition.RENAL_DISEASE, 2, _codes(
        "I12.0", "I13.1", "N03.2-N03.7", "N05.2-N05.7", "N18", "N19", "N25.0", "Z49.0-Z49.2",
        "Z94.0", "Z99.2")),
    Row(Condition.MALIGNANCY, 2, _codes(
        "C00-C26", "C30-C34", "C37-C41", "C43", "C45-C58", "C60-C76", "C81-C85", "C88",
        "C90-C97")),
    Row(Condition.SEVERE_LIVER_DISEASE, 3, _codes(
        "I85.0", "I85.9", "I86.4", "I98.2", "K70.4", "K71.1", "K72.1", "K72.9", "K76.5",
        "K76.6", "K76.7")),
    Row(Condition.METASTATIC_SOLID_TUMOUR, 6, _codes("C77-C80")),
    Row(Condition.AIDS_HIV, 6, _codes("B20-B22", "B24")),
)

WEIGHTS = {row.condition: row.weight for row in TABLE}
# When both are present, the first is not counted (the second is the severe form).
HIERARCHY = (
    (Condition.MILD_LIVER_DISEASE, Condition.SEVERE_LIVER_DISEASE),
    (Condition.DIABETES_WITHOUT_COMPLICATION, Condition.DIABETES_WITH_COMPLICATION),
    (Condition.MALIGNANCY, Condition.METASTATIC_SOLID_TUMOUR),
)


def _by_prefix() -> dict[str, tuple[Condition, ...]]:
    table: dict[str, list[Condition]] = {}
    for row in TABLE:
        for prefix in row.prefixes:
            table.setdefault(prefix, []).append(row.condition)
    return {prefix: tuple(conditions) for prefix, conditions in table.items()}


_BY_PREFIX = _by_prefix()
_PREFIX_LENGTHS = sorted({len(prefix) for prefix in _BY_PREFIX})


def conditions_of(code: str) -> tuple[Condition, ...]:
    """The Charlson conditions an ICD-10 code (normalised `I50.9` or compact `I509`) codes."""
    compact = code.replace(".", "").upper()
    found: list[Condition] = []
    for length in _PREFIX_LENGTHS:
        if len(compact) >= length:
            found += _BY_PREFIX.get(compact[:length], ())
    return tuple(dict.fromkeys(found))


def conditions(codes: Iterable[str]) -> set[Condition]:
    """The conditions of a patient's codes, the milder form of each pair dropped."""
    present = {condition for code in codes for condition in conditions_of(code)}
    for milder, severe in HIERARCHY:
        if severe in present:
            present.discard(milder)
    return present


def index(codes: Iterable[str]) -> int:
    """The Charlson comorbidity index: the sum of the weights of the conditions present."""
    return sum(WEIGHTS[condition] for condition in conditions(codes))
