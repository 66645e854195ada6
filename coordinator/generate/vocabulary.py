"""The generator's fixed lists: the territories' towns and hospitals, how many providers of each
kind a territory has, the ICD-10 codes of each program, the texts of plans and reasons.

Everything here is synthetic but shaped like the real thing: real towns and postal codes of
each territory, made-up FINESS and RPPS numbers of the right shape, codes the ICD-10 module
accepts. No text contains a tab, a newline or a backslash (rows are written as COPY text).
"""

from __future__ import annotations

# The department of each territory (the FINESS prefix, the usual place of birth) and its
# population share (about 1.5 million people in all, FHF experiment).
DEPARTMENTS = {"AUBE-SEZ": "10", "CORNOUAILLE": "29", "DEUX-SEVRES": "79", "DOUAISIS": "59",
               "HAUTE-SAONE": "70"}
POPULATION_WEIGHTS = {"AUBE-SEZ": 310, "CORNOUAILLE": 330, "DEUX-SEVRES": 370, "DOUAISIS": 250,
                      "HAUTE-SAONE": 235}
PHONE_PREFIXES = {"AUBE-SEZ": "03 25", "CORNOUAILLE": "02 98", "DEUX-SEVRES": "05 49",
                  "DOUAISIS": "03 27", "HAUTE-SAONE": "03 84"}

TOWNS = {
    "AUBE-SEZ": [("Troyes", "10000", 12), ("Romilly-sur-Seine", "10100", 4),
                 ("La Chapelle-Saint-Luc", "10600", 3), ("Saint-André-les-Vergers", "10120", 3),
                 ("Sainte-Savine", "10300", 2), ("Bar-sur-Aube", "10200", 2),
                 ("Nogent-sur-Seine", "10400", 2), ("Sézanne", "51120", 2),
                 ("Bar-sur-Seine", "10110", 1), ("Arcis-sur-Aube", "10700", 1)],
    "CORNOUAILLE": [("Quimper", "29000", 12), ("Concarneau", "29900", 4),
                    ("Douarnenez", "29100", 3), ("Quimperlé", "29300", 3),
                    ("Pont-l'Abbé", "29120", 2), ("Fouesnant", "29170", 2),
                    ("Ergué-Gabéric", "29500", 2), ("Rosporden", "29140", 1),
                    ("Briec", "29510", 1), ("Audierne", "29770", 1)],
    "DEUX-SEVRES": [("Niort", "79000", 12), ("Bressuire", "79300", 4), ("Parthenay", "79200", 3),
                    ("Thouars", "79100", 3), ("Saint-Maixent-l'École", "79400", 2),
                    ("Chauray", "79180", 2), ("Aiffres", "79230", 1), ("Melle", "79500", 1),
                    ("Nueil-les-Aubiers", "79250", 1), ("Mauléon", "79700", 1)],
    "DOUAISIS": [("Douai", "59500", 12), ("Sin-le-Noble", "59450", 5), ("Waziers", "59119", 3),
                 ("Somain", "59490", 3), ("Aniche", "59580", 3), ("Cuincy", "59553", 2),
                 ("Lallaing", "59167", 2), ("Auby", "59950", 2),
                 ("Flers-en-Escrebieux", "59128", 1), ("Guesnain", "59287", 1)],
    "HAUTE-SAONE": [("Vesoul", "70000", 10), ("Lure", "70200", 4), ("Héricourt", "70400", 3),
                    ("Luxeuil-les-Bains", "70300", 3), ("Gray", "70100", 3),
                    ("Saint-Loup-sur-Semouse", "70800", 1), ("Rioz", "70190", 1),
                    ("Jussey", "70500", 1), ("Villersexel", "70110", 1),
                    ("Champagney", "70290", 1)],
}

# The territory's hospitals (weight: the share of its stays), then the university hospital
# outside it that receives its transfers.
HOSPITALS = {
    "AUBE-SEZ": [("Centre hospitalier de Troyes", 7),
                 ("Centre hospitalier de Romilly-sur-Seine", 2),
                 ("Centre hospitalier de Bar-sur-Aube", 1)],
    "CORNOUAILLE": [("Centre hospitalier de Cornouaille", 7),
                    ("Centre hospitalier de Douarnenez", 2), ("Hôtel-Dieu de Pont-l'Abbé", 1)],
    "DEUX-SEVRES": [("Centre hospitalier de Niort", 7),
                    ("Centre hospitalier Nord Deux-Sèvres", 2), ("Hôpital de Melle", 1)],
    "DOUAISIS": [("Centre hospitalier de Douai", 7), ("Hôpital privé du Douaisis", 2),
                 ("Centre hospitalier de Somain", 1)],
    "HAUTE-SAONE": [("Groupe hospitalier de la Haute-Saône", 7), ("Hôpital de Lure", 2),
                    ("Hôpital de Gray", 1)],
}
UNIVERSITY_HOSPITALS = {"AUBE-SEZ": ("CHU de Reims", "51"), "CORNOUAILLE": ("CHU de Brest", "29"),
                        "DEUX-SEVRES": ("CHU de Poitiers", "86"),
                        "DOUAISIS": ("CHU de Lille", "59"),
                        "HAUTE-SAONE": ("CHU de Besançon", "25")}

# Providers of each kind per 100,000 patients of a territory (at least one of each).
PROVIDERS_PER_100K = {"gp": 100, "nurse": 120, "pharmacist": 35, "physiotherapist": 40,
                      "dietitian": 12, "psychologist": 10, "social_worker": 15,
                      "home_care_service": 6, "specialist": 45, "hospital": 0, "association": 5,
                      "other": 3}
SPECIALTIES = ("cardiologie", "pneumologie", "endocrinologie", "gériatrie", "néphrologie",
               "médecine physique et de réadaptation")
ASSOCIATIONS = ("France Alzheimer", "Les Petits Frères des Pauvres", "Association des diabétiques",
                "Croix-Rouge française", "Aidants et répit")
OTHER_SERVICES = ("Service de portage de repas", "Plateforme d'accompagnement et de répit",
                  "Service de téléassistance")

# Case managers: about one per 40 patients with an active care plan (MAIA/DAC practice).
CASELOAD = 40

# Birth departments (NIR positions 6-7), in three disjoint sets: a patient's NIR is unique
# because its commune and order numbers encode the patient's rank within a set (989,010 ranks),
# and the rank's round picks the set (see population.nir).
_ALL_DEPARTMENTS = [f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"]
_NEAR = ["10", "29", "79", "59", "70", "51", "52", "89", "77", "22", "56", "35", "86", "85", "17",
         "16", "62", "80", "02", "25", "90", "88", "21", "39", "75", "92", "93", "94", "69", "13",
         "2A", "2B"]
_REST = [d for d in _ALL_DEPARTMENTS if d not in _NEAR]
BIRTH_DEPARTMENT_ROUNDS = [_NEAR, _REST[: len(_REST) // 2], _REST[len(_REST) // 2:]]
NIR_RANKS = 990 * 999  # communes 001-990 times orders 001-999

# ICD-10 codes (the shapes stays.icd10 accepts): main diagnoses by program, then general ones.
MAIN_DIAGNOSES = {
    "HF": ["I50.0", "I50.1", "I50.9", "I11.0", "I48.9", "I25.5"],
    "DIAB": ["E11.6", "E11.5", "E11.9", "E10.9", "L97", "E16.2"],
    "COPD": ["J44.1", "J44.0", "J44.9", "J96.0", "J18.9"],
    "POLY": ["S72.0", "R26.8", "N39.0", "E86", "F05.9", "R54", "J18.9"],
}
GENERAL_DIAGNOSES = ["I21.9", "I63.9", "K80.2", "K35.8", "A09.9", "N17.9", "R07.4", "R55",
                     "S06.0", "C18.9", "K92.2"]
PLANNED_DIAGNOSES = ["Z45.0", "H25.9", "M17.1", "K40.9", "Z51.1", "N40", "K63.5", "I70.2",
                     "Z08.9"]
# Chronic conditions a patient carries (the further diagnoses of their stays, Charlson's input).
COMORBIDITIES = {
    "HF": ["I50.9", "I10", "I48.9", "N18.3", "I25.1"],
    "DIAB": ["E11.9", "E11.2", "I10", "N18.3", "E11.4"],
    "COPD": ["J44.9", "F17.2", "J96.1", "I27.8"],
    "POLY": ["F03", "I10", "M81.9", "G30.9", "N18.3", "I69.4"],
}
RARE_COMORBIDITIES = ["C34.9", "C50.9", "K70.3", "B20", "M05.9", "K25.9", "C79.9"]
CHRONIC_DIAGNOSIS = {"HF": "I50.9", "DIAB": "E11.9", "COPD": "J44.9", "POLY": "R54"}
WARDS = {"I": "Cardiologie", "J": "Pneumologie", "E": "Endocrinologie", "S": "Orthopédie",
         "F": "Gériatrie", "R": "Médecine polyvalente", "N": "Néphrologie",
         "K": "Chirurgie viscérale",
         "H": "Ophtalmologie", "M": "Chirurgie orthopédique", "Z": "Hôpital de jour",
         "C": "Oncologie", "L": "Médecine polyvalente", "A": "Médecine polyvalente"}

# Lab results: code, label, (low, high) of the value by level 1/2/3, every how many days, from
# which level (HbA1c twice a year for every diabetic; NT-proBNP for established heart failure).
LABS = {
    "DIAB": ("hba1c", "HbA1c (%)", ((6.0, 7.2), (7.3, 9.5), (8.0, 11.5)), 180, 1),
    "HF": ("nt_probnp", "NT-proBNP (ng/L)", ((100, 400), (300, 1800), (1200, 6000)), 180, 2),
}
CREATININE = ("creatinine", "Créatinine (µmol/L)", (55, 260), 365)

# Reasons of the enrollment timeline.
ENTRY_REASONS = ("Inclusion", "Repérage par le médecin traitant", "Sortie d'hospitalisation",
                 "Inclusion à la demande de l'infirmière", "Repérage en officine")
UP_REASONS = ("Aggravation : deux hospitalisations en six mois", "Déséquilibre persistant",
              "Perte d'autonomie", "Décompensation récente", "Isolement social aggravé")
DOWN_REASONS = ("Stabilisation", "Amélioration clinique", "Objectifs atteints",
                "Traitement optimisé")
EXIT_REASONS = ("Déménagement hors du territoire", "Sortie du programme à la demande du patient",
                "Suivi assuré par un autre dispositif")
DEATH_REASON = "Décès"
REENTRY_REASON = "Réinclusion"

# Care plan texts (the patient's words and the assessment).
PRIORITIES = ("Rester à domicile le plus longtemps possible.",
              "Ne plus être hospitalisé cet hiver.",
              "Pouvoir recevoir mes petits-enfants et jardiner.",
              "Être moins essoufflé pour faire mes courses.",
              "Garder mon autonomie pour la toilette et les repas.",
              "Reprendre la marche tous les jours.")
EXPECTATIONS = ("Savoir qui appeler quand ça ne va pas.",
                "Moins de rendez-vous éparpillés, un seul interlocuteur.",
                "Être aidé pour les démarches administratives.",
                "Que ma fille soit tenue informée.")
LIFE_PROJECTS = ("Vivre chez moi, entouré de ma famille.",
                 "Continuer à aller au marché le samedi.",
                 "Partir voir mon fils en Bretagne l'été prochain.")
CURRENT_HELP = ("Portage des repas ; aide-ménagère 4 h par semaine.",
                "Infirmière à domicile deux fois par jour.",
                "Aucune aide en place.", "Téléassistance ; aide à la toilette le matin.")
NEEDS = {"health": "Surveillance du poids et des symptômes ; observance du traitement.",
         "autonomy": "Aide à la toilette deux fois par semaine.",
         "psychological": "Humeur triste depuis le décès du conjoint : soutien à proposer.",
         "social": "Isolement : visites d'une association à organiser.",
         "housing": "Salle de bains à adapter ; escalier difficile.",
         "financial": "Dossier d'allocation personnalisée d'autonomie à constituer.",
         "caregiver": "Épuisement de l'aidante : solution de répit à trouver."}
RELATIONS = ("fille", "fils", "épouse", "époux", "voisine", "nièce", "frère")
TEAM_ROLES = {"gp": "Médecin traitant", "nurse": "Infirmier(e)", "dietitian": "Diététicien(ne)",
              "social_worker": "Assistant(e) social(e)", "pharmacist": "Pharmacien(ne)",
              "physiotherapist": "Kinésithérapeute", "psychologist": "Psychologue"}
CLOSE_REASONS = {"death": "Décès du patient", "down": "Amélioration : retour en strate inférieure",
                 "exit": "Sortie du programme"}
FOLLOW_UP_GOAL = "Suivi régulier du programme {program}"
OUTREACH_NOTES = ("Appel du patient : rendez-vous oublié, reprogrammé.",
                  "Message laissé sur le répondeur.",
                  "Appel de l'aidante : transport à organiser.",
                  "Patient joint : ne souhaite pas reprogrammer pour l'instant.")
