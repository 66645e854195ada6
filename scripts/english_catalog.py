"""Fill the English catalog: source strings are English, so each translation is its msgid.

Run by `make extract-messages`; entries a translator already wrote are kept.
"""

from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "coordinator/translations/en/LC_MESSAGES/messages.po"

with PO.open("rb") as handle:
    catalog = read_po(handle, locale="en")
for message in catalog:
    if not message.id:
        continue
    if isinstance(message.id, tuple):
        if not all(message.string):
            message.string = message.id
    elif not message.string:
        message.string = message.id
    message.flags.discard("fuzzy")
catalog.fuzzy = False
with PO.open("wb") as handle:
    write_po(handle, catalog, width=100, sort_output=True, omit_header=False)
