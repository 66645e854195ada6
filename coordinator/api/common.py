"""What the API's resources share: the blueprint class, list pages, ETags and error answers.

Errors keep the one JSON shape of `core/errorpages.py`: `{"errors": {"field": ["message"]}}`,
with the API's field names; `_request` when no field is at fault.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import NoReturn

import marshmallow as ma
from flask import current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_smorest import Blueprint, abort
from sqlalchemy import Select, select
from sqlalchemy.orm.exc import StaleDataError
from webargs.flaskparser import FlaskParser

from coordinator.core.bounds import MAX_PAGE
from coordinator.core.errors import ConflictError, ValidationError
from coordinator.core.pagination import MAX_PER_PAGE, Page, paginate
from coordinator.extensions import ApiErrorSchema, db

# marshmallow's own messages, translated like the services' messages.
MARSHMALLOW_MESSAGES = {
    "Missing data for required field.": _l("This field is required."),
    "Field may not be null.": _l("This field cannot be null."),
    "Unknown field.": _l("Unknown field."),
    "Invalid input type.": _l("Send a JSON object."),
    "Invalid value.": _l("Invalid value."),
    "Not a valid string.": _l("Not a valid string."),
    "Not a valid integer.": _l("Not a valid integer."),
    "Not a valid number.": _l("Not a valid number."),
    "Not a valid boolean.": _l("Not a valid boolean: use true or false."),
    "Not a valid date.": _l("Not a valid date: use the ISO format YYYY-MM-DD."),
    "Not a valid list.": _l("Not a valid list."),
    "Invalid type.": _l("Invalid type."),
}


def _translated(messages):
    if isinstance(messages, dict):
        return {key: _translated(value) for key, value in messages.items()}
    if isinstance(messages, list):
        return [_translated(message) for message in messages]
    if isinstance(messages, str) and messages in MARSHMALLOW_MESSAGES:
        return str(MARSHMALLOW_MESSAGES[messages])
    return str(messages) if messages is not None else messages


class Parser(FlaskParser):
    """webargs' parser answering in the API's language and error shape."""

    def handle_error(self, error, req, schema, *, error_status_code, error_headers) -> NoReturn:
        extra = {"headers": error_headers} if error_headers else {}
        abort(error_status_code or self.DEFAULT_VALIDATION_STATUS, exc=error,
              messages=_translated(error.messages), schema=schema, **extra)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs) -> NoReturn:
        abort(400, exc=error, messages={"_request": [_("The body is not valid JSON.")]})


class ApiBlueprint(Blueprint):
    """A flask-smorest blueprint whose request parsing uses `Parser`."""

    ARGUMENTS_PARSER = Parser()


# -- Documentation of the answers every resource shares ------------------------------------------

ErrorsSchema = ApiErrorSchema


ETAG_HEADER = {
    "description": 'The version of the record read, e.g. "12-3" (id 12, version 3): send it back '
                   "in If-Match to change the record.",
    "schema": {"type": "string"},
}
IF_MATCH_PARAMETER = {
    "name": "If-Match",
    "in": "header",
    "required": True,
    "description": "The ETag of the version the change is based on. Without it the answer is "
                   "428; when the record changed since, 412 and nothing is written.",
    "schema": {"type": "string"},
}


# -- Lists -------------------------------------------------------------------------------------

class PageArgsSchema(ma.Schema):
    """`?page=&per_page=`: pages count from 1; at most 500 rows per page."""

    page = ma.fields.Integer(
        load_default=1,
        validate=ma.validate.Range(min=1, max=MAX_PAGE,
                                   error=_l("Pages are numbered from 1 to {max}.")),
        metadata={"description": f"Page number, from 1 to {MAX_PAGE}."})
    per_page = ma.fields.Integer(
        load_default=lambda: current_app.config["PER_PAGE"],
        validate=ma.validate.Range(min=1, max=MAX_PER_PAGE,
                                   error=_l("Ask for 1 to {max} rows per page.")),
        metadata={"description": f"Rows per page, 1 to {MAX_PER_PAGE} (default: the "
                                 "PER_PAGE setting, 50)."})


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """The list envelope `{items, total, page, per_page}` around one resource's schema."""
    return ma.Schema.from_dict({
        "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
        "total": ma.fields.Integer(required=True,
                                   metadata={"description": "Rows matching the filters."}),
        "page": ma.fields.Integer(required=True),
        "per_page": ma.fields.Integer(required=True),
    }, name=name)


def list_page(query: Select, args: dict) -> Page:
    """One page of `query`, as asked by the validated `page`/`per_page` arguments."""
    return paginate(db.session, query, args["page"], args["per_page"])


def by_code(model, code: str | None, field: str, message):
    """The reference row (territory, program, stratum) with this code; 422 on `field` if none."""
    if not code:
        return None
    row = db.session.scalar(select(model).where(model.code == code.strip()))
    if row is None:
        unprocessable({field: [message]})
    return row


def id_for_code(model, code: str | None) -> int | None:
    """The id of the reference row with this code, None when unknown (the service says so)."""
    if not code:
        return None
    return db.session.scalar(select(model.id).where(model.code == code.strip()))


# -- Errors ------------------------------------------------------------------------------------

def unprocessable(messages: dict, renames: dict[str, str] | None = None) -> NoReturn:
    """422 with the messages of each field, renamed from the services' to the API's names."""
    renames = renames or {}
    errors: dict[str, list[str]] = {}
    for field, field_messages in messages.items():
        errors.setdefault(renames.get(field, field), []).extend(str(m) for m in field_messages)
    abort(422, messages=errors)


def not_found() -> NoReturn:
    abort(404)


# -- Optimistic locking: ETag and If-Match -----------------------------------------------------

def etag(record) -> str:
    """A strong ETag naming the record and its version: `"<id>-<version>"`."""
    return f'"{record.id}-{record.version}"'


def tagged(record, status: int = 200, headers: dict | None = None):
    """A view's answer for one record, carrying its ETag."""
    return record, status, {"ETag": etag(record), **(headers or {})}


def precondition_failed(record) -> NoReturn:
    abort(412, messages={"If-Match": [
        _("The record was changed since you read it: read it again, then send your change "
          "with its new ETag.")]}, headers={"ETag": etag(record)})


# One entity-tag of If-Match as RFC 9110 writes it: optionally weak, then a quoted string.
_ENTITY_TAG = re.compile(r'\s*(W/)?"([\x21\x23-\x7e\x80-\xff]*)"\s*')


def if_match_tags() -> list[tuple[bool, str]] | None:
    """The entity-tags of If-Match as (weak, tag), read strictly; None when the header is not
    a comma-separated list of entity-tags (`*` is handled by `conditional`)."""
    header = request.headers.get("If-Match", "")
    tags: list[tuple[bool, str]] = []
    for part in header.split(","):
        if not part.strip():
            continue
        match = _ENTITY_TAG.fullmatch(part)
        if match is None:
            return None
        tags.append((match.group(1) is not None, match.group(2)))
    return tags or None


def expected_version(record) -> int:
    """The version of `record` the If-Match header names; 412 when it names none (an empty or
    malformed tag never matches; a weakened one — proxies compressing the answer weaken ETags —
    matches as the tag it names)."""
    versions = []
    for _weak, tag in if_match_tags() or ():
        record_id, _sep, version = tag.rpartition("-")
        if record_id == str(record.id) and version.isdigit() and \
                version.isascii() and len(version) <= 10:
            versions.append(int(version))
    if not versions:
        precondition_failed(record)
    return record.version if record.version in versions else versions[0]


def conditional(blp: Blueprint) -> Callable:
    """For an update: refuse it without If-Match (428, before the body is read) and document the
    header and the 412/428 answers."""

    def decorator(view):
        @wraps(view)
        def checked(*args, **kwargs):
            if not request.headers.get("If-Match", "").strip() or \
                    request.headers["If-Match"].strip() == "*":
                abort(428, messages={"If-Match": [
                    _("Send the ETag of the version you read in the If-Match header.")]})
            return view(*args, **kwargs)

        checked = blp.alt_response(412, schema=ErrorsSchema,
                                   description="The record changed since the ETag was read; "
                                               "nothing was written.")(checked)
        checked = blp.alt_response(428, schema=ErrorsSchema,
                                   description="If-Match is missing.")(checked)
        return blp.doc(parameters=[IF_MATCH_PARAMETER])(checked)

    return decorator


@contextmanager
def service_errors(record=None, renames: dict[str, str] | None = None) -> Iterator[None]:
    """Run a service and commit: a ValidationError answers 422 (the API's field names), a stale
    version 412; nothing is written then."""
    try:
        yield
    except ValidationError as error:
        db.session.rollback()
        unprocessable(error.messages(), renames)
    except (ConflictError, StaleDataError):
        db.session.rollback()
        precondition_failed(record)
