"""Text extraction per media type: outcomes (EXTRACTED, NEEDS_OCR, FAILED), never exceptions."""

from __future__ import annotations

import codecs
import hashlib
import io
import os
import random
import zipfile
from pathlib import Path

import docx
import pytest
from pypdf import PdfReader, PdfWriter

from lexi_pipelines.documents.extraction import (
    EXTRACTED,
    FAILED,
    NEEDS_OCR,
    ExtractionOutcome,
    extract_bytes,
    extract_file,
)
from lexi_pipelines.documents.inventory import MEDIA_TYPES, media_type_of

LEGAL = Path(__file__).resolve().parents[3] / "shared" / "data" / "legal"
TXT = "text/plain"
MD = "text/markdown"
HTML = "text/html"
PDF = "application/pdf"
DOCX = MEDIA_TYPES[".docx"]
MB = 1 << 20


def legal_file(name: str) -> Path:
    path = LEGAL / name
    if not path.is_file():
        pytest.skip(f"shared legal test file {path} is not present (checkout without ../shared)")
    return path


def text_pdf(pages: list[str], stream_keys: bytes = b"") -> bytes:
    """A minimal valid PDF whose pages hold the given lines as real text (Helvetica)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (" ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages))).encode(), len(pages)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, page in enumerate(pages):
        ops = ["BT", "/F1 12 Tf", "14 TL", "72 720 Td"]
        for line in page.split("\n"):
            escaped = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({escaped}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        objects.append(
            b"<< %s/Length %d >>\nstream\n%s\nendstream" % (stream_keys, len(stream), stream)
        )
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def encrypted(pdf: bytes, *, user_password: str, owner_password: str | None = None) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(pdf)))
    writer.encrypt(user_password=user_password, owner_password=owner_password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def blank_pdf(pages: int = 1) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=612, height=792)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(document: object) -> bytes:
    out = io.BytesIO()
    document.save(out)  # type: ignore[attr-defined]
    return out.getvalue()


def assert_extracted(outcome: ExtractionOutcome, text: str) -> None:
    assert outcome.status == EXTRACTED, outcome.error
    assert outcome.error is None
    assert outcome.text == text
    assert outcome.text_sha256 == hashlib.sha256(text.encode()).hexdigest()


def assert_failed(outcome: ExtractionOutcome, *fragments: str) -> None:
    assert outcome.status == FAILED
    assert outcome.text == ""
    assert outcome.text_sha256 is None
    assert outcome.error is not None
    for fragment in fragments:
        assert fragment.lower() in outcome.error.lower(), outcome.error


# -- plain text and encodings ------------------------------------------------------------------


def test_utf8_text() -> None:
    assert_extracted(extract_bytes("Grüße, 東京 ✓\n".encode(), TXT), "Grüße, 東京 ✓")


def test_utf8_bom_is_not_part_of_the_text() -> None:
    outcome = extract_bytes(codecs.BOM_UTF8 + "Résumé of the case".encode(), TXT)
    assert_extracted(outcome, "Résumé of the case")
    assert "\ufeff" not in outcome.text


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_with_bom(encoding: str) -> None:
    text = "Contract § 4 — Straße, 東京"
    data = text.encode(encoding)
    if not encoding.endswith(("16", "32")):  # the -le/-be codecs write no BOM: add it
        data = (codecs.BOM_UTF16_LE if encoding.endswith("le") else codecs.BOM_UTF16_BE) + data
    outcome = extract_bytes(data, TXT)
    assert_extracted(outcome, text)
    assert "\ufeff" not in outcome.text


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("résumé café", "latin-1"),
        ("résumé café", "cp1252"),
        ("A informação sobre as ações foi publicada. Não há soluções.", "latin-1"),
        ("Größe und Maße: Die Straße führt über die Brücke.", "latin-1"),
        ("¿Dónde está la estación? ¡Año nuevo!", "cp1252"),
        ("“Quoted” text – with a dash, l’homme, 5 €, § 12 …", "cp1252"),  # noqa: RUF001
        ("Le café est très bon, déjà vu à Paris. Ça coûte 5€.", "cp1252"),
    ],
)
def test_western_single_byte_encodings(text: str, encoding: str) -> None:
    assert_extracted(extract_bytes(text.encode(encoding), TXT), text)


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Привет, как дела? Это тестовый документ о договоре аренды.", "cp1251"),  # noqa: RUF001
        ("Zażółć gęślą jaźń. Przykładowy tekst dokumentu prawnego.", "cp1250"),
        ("Καλημέρα, αυτό είναι ένα δοκιμαστικό έγγραφο.", "cp1253"),
        ("これは日本語のテスト文書です。", "shift_jis"),
    ],
)
def test_other_legacy_encodings_are_not_taken_for_western(text: str, encoding: str) -> None:
    assert_extracted(extract_bytes(text.encode(encoding), TXT), text)


def test_binary_content_as_text_fails() -> None:
    for seed in range(5):
        assert_failed(extract_bytes(random.Random(seed).randbytes(4096), TXT), "binary")


def test_markdown_is_kept_as_text() -> None:
    source = (
        "# Title\r\n\r\nSome *emphasis* and a [link](https://example.com).\r\n\r\n\r\n- item\r\n"
    )
    assert_extracted(
        extract_bytes(source.encode(), MD),
        "# Title\n\nSome *emphasis* and a [link](https://example.com).\n\n- item",
    )


def test_plain_text_is_cleaned() -> None:
    source = "First page text   \r\n\f- 2 -\r\nSecond\x00 page\r\n\r\n\r\n\r\nEnd"
    assert_extracted(extract_bytes(source.encode(), TXT), "First page text\n\nSecond page\n\nEnd")


# -- empty and whitespace-only -------------------------------------------------------------------


@pytest.mark.parametrize("media_type", [TXT, MD, HTML, PDF, DOCX])
def test_zero_bytes_fail_as_empty_file(media_type: str) -> None:
    assert_failed(extract_bytes(b"", media_type), "empty file")


@pytest.mark.parametrize("data", [b" ", b"\n\n\t \r\n", b"\x00\x00", b"12\n\n- 3 -\n"])
def test_whitespace_only_text_fails(data: bytes) -> None:
    assert_failed(extract_bytes(data, TXT), "no text")


def test_markup_only_html_fails() -> None:
    page = b"<html><head><title></title><script>var x = 1;</script></head><body> </body></html>"
    assert_failed(extract_bytes(page, HTML), "no text")


# -- HTML ----------------------------------------------------------------------------------------

PAGE = b"""<!DOCTYPE html>
<html><head>
<title>Lease &amp; Terms</title>
<style>body { color: red; } .hidden { display: none }</style>
<script>var html = "<p>not text</p>"; if (a < b) { alert("script"); }</script>
</head>
<body>
<noscript>Please enable JavaScript</noscript>
<h1>Agreement</h1>
<p>Caf&eacute; &lt;tenant&gt; &#8212; rent &euro;500 &#x2713;</p>
<table>
<tr><th>Party</th><th>Role</th></tr>
<tr><td>Alice</td><td>Landlord</td></tr>
</table>
<ul><li>first item</li><li>second item</li></ul>
<p>line one<br>line two<br/>line three</p>
<template><p>template text</p></template>
<script type="application/ld+json">{"@type": "Thing"}</script>
</body></html>
"""


def test_html_drops_script_style_noscript_and_template() -> None:
    outcome = extract_bytes(PAGE, HTML)
    assert outcome.status == EXTRACTED
    for hidden in ("color: red", "alert", "not text", "enable JavaScript", "template text",
                   "@type"):  # fmt: skip
        assert hidden not in outcome.text


def test_html_decodes_entities() -> None:
    outcome = extract_bytes(PAGE, HTML)
    assert "Café <tenant> — rent €500 ✓" in outcome.text
    assert "&amp;" not in outcome.text and "&lt;" not in outcome.text


def test_html_title_kept_once_before_the_body() -> None:
    outcome = extract_bytes(PAGE, HTML)
    assert outcome.text.startswith("Lease & Terms\n\nAgreement")
    assert outcome.text.count("Lease & Terms") == 1


def test_html_title_not_repeated_when_the_body_starts_with_it() -> None:
    page = b"<html><head><title>Agreement</title></head><body><h1>Agreement</h1><p>Body</p>"
    outcome = extract_bytes(page, HTML)
    assert outcome.text == "Agreement\n\nBody"


def test_html_structure_becomes_lines_and_cells_are_separated() -> None:
    text = extract_bytes(PAGE, HTML).text
    lines = [line.strip() for line in text.split("\n")]
    assert "Party\tRole" in lines
    assert "Alice\tLandlord" in lines
    assert "first item" in lines and "second item" in lines
    assert [line for line in lines if line.startswith("line ")] == [
        "line one",
        "line two",
        "line three",
    ]
    # Body order is kept.
    assert text.index("Agreement") < text.index("Party") < text.index("first item")


def test_html_source_line_breaks_are_spaces_but_pre_keeps_them() -> None:
    page = b"<p>a paragraph\n   wrapped in\n   the source</p><pre>keep\nthese   lines</pre>"
    text = extract_bytes(page, HTML).text
    assert text == "a paragraph wrapped in the source\n\nkeep\nthese   lines"


def test_html_pretty_printed_table_keeps_rows_on_one_line() -> None:
    page = b"""<table>
      <tr>
        <td>Alice</td>
        <td>Landlord</td>
      </tr>
      <tr>
        <td>Bob</td>
        <td>Tenant</td>
      </tr>
    </table>"""
    rows = [line.split("\t") for line in extract_bytes(page, HTML).text.split("\n") if line]
    assert [[cell.strip() for cell in row if cell.strip()] for row in rows] == [
        ["Alice", "Landlord"],
        ["Bob", "Tenant"],
    ]


def test_html_meta_charset_is_respected_for_latin1() -> None:
    page = (
        '<html><head><meta charset="iso-8859-1"><title>Résumé</title></head>'
        "<body><h1>Résumé</h1><p>Café crème à emporter</p></body></html>"
    ).encode("latin-1")
    assert_extracted(extract_bytes(page, HTML), "Résumé\n\nCafé crème à emporter")


def test_html_http_equiv_charset_is_respected() -> None:
    page = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1252">'
        "</head><body><p>“Quoted” naïve café</p></body></html>"
    ).encode("cp1252")
    assert_extracted(extract_bytes(page, HTML), "“Quoted” naïve café")


def test_html_wrong_charset_declaration_falls_back_to_detection() -> None:
    page = '<html><head><meta charset="utf-8"></head><body><p>déjà vu</p></body></html>'
    assert_extracted(extract_bytes(page.encode("latin-1"), HTML), "déjà vu")


def test_html_unknown_charset_falls_back_to_detection() -> None:
    page = '<meta charset="x-no-such-charset"><p>Grüße</p>'
    assert_extracted(extract_bytes(page.encode(), HTML), "Grüße")


def test_html_byte_order_mark_wins_over_meta_charset() -> None:
    page = '<meta charset="iso-8859-1"><p>Grüße café</p>'
    assert_extracted(extract_bytes(codecs.BOM_UTF8 + page.encode(), HTML), "Grüße café")
    assert_extracted(extract_bytes(page.encode("utf-16"), HTML), "Grüße café")


@pytest.mark.parametrize("declared", ["utf-16", "UTF-16LE", "utf16", "utf_16_be", "utf-32"])
def test_html_declaring_utf16_in_ascii_bytes_is_utf8(declared: str) -> None:
    page = f'<html><head><meta charset="{declared}"></head><body><p>Grüße café</p></body></html>'
    assert_extracted(extract_bytes(page.encode(), HTML), "Grüße café")


def test_html_utf8_without_declaration() -> None:
    assert_extracted(extract_bytes("<p>日本語 ✓</p>".encode(), HTML), "日本語 ✓")


# -- DOCX ----------------------------------------------------------------------------------------


def test_docx_paragraphs_and_tables_in_document_order() -> None:
    document = docx.Document()
    document.add_heading("Lease agreement", level=1)
    document.add_paragraph("The parties agree as follows.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Tenant"
    table.cell(0, 1).text = "Alice"
    table.cell(1, 0).text = "Rent"
    table.cell(1, 1).text = "500"
    document.add_paragraph("Signed in Paris.")
    outcome = extract_bytes(docx_bytes(document), DOCX)
    assert_extracted(
        outcome,
        "Lease agreement\nThe parties agree as follows.\nTenant\tAlice\nRent\t500\n\n"
        "Signed in Paris.",
    )
    assert outcome.page_count is None


def test_docx_merged_cell_once_equal_neighbours_kept() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "Merged heading"
    table.cell(0, 2).text = "Total"
    for col in range(3):
        table.cell(1, col).text = "1"  # equal values in neighbouring cells are all data
    text = extract_bytes(docx_bytes(document), DOCX).text
    assert text.split("\n") == ["Merged heading\tTotal", "1\t1\t1"]


def test_docx_cell_with_several_paragraphs() -> None:
    document = docx.Document()
    table = document.add_table(rows=1, cols=2)
    cell = table.cell(0, 0)
    cell.text = "first"
    cell.add_paragraph("second")
    table.cell(0, 1).text = "other"
    assert extract_bytes(docx_bytes(document), DOCX).text == "first second\tother"


def test_docx_without_text_fails() -> None:
    assert_failed(extract_bytes(docx_bytes(docx.Document()), DOCX), "no text")


def test_docx_random_bytes_fail_as_corrupt() -> None:
    assert_failed(extract_bytes(os.urandom(2048), DOCX), "corrupt DOCX")


def test_docx_zip_that_is_not_a_word_file_fails_as_corrupt() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "hello")
    assert_failed(extract_bytes(out.getvalue(), DOCX), "corrupt DOCX")


def test_docx_with_truncated_xml_fails_as_corrupt() -> None:
    document = docx.Document()
    document.add_paragraph("Some text")
    original = zipfile.ZipFile(io.BytesIO(docx_bytes(document)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for item in original.infolist():
            content = original.read(item.filename)
            if item.filename == "word/document.xml":
                content = content[: len(content) // 2]
            archive.writestr(item, content)
    assert_failed(extract_bytes(out.getvalue(), DOCX), "corrupt DOCX")


def docx_member(data: bytes, name: str) -> tuple[int, int]:
    """Where the compressed bytes of one member of a DOCX archive start, and how many."""
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    return start, info.compress_size


def test_docx_with_a_damaged_deflate_stream_fails_as_corrupt() -> None:
    document = docx.Document()
    document.add_paragraph("Some text " * 50)
    data = docx_bytes(document)
    start, size = docx_member(data, "word/document.xml")
    errors = set()
    for seed in range(40):
        rng = random.Random(seed)
        damaged = bytearray(data)
        for _ in range(4):
            damaged[start + rng.randrange(size)] ^= 0xFF
        outcome = extract_bytes(bytes(damaged), DOCX)  # zlib.error or a bad CRC: never raises
        assert_failed(outcome, "corrupt DOCX")
        errors.add(outcome.error)
    assert any("decompress" in (error or "") for error in errors)


def test_docx_with_an_encrypted_member_fails_as_corrupt() -> None:
    document = docx.Document()
    document.add_paragraph("Some text")
    data = bytearray(docx_bytes(document))
    name = b"word/document.xml"
    # Set the "encrypted" flag of the member in the central directory.
    entry = data.find(b"PK\x01\x02")
    while data[entry + 46 : entry + 46 + len(name)] != name:
        entry = data.find(b"PK\x01\x02", entry + 4)
        assert entry >= 0
    data[entry + 8] |= 0x01
    assert_failed(extract_bytes(bytes(data), DOCX), "corrupt DOCX", "encrypted")


def test_docx_truncated_archive_fails_as_corrupt() -> None:
    document = docx.Document()
    document.add_paragraph("Some text")
    data = docx_bytes(document)
    assert_failed(extract_bytes(data[: len(data) // 2], DOCX), "corrupt DOCX")


# -- PDF -----------------------------------------------------------------------------------------


def test_pdf_text_per_page_cleaned() -> None:
    pdf = text_pdf(["Opinion of the court\nfirst page text\n1", "second page text\nPage 2 of 2"])
    outcome = extract_bytes(pdf, PDF)
    assert_extracted(outcome, "Opinion of the court\nfirst page text\n\nsecond page text")
    assert outcome.page_count == 2


@pytest.mark.parametrize(
    "data", [b"%PDF-1.4 garbage", b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF", b"x"]
)
def test_corrupt_pdf_fails(data: bytes) -> None:
    assert_failed(extract_bytes(data, PDF), "corrupt PDF")


def test_truncated_pdf_fails() -> None:
    pdf = text_pdf(["some text"])
    outcome = extract_bytes(pdf[: len(pdf) // 2], PDF)
    assert_failed(outcome, "corrupt PDF")


def test_pdf_with_an_unknown_stream_filter_fails() -> None:
    data = text_pdf(["some text"], stream_keys=b"/Filter /NoSuchFilter ")
    assert_failed(extract_bytes(data, PDF), "corrupt PDF", "NoSuchFilter")


def test_password_protected_pdf_fails_mentioning_the_password() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.encrypt(user_password="secret")
    out = io.BytesIO()
    writer.write(out)
    assert_failed(extract_bytes(out.getvalue(), PDF), "encrypted", "password")


def test_password_protected_text_pdf_fails() -> None:
    data = encrypted(text_pdf(["confidential text"]), user_password="secret", owner_password="o")
    outcome = extract_bytes(data, PDF)
    assert_failed(outcome, "password")
    assert "confidential" not in (outcome.error or "")


def test_pdf_with_empty_user_password_is_readable() -> None:
    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.encrypt(user_password="", owner_password="owner-secret")
    out = io.BytesIO()
    writer.write(out)
    assert PdfReader(io.BytesIO(out.getvalue())).is_encrypted
    outcome = extract_bytes(out.getvalue(), PDF)
    assert outcome.status == NEEDS_OCR
    assert outcome.page_count == 1


def test_text_pdf_with_empty_user_password_is_extracted() -> None:
    data = encrypted(text_pdf(["permissions only"]), user_password="", owner_password="owner")
    assert PdfReader(io.BytesIO(data)).is_encrypted
    outcome = extract_bytes(data, PDF)
    assert_extracted(outcome, "permissions only")
    assert outcome.page_count == 1


def test_pdf_without_text_layer_needs_ocr() -> None:
    outcome = extract_bytes(blank_pdf(pages=3), PDF)
    assert outcome.status == NEEDS_OCR
    assert outcome.page_count == 3
    assert outcome.text == "" and outcome.error is None and outcome.text_sha256 is None


def test_pdf_with_only_page_numbers_needs_ocr() -> None:
    outcome = extract_bytes(text_pdf(["1", "2"]), PDF)
    assert outcome.status == NEEDS_OCR
    assert outcome.page_count == 2


# -- extract_file --------------------------------------------------------------------------------


def test_extract_file_reads_by_media_type(tmp_path: Path) -> None:
    path = tmp_path / "note.txt"
    path.write_bytes("café".encode("latin-1"))
    assert_extracted(extract_file(path, TXT, max_bytes=MB), "café")


def test_extract_file_refuses_too_large_without_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 2048)

    def no_reading(self: Path) -> bytes:
        raise AssertionError(f"{self} was read")

    monkeypatch.setattr(Path, "read_bytes", no_reading)
    outcome = extract_file(path, TXT, max_bytes=2047)
    assert_failed(outcome, "too large")


def test_extract_file_at_exactly_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "exact.txt"
    path.write_bytes(b"x" * 100)
    assert_extracted(extract_file(path, TXT, max_bytes=100), "x" * 100)


def test_extract_file_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.touch()
    assert_failed(extract_file(path, PDF, max_bytes=MB), "empty file")


def test_extract_file_missing_file(tmp_path: Path) -> None:
    assert_failed(extract_file(tmp_path / "gone.txt", TXT, max_bytes=MB), "vanished")


def test_extract_file_unreadable_path(tmp_path: Path) -> None:
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert_failed(extract_file(folder, TXT, max_bytes=MB), "cannot read")


# -- the shared legal documents ------------------------------------------------------------------


def test_legal_vector_pdf() -> None:
    path = legal_file("vector-pdf.pdf")
    outcome = extract_file(path, PDF, max_bytes=100 * MB)
    assert outcome.status == EXTRACTED, outcome.error
    assert outcome.page_count == 30
    assert "Syllabus" in outcome.text
    assert len(outcome.text) > 10_000
    assert "\x00" not in outcome.text and "\r" not in outcome.text and "\n\n\n" not in outcome.text


def test_legal_image_pdf_needs_ocr() -> None:
    path = legal_file("image-pdf.pdf")
    outcome = extract_file(path, PDF, max_bytes=100 * MB)
    assert outcome.status == NEEDS_OCR, outcome.error
    assert outcome.page_count is not None and outcome.page_count > 0


def test_legal_empty_pdf() -> None:
    path = legal_file("empty.pdf")
    assert_failed(extract_file(path, PDF, max_bytes=100 * MB), "empty file")


def test_legal_word_docx() -> None:
    path = legal_file("word-docx.docx")
    media_type = media_type_of(path.name)
    assert media_type == DOCX
    outcome = extract_file(path, media_type, max_bytes=100 * MB)
    assert outcome.status == EXTRACTED, outcome.error
    assert len(outcome.text) > 1000
    assert outcome.text_sha256 == hashlib.sha256(outcome.text.encode()).hexdigest()


def test_legal_file_too_large() -> None:
    path = legal_file("vector-pdf.pdf")
    assert_failed(extract_file(path, PDF, max_bytes=1024), "too large")
