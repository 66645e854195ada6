"""Reference data in French and English, and the strata's suggested goals with their domain.

- `program.inclusion_criteria_en`, `stratum.boundary_criteria_en`,
  `followup_template_item.label_en`, `program_indicator.label_en`: the English texts beside the
  French ones (as `name_en` and `description_en`), filled for the rows of the built-in reference
  data whose French text is still the reference's.
- `stratum_goal` (domain of the assessment, French and English text, position) replaces the
  free text `stratum.clinical_goals`: a stratum whose text is still the reference's gets the
  reference's goals with their domains and English; any other text is cut into its goals as the
  care-plan form did (at each semicolon or line break), each in the domain the form gave them
  (health), without English. The downgrade writes the French goals back as one text.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-03 14:30:00.000000

"""
import re

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None

DOMAINS = ("health", "autonomy", "psychological", "social", "housing", "financial", "caregiver")

# coordinator/strata/reference.py when this revision was written: the clinical goals each
# reference stratum was loaded with, and the goals they become (domain, French, English).
REFERENCE_GOALS = {
    "HF-1": ("Contrôler les facteurs de risque ; dépister les premiers signes.",
             [("health", "Contrôler les facteurs de risque", "Control the risk factors"),
              ("health", "Dépister les premiers signes", "Detect the first signs")]),
    "HF-2": ("Traitement optimisé ; éducation thérapeutique ; surveillance du poids.",
             [("health", "Traitement optimisé", "Optimised treatment"),
              ("autonomy", "Éducation thérapeutique", "Therapeutic education"),
              ("health", "Surveillance du poids", "Weight monitoring")]),
    "HF-3": ("Contrôler les symptômes ; réduire les réhospitalisations ; projet de fin de vie.",
             [("health", "Contrôler les symptômes", "Control the symptoms"),
              ("health", "Réduire les réhospitalisations", "Reduce readmissions"),
              ("psychological", "Projet de fin de vie", "End-of-life wishes")]),
    "DIAB-1": ("Maintenir l'équilibre ; activité physique ; alimentation.",
               [("health", "Maintenir l'équilibre", "Keep the diabetes controlled"),
                ("autonomy", "Activité physique", "Physical activity"),
                ("health", "Alimentation", "Diet")]),
    "DIAB-2": ("Revenir dans la cible ; dépister les complications (œil, pied, rein).",
               [("health", "Revenir dans la cible", "Return to the target"),
                ("health", "Dépister les complications (œil, pied, rein)",
                 "Screen for complications (eye, foot, kidney)")]),
    "DIAB-3": ("Éviter les hospitalisations ; coordonner les spécialistes ; soutien social.",
               [("health", "Éviter les hospitalisations", "Avoid hospitalisations"),
                ("health", "Coordonner les spécialistes", "Coordinate the specialists"),
                ("social", "Soutien social", "Social support")]),
    "COPD-1": ("Arrêt du tabac ; vaccinations ; activité physique.",
               [("health", "Arrêt du tabac", "Stop smoking"),
                ("health", "Vaccinations", "Vaccinations"),
                ("autonomy", "Activité physique", "Physical activity")]),
    "COPD-2": ("Réhabilitation respiratoire ; plan d'action écrit.",
               [("autonomy", "Réhabilitation respiratoire", "Pulmonary rehabilitation"),
                ("health", "Plan d'action écrit", "Written action plan")]),
    "COPD-3": ("Réduire les exacerbations et hospitalisations ; soins palliatifs si besoin.",
               [("health", "Réduire les exacerbations et hospitalisations",
                 "Reduce exacerbations and hospitalisations"),
                ("health", "Soins palliatifs si besoin", "Palliative care if needed")]),
    "POLY-1": ("Prévenir la perte d'autonomie ; revue des médicaments.",
               [("autonomy", "Prévenir la perte d'autonomie", "Prevent the loss of autonomy"),
                ("health", "Revue des médicaments", "Medication review")]),
    "POLY-2": ("Évaluation gériatrique ; adapter le domicile ; soutenir l'aidant.",
               [("health", "Évaluation gériatrique", "Geriatric assessment"),
                ("housing", "Adapter le domicile", "Adapt the home"),
                ("caregiver", "Soutenir l'aidant", "Support the caregiver")]),
    "POLY-3": ("Maintien à domicile sûr ; plan personnalisé ; coordination des intervenants.",
               [("housing", "Maintien à domicile sûr", "Stay safely at home"),
                ("health", "Plan personnalisé", "Personalised plan"),
                ("social", "Coordination des intervenants",
                 "Coordination of the professionals involved")]),
}

REFERENCE_BOUNDARIES = {
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

REFERENCE_LABELS = {
    "Consultation de suivi du médecin traitant": "GP follow-up consultation",
    "Éducation thérapeutique infirmière": "Therapeutic education by a nurse",
    "Visite infirmière à domicile": "Nurse home visit",
    "Consultation du médecin traitant": "GP consultation",
    "Consultation diététique": "Dietetic consultation",
    "Évaluation sociale": "Social assessment",
}

REFERENCE_INDICATORS = {
    "flu_vaccination_65": ("Vaccination antigrippale des 65 ans et plus",
                           "Flu vaccination of people aged 65 and over"),
}

stratum = sa.table('stratum', sa.column('id', sa.Integer), sa.column('code', sa.String),
                   sa.column('boundary_criteria', sa.Text),
                   sa.column('boundary_criteria_en', sa.Text),
                   sa.column('clinical_goals', sa.Text))
stratum_goal = sa.table('stratum_goal', sa.column('stratum_id', sa.Integer),
                        sa.column('position', sa.Integer), sa.column('domain', sa.String),
                        sa.column('description', sa.Text), sa.column('description_en', sa.Text))
item = sa.table('followup_template_item', sa.column('label', sa.String),
                sa.column('label_en', sa.String))
indicator = sa.table('program_indicator', sa.column('code', sa.String),
                     sa.column('label', sa.String), sa.column('label_en', sa.String),
                     sa.column('is_builtin', sa.Boolean))


def goal_sentences(text):
    """What coordinator.careplans.services._goal_sentences made of a stratum's clinical goals
    when this revision was written: the parts between semicolons and line breaks, trimmed of
    spaces and full stops, capitalised."""
    parts = [part.strip(" .\n\t") for part in re.split(r"[;\n]", text or "")]
    return [part[:1].upper() + part[1:] for part in parts if part]


def goals_of(code, text):
    reference = REFERENCE_GOALS.get(code)
    sentences = goal_sentences(text)
    if reference is not None and sentences == [fr for _domain, fr, _en in reference[1]]:
        return reference[1]
    return [("health", sentence[:2000], None) for sentence in sentences]


def upgrade():
    with op.batch_alter_table('program') as batch_op:
        batch_op.add_column(sa.Column('inclusion_criteria_en', sa.Text(), nullable=True))
    with op.batch_alter_table('followup_template_item') as batch_op:
        batch_op.add_column(sa.Column('label_en', sa.String(length=200), nullable=True))
    with op.batch_alter_table('program_indicator') as batch_op:
        batch_op.add_column(sa.Column('label_en', sa.String(length=200), nullable=True))
    with op.batch_alter_table('stratum') as batch_op:
        batch_op.add_column(sa.Column('boundary_criteria_en', sa.Text(), nullable=True))
    op.create_table(
        'stratum_goal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('stratum_id', sa.Integer(), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('domain', sa.String(length=32), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('description_en', sa.Text(), nullable=True),
        sa.CheckConstraint("domain IN (" + ", ".join(f"'{d}'" for d in DOMAINS) + ")",
                           name=op.f('ck_stratum_goal_domain_known')),
        sa.ForeignKeyConstraint(['stratum_id'], ['stratum.id'],
                                name=op.f('fk_stratum_goal_stratum_id_stratum')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stratum_goal')),
    )
    with op.batch_alter_table('stratum_goal') as batch_op:
        batch_op.create_index(batch_op.f('ix_stratum_goal_stratum_id'), ['stratum_id'],
                              unique=False)

    connection = op.get_bind()
    goals = []
    for row in connection.execute(sa.select(stratum.c.id, stratum.c.code,
                                            stratum.c.boundary_criteria,
                                            stratum.c.clinical_goals).order_by(stratum.c.id)):
        goals += [{"stratum_id": row.id, "position": position, "domain": domain,
                   "description": french, "description_en": english}
                  for position, (domain, french, english)
                  in enumerate(goals_of(row.code, row.clinical_goals))]
        boundary = REFERENCE_BOUNDARIES.get(row.code)
        if boundary is not None and (row.boundary_criteria or "").strip() == boundary[0]:
            connection.execute(stratum.update().where(stratum.c.id == row.id)
                               .values(boundary_criteria_en=boundary[1]))
    if goals:
        connection.execute(stratum_goal.insert(), goals)
    for french, english in REFERENCE_LABELS.items():
        connection.execute(item.update().where(item.c.label == french, item.c.label_en.is_(None))
                           .values(label_en=english))
    for code, (french, english) in REFERENCE_INDICATORS.items():
        connection.execute(indicator.update()
                           .where(indicator.c.code == code, indicator.c.label == french,
                                  indicator.c.is_builtin.is_(True))
                           .values(label_en=english))

    with op.batch_alter_table('stratum') as batch_op:
        batch_op.drop_column('clinical_goals')


def downgrade():
    with op.batch_alter_table('stratum') as batch_op:
        batch_op.add_column(sa.Column('clinical_goals', sa.Text(), nullable=False,
                                      server_default=''))
    connection = op.get_bind()
    texts = {}
    for row in connection.execute(sa.select(stratum_goal.c.stratum_id,
                                            stratum_goal.c.description)
                                  .order_by(stratum_goal.c.stratum_id, stratum_goal.c.position)):
        texts.setdefault(row.stratum_id, []).append(row.description)
    for stratum_id, descriptions in texts.items():
        connection.execute(stratum.update().where(stratum.c.id == stratum_id)
                           .values(clinical_goals=" ; ".join(descriptions) + "."))
    with op.batch_alter_table('stratum_goal') as batch_op:
        batch_op.drop_index(batch_op.f('ix_stratum_goal_stratum_id'))
    op.drop_table('stratum_goal')
    with op.batch_alter_table('stratum') as batch_op:
        batch_op.drop_column('boundary_criteria_en')
    with op.batch_alter_table('program_indicator') as batch_op:
        batch_op.drop_column('label_en')
    with op.batch_alter_table('followup_template_item') as batch_op:
        batch_op.drop_column('label_en')
    with op.batch_alter_table('program') as batch_op:
        batch_op.drop_column('inclusion_criteria_en')
