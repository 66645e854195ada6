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
BUILTIN_INDICATOR_LABELS_EN = {
    "flu_vaccination_65": "Flu vaccination of people aged 65 and over",
}

# Boundary criteria and clinical goals of the reference strata (councils refine them).
STRATUM_DETAILS = {
    "HF-1": ("Facteurs de risque (HTA, diabète, coronaropathie) sans cardiopathie structurelle.",
             "Contrôler les facteurs de risque ; dépister les premiers signes."),
    "HF-2": ("Insuffisance cardiaque confirmée, NYHA I-II, pas d'hospitalisation depuis 6 mois.",
             "Traitement optimisé ; éducation thérapeutique ; surveillance du poids."),
    "HF-3": ("NYHA III-IV ou au moins deux hospitalisations en 6 mois.",
             "Contrôler les symptômes ; réduire les réhospitalisations ; projet de fin de vie."),
    "DIAB-1": ("Prédiabète ou HbA1c dans la cible, sans complication.",
               "Maintenir l'équilibre ; activité physique ; alimentation."),
    "DIAB-2": ("HbA1c hors cible depuis 6 mois ou complication débutante.",
               "Revenir dans la cible ; dépister les complications (œil, pied, rein)."),
    "DIAB-3": ("Complications multiples ou difficultés psychosociales majeures.",
               "Éviter les hospitalisations ; coordonner les spécialistes ; soutien social."),
    "COPD-1": ("VEMS ≥ 80 %, pas d'exacerbation dans l'année.",
               "Arrêt du tabac ; vaccinations ; activité physique."),
    "COPD-2": ("VEMS 50-80 % ou une exacerbation dans l'année.",
               "Réhabilitation respiratoire ; plan d'action écrit."),
    "COPD-3": ("VEMS < 50 %, exacerbations répétées ou oxygénothérapie.",
               "Réduire les exacerbations et hospitalisations ; soins palliatifs si besoin."),
    "POLY-1": ("Au moins deux maladies chroniques, autonomie conservée (ADL 6/6).",
               "Prévenir la perte d'autonomie ; revue des médicaments."),
    "POLY-2": ("Fragilité repérée (chute, perte de poids, isolement).",
               "Évaluation gériatrique ; adapter le domicile ; soutenir l'aidant."),
    "POLY-3": ("Perte d'autonomie et problèmes sociaux lourds.",
               "Maintien à domicile sûr ; plan personnalisé ; coordination des intervenants."),
}

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
