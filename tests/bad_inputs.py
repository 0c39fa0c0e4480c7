"""Builders of the bad-input corpus entries that issue 14's earlier tests did not cover: UTF-32 text, mixed encodings,
e-mails with a wrong declared charset or deeply nested multiparts, XML entity expansion and external entities in a
DOCX or a phone report. Tiny files made in memory; shared by tests/test_bad_input_gaps.py and
benchmarks/bad_input_figure.py."""

from __future__ import annotations

import codecs
import io
import zipfile

POLISH = "Zeznanie Łukasza Wiśniewskiego: widziałem żółty samochód przy dworcu o 21:40.\n"
ARABIC = "قال الشاهد إنه رأى السيارة بالقرب من المحطة يوم الجمعة.\n"
W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
PA_NS = "http://pa.cellebrite.com/report/2.0"
# ten levels of ten references each: 10^9 copies of "laugh" if a parser expanded them all
LAUGHS = '<!ENTITY a0 "laugh">' + "".join(f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, 10))
EXTERNAL = '<!ENTITY x SYSTEM "file:///etc/hostname">'


def utf32(text: str, *, big_endian: bool = False, bom: bool = True) -> bytes:
    encoding = "utf-32-be" if big_endian else "utf-32-le"
    mark = (codecs.BOM_UTF32_BE if big_endian else codecs.BOM_UTF32_LE) if bom else b""
    return mark + text.encode(encoding)


def mixed_encodings() -> bytes:
    """One line in UTF-8, the next in cp1250: no single decoding reads both."""
    return POLISH.encode("utf-8") + POLISH.encode("cp1250")


def eml(body: bytes, charset: str | None, subtype: str = "plain") -> bytes:
    declared = f"; charset={charset}" if charset else ""
    head = ("From: officer@example.org\nTo: team@example.org\nSubject: statement\nMIME-Version: 1.0\n"
            f"Content-Type: text/{subtype}{declared}\nContent-Transfer-Encoding: 8bit\n\n")
    return head.encode("ascii") + body


def nested_multipart_eml(depth: int, text: str = "The holdall was left at platform four.") -> bytes:
    part = f"Content-Type: text/plain\n\n{text}\n"
    for level in range(depth):
        part = f'Content-Type: multipart/mixed; boundary="b{level}"\n\n--b{level}\n{part}\n--b{level}--\n'
    return ("From: a@example.org\nTo: b@example.org\nSubject: nested\nMIME-Version: 1.0\n" + part).encode("ascii")


def _doctype(root: str, dtd: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE {root} [{dtd}]>\n'


def docx(paragraphs: list[str], *, document_dtd: str = "", core_dtd: str = "") -> bytes:
    """A minimal DOCX (python-docx opens it); a DTD, when given, goes into word/document.xml or docProps/core.xml,
    and each paragraph may reference its entities."""
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    document = (_doctype("w:document", document_dtd) if document_dtd else '<?xml version="1.0"?>\n') + \
        f'<w:document xmlns:w="{W_NS}"><w:body>{body}</w:body></w:document>'
    core = (_doctype("cp:coreProperties", core_dtd) if core_dtd else '<?xml version="1.0"?>\n') + \
        ('<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
         f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{"&a9;" if core_dtd else "note"}</dc:title>'
         "</cp:coreProperties>")
    rel = "http://schemas.openxmlformats.org"
    parts = {
        "[Content_Types].xml": (
            f'<?xml version="1.0"?><Types xmlns="{rel}/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'wordprocessingml.document.main+xml"/>'
            '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.'
            'core-properties+xml"/></Types>'),
        "_rels/.rels": (
            f'<?xml version="1.0"?><Relationships xmlns="{rel}/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{rel}/officeDocument/2006/relationships/officeDocument" '
            'Target="word/document.xml"/>'
            f'<Relationship Id="rId2" Type="{rel}/package/2006/relationships/metadata/core-properties" '
            'Target="docProps/core.xml"/></Relationships>'),
        "word/document.xml": document,
        "docProps/core.xml": core,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in parts.items():
            archive.writestr(name, xml)
    return out.getvalue()


def pa_report(dtd: str, inner: str) -> bytes:
    """A Cellebrite-style report.xml whose DTD declares entities used in its body."""
    return (_doctype("project", dtd) + f'<project xmlns="{PA_NS}"><decodedData>{inner}</decodedData></project>'
            ).encode("utf-8")


def ufdr(report_xml: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.xml", report_xml)
    return out.getvalue()
