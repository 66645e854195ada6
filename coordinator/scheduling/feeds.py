"""iCalendar (RFC 5545) feeds: the appointments of a provider or a patient at a secret address
that calendar applications subscribe to. The token is shown once; only its SHA-256 is stored;
a revoked or unknown token serves nothing."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from icalendar import Calendar, Event
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased, joinedload

from coordinator import permissions
from coordinator.audit import services as audit
from coordinator.audit.models import AuditAction
from coordinator.auth.models import User
from coordinator.core.context import Actor
from coordinator.core.i18n import recipient_locale
from coordinator.core.time import utcnow
from coordinator.patients.models import Patient
from coordinator.providers.models import Provider
from coordinator.scheduling.labels import KIND_LABELS
from coordinator.scheduling.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    CalendarFeed,
)

PAST_DAYS = 90  # a feed holds the last 90 days and everything ahead
PRODID = "-//Coordinator//Appointments//EN"
CONFIRMED = (AppointmentStatus.SCHEDULED, AppointmentStatus.ATTENDED,
             AppointmentStatus.NO_SHOW)  # the slot was held


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_feed(session: Session, actor: Actor, *, provider: Provider | None = None,
                patient: Patient | None = None) -> tuple[CalendarFeed, str]:
    """A new feed of one provider or one patient; the token is returned once, never stored."""
    if (provider is None) == (patient is None):
        raise ValueError("a feed belongs to one provider or one patient")
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed(token_hash=_digest(token), created_by=actor.label,
                        created_by_id=actor.user_id,
                        provider_id=provider.id if provider else None,
                        patient_id=patient.id if patient else None)
    session.add(feed)
    session.flush()
    audit.record(session, actor, AuditAction.CREATE, "calendar_feed", feed.id,
                 patient_id=feed.patient_id, summary=_owner_summary(feed))
    return feed, token


def revoke_feed(session: Session, actor: Actor, feed: CalendarFeed) -> None:
    """Revoking ends the feed at once (its address answers 404); revoking twice changes
    nothing."""
    if feed.revoked_at is not None:
        return
    feed.revoked_at = utcnow()
    session.flush()
    audit.record(session, actor, AuditAction.UPDATE, "calendar_feed", feed.id,
                 patient_id=feed.patient_id, summary="revoked " + _owner_summary(feed))


def active_feeds(session: Session, *, provider_id: int | None = None,
                 patient_id: int | None = None) -> list[CalendarFeed]:
    """The unrevoked feeds of one provider or one patient, newest first."""
    owner = CalendarFeed.provider_id == provider_id if provider_id is not None else \
        CalendarFeed.patient_id == patient_id
    return list(session.scalars(select(CalendarFeed).where(
        owner, CalendarFeed.revoked_at.is_(None)).order_by(CalendarFeed.created_at.desc(),
                                                           CalendarFeed.id.desc())))


def feed_for_token(session: Session, token: str) -> CalendarFeed | None:
    """The unrevoked feed of this token (its use recorded), or None; a feed whose creator's
    account is disabled serves no more (#15, finding 4), as that account's API tokens."""
    creator = aliased(User)
    feed = session.scalar(
        select(CalendarFeed).outerjoin(creator, creator.id == CalendarFeed.created_by_id)
        .where(CalendarFeed.token_hash == _digest(token), CalendarFeed.revoked_at.is_(None),
               or_(CalendarFeed.created_by_id.is_(None), creator.is_active.is_(True))))
    if feed is not None:
        feed.last_used_at = utcnow()
    return feed


def _owner_summary(feed: CalendarFeed) -> str:
    return f"provider {feed.provider_id}" if feed.provider_id else f"patient {feed.patient_id}"


def _appointments(session: Session, feed: CalendarFeed) -> list[Appointment]:
    owner = Appointment.provider_id == feed.provider_id if feed.provider_id else \
        Appointment.patient_id == feed.patient_id
    since = utcnow() - timedelta(days=PAST_DAYS)
    return list(session.scalars(
        select(Appointment).where(owner, Appointment.starts_at >= since)
        .options(joinedload(Appointment.patient), joinedload(Appointment.provider))
        .order_by(Appointment.starts_at, Appointment.id)))


def _event(appointment: Appointment, for_provider: bool, stamp: datetime,
           kinds: dict[AppointmentKind, str], territory_id: int | None) -> Event:
    """One VEVENT: times in UTC; a cancelled (or rescheduled) appointment stays as CANCELLED,
    and its SEQUENCE (the row's version) tells clients it changed. In a provider's feed, a
    patient of another territory than the provider's is only "busy" (the feed was given out by
    the provider's territory): its times, nothing else."""
    busy = for_provider and not permissions.feed_names_patient(territory_id, appointment.patient)
    if busy:
        who = _("Busy")
    elif for_provider:
        who = appointment.patient.display_name
    else:
        who = appointment.provider.name
    event = Event()
    event.add("uid", f"appointment-{appointment.id}@coordinator")
    event.add("dtstamp", stamp)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    if busy:  # a busy slot carries its times only: no place (a home address), no kind
        event.add("summary", who)
        event.add("transp", "OPAQUE")
    else:
        event.add("summary", f"{who} — {kinds[appointment.kind]}")
        if appointment.place:
            event.add("location", appointment.place)
    event.add("status", "CONFIRMED" if appointment.status in CONFIRMED else "CANCELLED")
    event.add("sequence", appointment.version)
    return event


def _calendar_name(session: Session, feed: CalendarFeed) -> str:
    if feed.provider_id:
        return _("Appointments — %(name)s",
                 name=session.get_one(Provider, feed.provider_id).name)
    return _("Appointments — %(name)s",
             name=session.get_one(Patient, feed.patient_id).display_name)


def feed_locale(session: Session, feed: CalendarFeed) -> str:
    """The language a feed is written in: its owner's, the account that created it (a feed
    created by a command: the instance's default language), never the language of the
    calendar application that reads it."""
    owner = session.get(User, feed.created_by_id) if feed.created_by_id is not None else None
    return recipient_locale(owner.locale if owner is not None else None)


def build_ics(session: Session, feed: CalendarFeed, ip_address: str | None = None) -> bytes:
    """The feed as an iCalendar file (the last 90 days and the future) in its owner's
    language (`feed_locale`); each read is audited in the name of the feed."""
    with force_locale(feed_locale(session, feed)):
        return _build_ics(session, feed, ip_address)


def _build_ics(session: Session, feed: CalendarFeed, ip_address: str | None) -> bytes:
    appointments = _appointments(session, feed)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", _calendar_name(session, feed))
    calendar.add("x-wr-timezone", "Europe/Paris")
    calendar.add("x-published-ttl", "PT1H")
    stamp, kinds = utcnow(), {kind: str(label) for kind, label in KIND_LABELS.items()}
    territory_id = session.get_one(Provider, feed.provider_id).territory_id \
        if feed.provider_id else None
    named = set()
    for appointment in appointments:
        event = _event(appointment, feed.provider_id is not None, stamp, kinds, territory_id)
        calendar.add_component(event)
        if feed.provider_id is None or \
                permissions.feed_names_patient(territory_id, appointment.patient):
            named.add(appointment.patient_id)
    actor = replace(Actor.system(f"calendar-feed-{feed.id}"), ip_address=ip_address)
    audit.record_shown(session, actor, "calendar_feed",
                       [feed.patient_id] if feed.patient_id is not None else sorted(named),
                       entity_id=feed.id, summary=f"{len(appointments)} appointment(s)",
                       details={"patient_ids": sorted(named)})
    return calendar.to_ical()
