"""Column types: a StrEnum column stores its values as text and reads back its members."""

from sqlalchemy import select, text

from coordinator.extensions import db
from coordinator.patients.models import IdentityStatus, Patient
from tests import factories


def test_an_enum_column_stores_the_value_and_reads_back_the_member():
    patient = factories.make_patient(identity_status=IdentityStatus.QUALIFIED)
    stored = db.session.execute(text("SELECT identity_status FROM patient WHERE id = :id"),
                                {"id": patient.id}).scalar_one()
    assert stored == "qualified" and type(stored) is str

    db.session.expire_all()
    read = db.session.get(Patient, patient.id)
    assert read.identity_status is IdentityStatus.QUALIFIED
    assert read.identity_status == "qualified"  # a StrEnum equals its value


def test_an_enum_column_is_compared_with_members_and_with_plain_strings():
    patient = factories.make_patient()  # provisional by default
    for value in (IdentityStatus.PROVISIONAL, "provisional"):
        assert db.session.scalar(select(Patient.id).where(
            Patient.id == patient.id, Patient.identity_status == value)) == patient.id
