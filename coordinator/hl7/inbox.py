"""One message's unit of work, for the MLLP listener and the HTTP endpoint alike: receive it,
commit, and only then hand back the ACK (an ACK never announces an effect that is not stored).

- the same message arriving twice at once (two connections, a sender that did not wait): the
  second one's insert meets the unique control id at commit; it is rolled back and answered
  with the first one's ACK, as any resent message;
- the database unavailable (busy past its timeout, unreachable, read-only), or a concurrent
  change of the same stay: rolled back, answered AR "send it again" (206), nothing kept;
- any other failure: rolled back, logged, answered AR (207), nothing kept; the listener
  carries on with the next message.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

from flask_babel import lazy_gettext as _l
from sqlalchemy import exc
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from coordinator.audit import services as audit
from coordinator.core import database
from coordinator.core.database import AnySession
from coordinator.hl7 import er7, services
from coordinator.hl7.services import Receipt, Sender, Settings

log = logging.getLogger(__name__)
RETRIES = 2  # a unique control id met at commit: read again (then it is a resent message)


def process(session: AnySession, data: bytes | str, sender: Sender, settings: Settings, *,
            declared_charset: str | None = None) -> Receipt:
    """Receive, commit, answer (see the module)."""
    for attempt in range(RETRIES):
        try:
            with audit.deferred(cast(Session, session)):  # the audit chain locked at the end
                receipt = services.receive(cast(Session, session), data, sender,
                                           settings=settings, declared_charset=declared_charset)
            session.commit()
            return receipt
        except exc.IntegrityError:
            database.rollback(session)  # a concurrent twin was committed first: replay it
            if attempt == RETRIES - 1:
                log.exception("HL7 message not processed")
        except (StaleDataError, exc.DBAPIError, exc.TimeoutError) as failure:
            database.rollback(session)
            if not isinstance(failure, StaleDataError) and not database.is_unavailable(failure):
                log.exception("HL7 message not processed")
                return internal_error(data, settings)
            log.warning("HL7 message not processed now: %s", failure)
            receipt = services.rejected(data, er7.rejected(
                er7.APPLICATION_RECORD_LOCKED,
                _l("The registry cannot take the message now: send it again.")), settings)
            receipt.retry = True
            return receipt
        except Exception:
            database.rollback(session)
            log.exception("HL7 message not processed")
            return internal_error(data, settings)
    return internal_error(data, settings)


def process_many(session: AnySession, items: Sequence[tuple[bytes, Sender]],
                 settings: Settings) -> list[Receipt]:
    """Several messages (the listener's batch) in one unit of work and one commit
    (`services.receive_many`), their receipts in order once it is committed. Whatever stops
    the batch (messages entangled, a failure, the registry busy) rolls it back whole, and each
    message is then processed alone (`process`), with the answer it would have had alone."""
    if len(items) == 1:
        data, sender = items[0]
        return [process(session, data, sender, settings)]
    try:
        with audit.deferred(cast(Session, session)):
            receipts = services.receive_many(cast(Session, session), items, settings=settings)
        session.commit()
        return receipts
    except services.Entangled as entangled:
        database.rollback(session)
        log.debug("HL7 batch of %d taken one at a time: %s", len(items), entangled)
    except Exception:  # each message then meets its own failure alone
        database.rollback(session)
        log.info("HL7 batch of %d taken one at a time after a failure", len(items),
                 exc_info=True)
    return [process(session, data, sender, settings) for data, sender in items]


def internal_error(data: bytes | str, settings: Settings) -> Receipt:
    return services.rejected(data, er7.rejected(
        er7.APPLICATION_INTERNAL_ERROR,
        _l("The registry failed to process the message: send it again later; if it fails "
           "again, tell the registry's administrators.")), settings)
