"""The reference data every instance starts with: the five FHF territories and four programs.

Names and descriptions follow the domain brief (Intermountain/Kaiser pyramid): level 1 is
self-management support, level 2 disease or care management, level 3 case management with an
individual care plan.
"""

from __future__ import annotations

TERRITORIES = [
    ("AUBE-SEZ", "Aube et Sézannais"),
    ("CORNOUAILLE", "Cornouaille"),
    ("DEUX-SEVRES", "Deux-Sèvres"),
    ("DOUAISIS", "Douaisis"),
    ("HAUTE-SAONE", "Haute-Saône"),
]

# (code, name fr, name en, description fr, description en, [(level, fr, en, desc fr, desc en)])
PROGRAMS = [
    (
        "HF", "Insuffisance cardiaque", "Heart failure",
        "Population à risque ou atteinte d'insuffisance cardiaque du territoire.",
        "People of the territory at risk of or living with heart failure.",
        [
            (1, "Prévention du risque", "Prevention of risk",
             "À risque (hypertension, diabète, coronaropathie) sans atteinte structurelle : "
             "prévention et éducation, suivi par le médecin traitant.",
             "At risk (hypertension, diabetes, coronary disease) with no structural disease: "
             "prevention and education, followed by the GP."),
            (2, "Insuffisance cardiaque stable", "Stable heart failure",
             "Insuffisance cardiaque avérée et stabilisée : optimisation du traitement, "
             "éducation thérapeutique, surveillance du poids et des symptômes.",
             "Established, stable heart failure: treatment optimisation, therapeutic education, "
             "weight and symptom monitoring."),
            (3, "Insuffisance cardiaque instable", "Unstable heart failure",
             "Symptômes marqués, hospitalisations fréquentes : contrôle des symptômes, réduction "
             "des réhospitalisations, objectifs de fin de vie ; gestion de cas.",
             "Marked symptoms, frequent hospitalisations: control symptoms, reduce readmissions, "
             "end-of-life goals; case management."),
        ],
    ),
    (
        "DIAB", "Diabète", "Diabetes",
        "Population diabétique ou à haut risque de diabète du territoire.",
        "People of the territory with or at high risk of diabetes.",
        [
            (1, "Diabète équilibré / à risque", "Controlled diabetes or at risk",
             "Prédiabète ou diabète équilibré sans complication : autogestion, hygiène de vie.",
             "Prediabetes or controlled diabetes without complications: self-management, "
             "lifestyle."),
            (2, "Diabète déséquilibré ou compliqué", "Uncontrolled or complicated diabetes",
             "HbA1c hors cible ou complications : suivi renforcé, éducation thérapeutique, "
             "diététique, podologie.",
             "HbA1c off target or complications: closer follow-up, therapeutic education, "
             "dietetics, podiatry."),
            (3, "Diabète complexe", "Complex diabetes",
             "Complications multiples et difficultés psychosociales : gestion de cas.",
             "Multiple complications and psychosocial difficulties: case management."),
        ],
    ),
    (
        "COPD", "BPCO", "COPD",
        "Bronchopneumopathie chronique obstructive : population du territoire.",
        "Chronic obstructive pulmonary disease: people of the territory.",
        [
            (1, "BPCO légère", "Mild COPD",
             "Sevrage tabagique, vaccination, activité physique.",
             "Smoking cessation, vaccination, physical activity."),
            (2, "BPCO modérée", "Moderate COPD",
             "Exacerbations occasionnelles : réhabilitation respiratoire, plan d'action.",
             "Occasional exacerbations: pulmonary rehabilitation, action plan."),
            (3, "BPCO sévère", "Severe COPD",
             "Exacerbations et hospitalisations répétées, oxygénothérapie : gestion de cas.",
             "Repeated exacerbations and hospitalisations, oxygen therapy: case management."),
        ],
    ),
    (
        "POLY", "Personnes âgées polypathologiques", "Frail elderly with several conditions",
        "Personnes âgées fragiles présentant plusieurs maladies chroniques.",
        "Frail elderly people with several chronic conditions.",
        [
            (1, "Autonome", "Independent",
             "Plusieurs pathologies, autonomie conservée : prévention de la perte d'autonomie.",
             "Several conditions, independent: prevention of loss of autonomy."),
            (2, "Fragile", "Frail",
             "Fragilité repérée : évaluation gériatrique, coordination des soins de ville.",
             "Frailty identified: geriatric assessment, coordination of community care."),
            (3, "Situation complexe", "Complex situation",
             "Perte d'autonomie et problèmes sociaux lourds : gestion de cas, PPCS.",
             "Loss of autonomy and heavy social problems: case management, care plan."),
        ],
    ),
]

# Built-in indicator of every program (metrics.md): (code, label, default target in %).
BUILTIN_INDICATORS = [
    ("flu_vaccination_65", "Vaccination antigrippale des 65 ans et plus", 75),
]

# Default follow-up templates per stratum level: (provider kind, label, interval days, count).
FOLLOWUP_TEMPLATES = {
    1: [("gp", "Consultation de suivi du médecin traitant", 180, 2)],
    2: [("gp", "Consultation de suivi du médecin traitant", 90, 4),
        ("nurse", "Éducation thérapeutique infirmière", 60, 3)],
    3: [("nurse", "Visite infirmière à domicile", 14, 6),
        ("gp", "Consultation du médecin traitant", 30, 3),
        ("dietitian", "Consultation diététique", 45, 2),
        ("social_worker", "Évaluation sociale", 90, 1)],
}
