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

# Built-in indicator of every program (metrics.md): (code, label, English label, default target
# in %).
BUILTIN_INDICATORS = [
    ("flu_vaccination_65", "Vaccination antigrippale des 65 ans et plus",
     "Flu vaccination of people aged 65 and over", 75),
]

# Boundary criteria of the reference strata, French and English (councils refine them).
STRATUM_BOUNDARIES = {
    "HF-1": ("Facteurs de risque (HTA, diabète, coronaropathie) sans cardiopathie structurelle.",
             "Risk factors (hypertension, diabetes, coronary disease) without structural heart "
             "disease."),
    "HF-2": ("Insuffisance cardiaque confirmée, NYHA I-II, pas d'hospitalisation depuis 6 mois.",
             "Confirmed heart failure, NYHA I-II, no hospitalisation for 6 months."),
    "HF-3": ("NYHA III-IV ou au moins deux hospitalisations en 6 mois.",
             "NYHA III-IV or at least two hospitalisations in 6 months."),
    "DIAB-1": ("Prédiabète ou HbA1c dans la cible, sans complication.",
               "Prediabetes or HbA1c on target, without complications."),
    "DIAB-2": ("HbA1c hors cible depuis 6 mois ou complication débutante.",
               "HbA1c off target for 6 months or an early complication."),
    "DIAB-3": ("Complications multiples ou difficultés psychosociales majeures.",
               "Multiple complications or major psychosocial difficulties."),
    "COPD-1": ("VEMS ≥ 80 %, pas d'exacerbation dans l'année.",
               "FEV1 ≥ 80 %, no exacerbation in the year."),
    "COPD-2": ("VEMS 50-80 % ou une exacerbation dans l'année.",
               "FEV1 50-80 % or one exacerbation in the year."),
    "COPD-3": ("VEMS < 50 %, exacerbations répétées ou oxygénothérapie.",
               "FEV1 < 50 %, repeated exacerbations or oxygen therapy."),
    "POLY-1": ("Au moins deux maladies chroniques, autonomie conservée (ADL 6/6).",
               "At least two chronic conditions, independent (ADL 6/6)."),
    "POLY-2": ("Fragilité repérée (chute, perte de poids, isolement).",
               "Frailty identified (fall, weight loss, isolation)."),
    "POLY-3": ("Perte d'autonomie et problèmes sociaux lourds.",
               "Loss of autonomy and heavy social problems."),
}

# The goals each reference stratum suggests for its care plans: (assessment domain, French,
# English), in order (strata.vocabulary.ASSESSMENT_DOMAINS; councils refine them).
STRATUM_GOALS = {
    "HF-1": [("health", "Contrôler les facteurs de risque", "Control the risk factors"),
             ("health", "Dépister les premiers signes", "Detect the first signs")],
    "HF-2": [("health", "Traitement optimisé", "Optimised treatment"),
             ("autonomy", "Éducation thérapeutique", "Therapeutic education"),
             ("health", "Surveillance du poids", "Weight monitoring")],
    "HF-3": [("health", "Contrôler les symptômes", "Control the symptoms"),
             ("health", "Réduire les réhospitalisations", "Reduce readmissions"),
             ("psychological", "Projet de fin de vie", "End-of-life wishes")],
    "DIAB-1": [("health", "Maintenir l'équilibre", "Keep the diabetes controlled"),
               ("autonomy", "Activité physique", "Physical activity"),
               ("health", "Alimentation", "Diet")],
    "DIAB-2": [("health", "Revenir dans la cible", "Return to the target"),
               ("health", "Dépister les complications (œil, pied, rein)",
                "Screen for complications (eye, foot, kidney)")],
    "DIAB-3": [("health", "Éviter les hospitalisations", "Avoid hospitalisations"),
               ("health", "Coordonner les spécialistes", "Coordinate the specialists"),
               ("social", "Soutien social", "Social support")],
    "COPD-1": [("health", "Arrêt du tabac", "Stop smoking"),
               ("health", "Vaccinations", "Vaccinations"),
               ("autonomy", "Activité physique", "Physical activity")],
    "COPD-2": [("autonomy", "Réhabilitation respiratoire", "Pulmonary rehabilitation"),
               ("health", "Plan d'action écrit", "Written action plan")],
    "COPD-3": [("health", "Réduire les exacerbations et hospitalisations",
                "Reduce exacerbations and hospitalisations"),
               ("health", "Soins palliatifs si besoin", "Palliative care if needed")],
    "POLY-1": [("autonomy", "Prévenir la perte d'autonomie", "Prevent the loss of autonomy"),
               ("health", "Revue des médicaments", "Medication review")],
    "POLY-2": [("health", "Évaluation gériatrique", "Geriatric assessment"),
               ("housing", "Adapter le domicile", "Adapt the home"),
               ("caregiver", "Soutenir l'aidant", "Support the caregiver")],
    "POLY-3": [("housing", "Maintien à domicile sûr", "Stay safely at home"),
               ("health", "Plan personnalisé", "Personalised plan"),
               ("social", "Coordination des intervenants",
                "Coordination of the professionals involved")],
}

# Default follow-up templates per stratum level: (provider kind, label, English label,
# interval days, count).
FOLLOWUP_TEMPLATES = {
    1: [("gp", "Consultation de suivi du médecin traitant", "GP follow-up consultation", 180, 2)],
    2: [("gp", "Consultation de suivi du médecin traitant", "GP follow-up consultation", 90, 4),
        ("nurse", "Éducation thérapeutique infirmière", "Therapeutic education by a nurse",
         60, 3)],
    3: [("nurse", "Visite infirmière à domicile", "Nurse home visit", 14, 6),
        ("gp", "Consultation du médecin traitant", "GP consultation", 30, 3),
        ("dietitian", "Consultation diététique", "Dietetic consultation", 45, 2),
        ("social_worker", "Évaluation sociale", "Social assessment", 90, 1)],
}
