"""The one place that calls WeasyPrint, and the PDF chores around it (stamping, merging,
counting pages); what a print that failed tells its reader (`PrintFailed`)."""

from __future__ import annotations

import io
from pathlib import Path

from flask_babel import gettext as _
from flask_babel import ngettext
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject

STATIC = Path(__file__).resolve().parent.parent / "static"
BASE_URL = "http://coordinator.invalid/"  # never fetched over the network: see _fetcher


def _fetcher():
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticOnly(URLFetcher):
        """Serves the application's static files; fetches nothing else (no network access
        from a printed document)."""

        def fetch(self, url, headers=None):
            prefix = BASE_URL + "static/"
            if not url.startswith(prefix):
                raise ValueError(f"not fetched: {url}")
            path = (STATIC / url[len(prefix):]).resolve()
            if STATIC not in path.parents or not path.is_file():
                raise ValueError(f"not found: {url}")
            return URLFetcherResponse(url, body=path.read_bytes(),
                                      headers={"Content-Type": _content_type(path)})

    return StaticOnly()


def _content_type(path: Path) -> str:
    return {".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}.get(
        path.suffix, "application/octet-stream")


def render_pdf(html: str) -> bytes:
    """The PDF of an HTML document (A4 and margins come from the document's print styles)."""
    from weasyprint import HTML

    return HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher()).write_pdf()


def render_pdf_within(html: str, seconds: float) -> bytes:
    """`render_pdf` in a child process, killed after `seconds` (see renderer.py)."""
    from coordinator.printing import renderer

    return renderer.call(render_pdf, html, seconds=seconds)


# -- A print that failed: the reader is told, nothing was written --------------------------------

class PrintFailed(Exception):
    """A document could not be printed now; nothing of the print was kept (503)."""

    retry_after: int | None = None

    def user_message(self) -> str:
        return _("The document could not be printed: the PDF renderer failed. Nothing was "
                 "changed. Try again; if it fails again, tell your administrator.")


class RenderFailed(PrintFailed):
    """WeasyPrint raised, or the process rendering the document died."""


class RenderTimedOut(PrintFailed):
    """The rendering took longer than the time limit and was stopped."""

    def __init__(self, seconds: float):
        super().__init__(f"the rendering took longer than {seconds:g} s")
        self.seconds = seconds

    def user_message(self) -> str:
        return ngettext("The document took longer than %(num)d second to print and was "
                        "stopped, so as not to hold the server. Nothing was changed. Try again "
                        "later, or print the print preview from your browser.",
                        "The document took longer than %(num)d seconds to print and was "
                        "stopped, so as not to hold the server. Nothing was changed. Try again "
                        "later, or print the print preview from your browser.",
                        max(1, round(self.seconds)))


class NotStored(PrintFailed):
    """The rendered document could not be written (the disk is full, say)."""

    retry_after = 60

    def user_message(self) -> str:
        return _("The document could not be printed: the server could not store it (its disk "
                 "may be full). Nothing was changed. Try again in a few minutes; if it fails "
                 "again, tell your administrator.")


def page_count(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def _escape(text: str) -> bytes:
    text = text.replace("\u202f", " ").replace("\u00a0", " ")  # Babel's no-break spaces
    return (text.encode("cp1252", "replace").replace(b"\\", b"\\\\")
            .replace(b"(", b"\\(").replace(b")", b"\\)"))


def stamp(pdf: bytes, text: str, x: float = 42.5, y: float = 22.0) -> bytes:
    """Write `text` at the foot of every page, as an incremental update of the PDF: the
    rendered pages stay as they are (a cached document is stamped per print in a few ms)."""
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    font = writer._add_object(DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
        NameObject("/Encoding"): NameObject("/WinAnsiEncoding")}))
    opening = DecodedStreamObject()
    opening.set_data(b"q\n")
    closing = DecodedStreamObject()
    closing.set_data(b"\nQ q 0.25 g BT /CoordStamp 7.5 Tf " + f"{x} {y}".encode()
                     + b" Td (" + _escape(text) + b") Tj ET Q\n")
    opening_ref, closing_ref = writer._add_object(opening), writer._add_object(closing)
    for page in writer.pages:
        contents = page.get("/Contents")
        resolved = contents.get_object() if contents is not None else None
        items = list(resolved) if isinstance(resolved, ArrayObject) else \
            ([contents] if contents is not None else [])
        page[NameObject("/Contents")] = ArrayObject([opening_ref, *items, closing_ref])
        resources = page["/Resources"].get_object()
        fonts = resources.get("/Font")
        if fonts is None:
            fonts = DictionaryObject()
            resources[NameObject("/Font")] = fonts
        fonts.get_object()[NameObject("/CoordStamp")] = font
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def merge(pdfs: list[bytes]) -> bytes:
    """One PDF holding the pages of each document in turn."""
    writer = PdfWriter()
    for pdf in pdfs:
        writer.append(PdfReader(io.BytesIO(pdf)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
