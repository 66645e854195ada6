"""Field rules of a patient identity, shared by the forms, the API and the CSV import.

Each check returns a list of (field, message) pairs; an empty list means the value is valid.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import nir as stdnum_nir

from coordinator import permissions
from coordinator.patients.models import IdentityStatus

SEXES = ("F", "M", "U")
IDENTITY_STATUSES = tuple(IdentityStatus)
INSEE_RE = re.compile(r"^(\d{2}|2[AB])\d{3}$")

Problems = list[tuple[str, object]]


def clean_nir(value: str | None) -> str | None:
    if not value:
        return None
    return re.sub(r"[\s.\-]", "", value).upper() or None


def check_nir(nir: str | None, sex: str | None, birth_date: date | None) -> Problems:
    """NIR/INS: 15 characters, key verified (Corsica 2A/2B included), consistent with the sex,
    the birth year and the birth month when those are known."""
    if not nir:
        return []
    try:
        stdnum_nir.validate(nir)
    except StdnumError:
        if len(nir) != 15:
            return [("nir", _l("A NIR has 15 characters (13 digits and a 2-digit key)."))]
        return [("nir", _l("The NIR is invalid: its key does not match."))]
    problems: Problems = []
    sex_digit = nir[0]
    if sex in ("M", "F") and sex_digit in "12" and sex_digit != ("1" if sex == "M" else "2"):
        problems.append(("nir", _l("The NIR does not match the sex (it starts with %(d)s).",
                                   d=sex_digit)))
    if birth_date is not None:
        if nir[1:3] != f"{birth_date.year % 100:02d}":
            problems.append(("nir", _l("The NIR does not match the birth year.")))
        month = int(nir[3:5])
        if 1 <= month <= 12 and month != birth_date.month:
            problems.append(("nir", _l("The NIR does not match the birth month.")))
    return problems


def check_identity(
    *,
    birth_name: str | None,
    first_names: str | None,
    birth_date: date | None,
    sex: str | None,
    birth_place_insee: str | None = None,
    deceased_date: date | None = None,
    today: date,
) -> Problems:
    problems: Problems = []
    if not (birth_name or "").strip():
        problems.append(("birth_name", _l("The birth name is required.")))
    if not (first_names or "").strip():
        problems.append(("first_names", _l("The first names are required.")))
    if birth_date is None:
        problems.append(("birth_date", _l("The birth date is required.")))
    elif birth_date > today:
        problems.append(("birth_date", _l("The birth date cannot be in the future.")))
    if sex not in SEXES:
        problems.append(("sex", _l("The sex must be F, M or U.")))
    if birth_place_insee and not INSEE_RE.match(birth_place_insee):
        problems.append(("birth_place_insee",
                         _l("An INSEE commune code has 5 characters, e.g. 59178 or 2A004.")))
    if deceased_date is not None:
        if deceased_date > today:
            problems.append(("deceased_date", _l("The date of death cannot be in the future.")))
        elif birth_date is not None and deceased_date < birth_date:
            problems.append(("deceased_date",
                             _l("The date of death cannot be before the birth date.")))
    return problems


def check_identity_status(status: str | None, nir: str | None,
                          field: str = "identity_status") -> Problems:
    """A known status; a qualified identity (INS) carries its NIR."""
    status = status or IdentityStatus.PROVISIONAL
    if status not in IDENTITY_STATUSES:
        return [(field, _l("Unknown identity status."))]
    if status == IdentityStatus.QUALIFIED and not nir:
        return [(field, _l("A qualified identity needs its NIR."))]
    return []


def check_gp(gp: Any, territory_id: int | None, *, newly_chosen: bool,
             field: str = "gp_id") -> Problems:
    """The GP (a Provider, or a row with its kind, is_active and territory_id) is a provider
    of kind GP; a newly chosen one is active and works in the patient's territory
    (`permissions.provider_serves`, the rule of every path: form, API, import). A patient
    whose GP was deactivated or moved since keeps the link until someone changes it."""
    if gp.kind != "gp":
        return [(field, _l("The GP must be a provider of kind GP."))]
    if not newly_chosen:
        return []
    if not gp.is_active:
        return [(field, _l("This GP is deactivated in the directory."))]
    if territory_id is not None and not permissions.provider_serves(gp, territory_id):
        return [(field, _l("This GP works in another territory: choose a GP of the "
                           "patient's territory."))]
    return []


def check_email(email: str | None, field: str = "email") -> Problems:
    """An e-mail address of the patient, as the form's field checks it (email-validator, the
    library WTForms uses; no DNS lookup): one address, no spaces or line breaks, at most 254
    characters. The same rule for the form, the API and the import."""
    if email is None:
        return []
    if len(email) > 254:
        return [(field, _l("At most 254 characters."))]
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError:
        return [(field, _l("Give a valid e-mail address (name@example.org)."))]
    return []


def check_language(language: str | None, languages: list[str]) -> Problems:
    """The patient's language (their reminders'): one the instance offers (`LANGUAGES`)."""
    if language is None or language in languages:
        return []
    return [("language", _l("Choose one of the languages offered: %(codes)s.",
                            codes=", ".join(languages)))]
