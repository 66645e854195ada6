"""POST /api/v1/hl7v2: an HL7 v2 ADT message over HTTP (ER7 body), answered with its ACK.

Sent by an integration account (`flask --app wsgi users create EMAIL --role integration
[--territory CODE]` prints its token), which may use this endpoint and nothing else. The message
is received as over MLLP (coordinator/hl7/services.py, docs/hl7.md), committed, and its ACK is
the answer's body (200, whatever its MSA-1: AA, AE or AR); 503 when the registry cannot take it
now (the ACK then says AR: send it again).
"""

from __future__ import annotations

from flask import Response, current_app, request
from flask.views import MethodView
from flask_babel import gettext as _
from flask_login import current_user
from flask_smorest import abort

from coordinator.api.common import ApiBlueprint, ErrorsSchema
from coordinator.extensions import db
from coordinator.hl7 import er7, inbox
from coordinator.hl7.services import Sender, Settings
from coordinator.permissions import HL7_SENDER, require

MEDIA_TYPE = "x-application/hl7-v2+er7"
# text/plain too: what many HTTP senders (and generic clients, API fuzzers) send HL7 as.
ACCEPTED_TYPES = (MEDIA_TYPE, "application/hl7-v2+er7", "text/plain")
ER7_EXAMPLE = "".join((  # the example of docs/hl7.md
    "MSH|^~\\&|SIH|CH_DOUAI^590000021^M|COORDINATOR|ARS|20260305221500+0100||ADT^A01^ADT_A01|MSG000123|P|2.5^FRA^2.10||||||8859/1\r",
    "EVN||20260305221500||||202603052210\r",
    "PID|||123456^^^CH_DOUAI&590000021&M^PI~269059912345678^^^ASIP-SANTE-INS-NIR&1.2.250.1.213.1.4.8&ISO^INS||MARTIN^MARIE^^^^^L||19690520|F\r",
    "PV1||I|CARDIO^12^1^CH_DOUAI|U|||||||||||||||V2026-0042|||||||||||||||||||||||||202603052210\r",
    "ZBE|MVT1^SIH|20260305221000||INSERT|N\r",
    "DG1|1||I50.9^Insuffisance cardiaque^I10||20260305|A|||||||||1\r",
))
ACK_EXAMPLE = "".join((
    "MSH|^~\\&|COORDINATOR|COORDINATOR|SIH|CH_DOUAI^590000021^M|20260305221501+0100||ACK^A01^ACK|ACK20260305221501A1B2C3D4|P|2.5||||||8859/1\r",
    "MSA|AA|MSG000123\r",
))
ER7_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 1024 * 1024}
# The example under text/plain only: API tools (schemathesis) serialize no other text type.
ER7_CONTENT = {MEDIA_TYPE: {"schema": ER7_SCHEMA},
               "text/plain": {"schema": ER7_SCHEMA, "example": ER7_EXAMPLE}}
ACK_CONTENT = {MEDIA_TYPE: {"schema": {"type": "string"}, "example": ACK_EXAMPLE}}

blp = ApiBlueprint(
    "api_hl7v2", __name__, url_prefix="/api/v1/hl7v2",
    description="HL7 v2 ADT messages (IHE PAM, French extension, v2.5: A01, A02, A03, A08, "
                "A11, A13) over HTTP, for integration accounts: the body is one message in "
                "ER7, the answer its ACK. Mapping and ACK rules: docs/hl7.md.")


@blp.route("")
class Hl7v2(MethodView):

    @require(HL7_SENDER)
    @blp.doc(requestBody={"required": True, "content": ER7_CONTENT,
                          "description": "One HL7 v2 message, segments separated by CR (LF "
                                         "and CRLF are read too); the character set is MSH-18's "
                                         "(8859/1, UNICODE UTF-8), else the Content-Type's "
                                         "charset, else UTF-8."},
             responses={200: {"description": "The ACK (MSA-1 AA accepted, AE error with the "
                                             "reason in ERR, AR rejected).",
                              "content": ACK_CONTENT}})
    @blp.alt_response(401, schema=ErrorsSchema, description="No valid bearer token.")
    @blp.alt_response(403, schema=ErrorsSchema,
                      description="Not an integration account: only they send messages.")
    @blp.alt_response(413, schema=ErrorsSchema, description="The message is too large.")
    @blp.alt_response(415, schema=ErrorsSchema,
                      description=f"The body is not {MEDIA_TYPE}.")
    @blp.alt_response(503, description="The registry cannot take the message now: the body is "
                                       "its ACK (AR); send it again.",
                      content_type=MEDIA_TYPE, success=False)
    def post(self):
        """Send an HL7 v2 ADT message (ER7); the answer is its ACK"""
        if request.mimetype not in ACCEPTED_TYPES:
            abort(415, messages={"_request": [_("Send the message with the Content-Type "
                                                "%(type)s.", type=MEDIA_TYPE)]})
        limit = int(current_app.config.get("HL7_MAX_MESSAGE_BYTES", 1024 * 1024))
        if (request.content_length or 0) > limit:
            abort(413, messages={"_request": [_("A message has at most %(n)d bytes.",
                                                n=limit)]})
        body = request.get_data(cache=False)
        if len(body) > limit:
            abort(413, messages={"_request": [_("A message has at most %(n)d bytes.",
                                                n=limit)]})
        sender = Sender.account(current_user._get_current_object(), request.remote_addr)
        receipt = inbox.process(db.session, body, sender, Settings.of(current_app.config),
                                declared_charset=request.mimetype_params.get("charset"))
        codec = er7.python_codec(receipt.charset) or "utf-8"
        response = Response(receipt.ack_bytes(), status=503 if receipt.retry else 200,
                            content_type=f"{MEDIA_TYPE}; charset={codec}")
        if receipt.retry:
            response.headers["Retry-After"] = "30"
        return response
