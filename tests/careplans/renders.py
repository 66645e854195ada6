"""What the renderer's child process runs in the print fault tests: functions of a module,
sent to the child by name (a test puts one in place of `pdf.render_pdf`)."""

from __future__ import annotations

import os
import time
from unittest import mock


def weasyprint_fails(html: str) -> bytes:
    """The real `render_pdf`, WeasyPrint raising inside it."""
    import weasyprint

    from coordinator.printing import pdf

    error = RuntimeError("WeasyPrint could not lay out the document")
    with mock.patch.object(weasyprint.HTML, "write_pdf", side_effect=error):
        return pdf.render_pdf(html)


def never_ends(html: str) -> bytes:
    """A rendering stuck (or a document far too large)."""
    time.sleep(3600)
    raise AssertionError("not reached")


def dies(html: str) -> bytes:
    """The renderer killed mid-render (out of memory, say)."""
    os._exit(9)
