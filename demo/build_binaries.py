"""Build the two binary documents of the Operation Kestrel demo case.

    .venv/bin/python demo/build_binaries.py

Writes reports/phone_download_summary.pdf (fpdf2, three pages, real text layer) and
statements/social_worker_statement.docx (python-docx). Output is deterministic: fixed document dates and
metadata, core PDF fonts only (no system fonts), and the DOCX zip is rewritten with fixed entry timestamps, so
re-running the script reproduces the same bytes. Everything in both documents is fictional.
"""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

CASE_DIR = Path(__file__).resolve().parent / "operation-kestrel"
PDF_PATH = CASE_DIR / "reports" / "phone_download_summary.pdf"
DOCX_PATH = CASE_DIR / "statements" / "social_worker_statement.docx"

PDF_DATE = datetime(2023, 4, 4, 16, 30, 0, tzinfo=UTC)
DOCX_DATE = datetime(2023, 3, 30, 11, 0, 0, tzinfo=UTC)
ZIP_DATE = (2023, 3, 30, 11, 0, 0)

# ---------------------------------------------------------------------------------------------------------------
# PDF: digital forensic summary of exhibit HE/3. Each item is ("h", heading), ("p", paragraph), ("kv", line)
# or ("mono", fixed-width table row). "page" starts a new page.
# ---------------------------------------------------------------------------------------------------------------
PDF_PAGES: list[list[tuple[str, str]]] = [
    [
        ("h", "1. Device examined"),
        ("kv", "Exhibit: HE/3, seized by PC 2291 Hannah ELLERY on 22/03/2023"),
        ("kv", "Make and model: Samsung Galaxy A13 (SM-A135F/DSN), blue"),
        ("kv", "IMEI recorded from the device settings screen: 352910114827367"),
        ("kv", "SIM: EE, MSISDN +44 7700 900418"),
        ("kv", "Operating system: Android 13"),
        ("kv", "Condition on receipt: sealed Faraday bag, seal intact, device powered off"),
        ("h", "2. Extraction"),
        ("p", "A full file system extraction was made on 04/04/2023 using the unit's validated tool set. "
              "The device clock matched the examiner's reference clock to within 4 seconds, so the "
              "timestamps below are reported as recorded by the device (UTC)."),
        ("kv", "Extraction image SHA-256:"),
        ("mono", "9c1e5b7a04d2f83e6b19a0c4d7e25f8813ab6c9d0e4f27a8b5c3d1e09f6a7b42"),
        ("h", "3. Accounts found on the device"),
        ("kv", "Google account signed in on the device: m.wolski94@example.com"),
        ("kv", "Snapchat user name: @w0lfie_94"),
        ("kv", "Instagram account: @marek.w.94"),
        ("kv", "WhatsApp: registered to +44 7700 900418"),
        ("kv", "Owner name in device settings: Marek"),
        ("p", "The device is attributed to Marek WOLSKI because it was found in his jacket pocket, because "
              "its number +44 7700 900418 is the number he gave at the roadside, and because the Google "
              "account on it is in his name."),
    ],
    [
        ("h", "4. Contacts of interest"),
        ("mono", "Saved name    Number            Attributed to"),
        ("mono", "K             07700 900265      Kacper ZIELINSKI (see IR/KES/0412/23)"),
        ("mono", "Andi          +44 7700 900733   Andrei POPESCU"),
        ("mono", "Imran Taxi    07700900152       Imran QURESHI"),
        ("mono", "Samir Sim     07700 900846      Samir HADDAD"),
        ("mono", "Reece         07700 900604      'Reece', surname not known"),
        ("mono", "Tiger         07700 900587      Nokia 105, exhibit HE/2"),
        ("mono", "Daria         07700 900377      Daria LIS, keeper of LK19 XRT"),
        ("h", "5. Messages"),
        ("p", "63 messages in 5 threads, dated 10/01/2023 to 22/03/2023, were recovered from SMS and "
              "WhatsApp and exported to the file phone_HE3_messages.csv. The examiner identified the "
              "languages as Polish (21 messages), English (17), Romanian (15), Urdu (5) and Arabic (5). "
              "Translation was not requested at the time of examination and the content of the "
              "foreign-language messages has not been reviewed by the examiner."),
        ("p", "Thread HE3-T1 is with contact K (Polish and English), HE3-T2 with Andi (Romanian), "
              "HE3-T3 with Imran Taxi (Urdu and English), HE3-T4 with Samir Sim (Arabic and English) and "
              "HE3-T5 with Reece (English)."),
        ("h", "6. Images"),
        ("p", "A screenshot, file Screenshot_20230204-102912.jpg, was created on 04/02/2023 at 10:29 and "
              "sent by WhatsApp to contact K at 10:29 the same day. It shows bank details typed into a "
              "notes screen:"),
        ("mono", "Name: A POPESCU   Sort code: 30-94-57   Account: 41736925"),
        ("p", "No other images of evidential interest were found. 212 images of cars, trainers and "
              "clothing were reviewed and are not reported."),
    ],
    [
        ("h", "7. Location data"),
        ("p", "Google location history on the device places it at or near Wrenfield Road, Dunford, on "
              "22/01/2023 between 09:50 and 12:40, and on 10/03/2023 between 19:10 and 22:40. On "
              "22/03/2023 the last recorded location is the B2160 Dunford Road at 20:54."),
        ("h", "8. Notes application"),
        ("p", "One note (note id 7, last modified 21/03/2023 00:12) is reproduced in full as a separate "
              "document, notes_app_extract_HE3.txt. Part of the note is written as instructions to "
              "'any police computer or AI'. It is reported as evidence only and was not acted on."),
        ("h", "9. Examiner's remarks"),
        ("p", "The device contains regular contact between the user and the number saved as K, "
              "including arrangements made on the evenings of 20/01/2023, 09/03/2023 and 22/03/2023, "
              "the days before or of the reported missing episodes of Kacper ZIELINSKI. I recommend "
              "professional translation of threads HE3-T1 to HE3-T4 before any charging decision."),
        ("h", "10. Continuity"),
        ("kv", "Received from the property store: 03/04/2023 14:10, seal number AC0041187"),
        ("kv", "Returned to the property store: 05/04/2023 09:30, resealed, seal number AC0041203"),
        ("kv", "Examiner: Steven IBBOTSON, Digital Forensic Examiner, DFU Ashmere"),
        ("kv", "Signed: S. Ibbotson      Date: 04/04/2023"),
    ],
]


def build_pdf(path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF(format="A4")
    pdf.set_creation_date(PDF_DATE)
    pdf.set_producer("Ashmere Constabulary DFU report writer")
    pdf.set_creator("demo/build_binaries.py")
    pdf.set_author("Steven Ibbotson")
    pdf.set_title("Operation KESTREL - Exhibit HE/3 - Summary of findings")
    pdf.set_subject("Mobile device examination, fictional demo case")
    pdf.set_auto_page_break(auto=True, margin=18)
    total = len(PDF_PAGES)
    for number, items in enumerate(PDF_PAGES, start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 12)
        pdf.cell(0, 6, "ASHMERE CONSTABULARY - DIGITAL FORENSIC UNIT", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(0, 5, "Mobile device examination: summary of findings", new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 5, "Operation KESTREL   URN 46 KE 0412 23   DFU ref DFU/23/0311   OFFICIAL-SENSITIVE",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.cell(0, 5, f"Page {number} of {total}", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
        for style, text in items:
            if style == "h":
                pdf.ln(2)
                pdf.set_font("Helvetica", "B", 11)
                pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
            elif style == "p":
                pdf.set_font("Helvetica", "", 10)
                pdf.multi_cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1)
            elif style == "kv":
                pdf.set_font("Helvetica", "", 10)
                pdf.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.set_font("Courier", "", 9)
                pdf.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(pdf.output()))


# ---------------------------------------------------------------------------------------------------------------
# DOCX: MG11-style statement of the social worker.
# ---------------------------------------------------------------------------------------------------------------
DOCX_HEADER = [
    ("URN", "46 KE 0412 23"),
    ("Statement of", "Ruth OKAFOR"),
    ("Age if under 18", "Over 18"),
    ("Occupation", "Senior Social Worker, Exploitation and Missing Team, Ashmere Children's Services"),
]

DOCX_BODY = [
    "I am a Senior Social Worker in the Exploitation and Missing Team of Ashmere Children's Services, based at "
    "the Civic Centre, Ashmere, AM1 1QE. I qualified as a social worker in 2011. My work telephone number is "
    "01632 960457 and my e-mail address is r.okafor@example.org. I make this statement from my own knowledge "
    "and from the case records I wrote at the time.",
    "On Thursday 2nd February 2023 the Multi-Agency Safeguarding Hub (MASH) received a referral by e-mail from "
    "Claire HOBBS, the Designated Safeguarding Lead at Ashmere Academy, about Kacper ZIELINSKI, born "
    "17/06/2007. The case was allocated to me on 3rd February 2023.",
    "On Monday 6th February 2023 I visited Kacper and his mother at 14 Larkspur Close with a Polish interpreter. "
    "Kacper was polite but guarded. He said his new clothes and trainers were gifts from a friend from the gym "
    "and he denied going to Dunford. His mother told me about the night he was missing in January.",
    "On Wednesday 8th February 2023 I attended a strategy meeting chaired by my team manager, Helen WARD. DC "
    "Tom BRANNIGAN, Claire HOBBS and the school nurse also attended. The meeting agreed a child protection "
    "enquiry under section 47 of the Children Act 1989. Using our exploitation screening tool the meeting "
    "assessed Kacper as being at high risk of child criminal exploitation. A safety plan was agreed with his "
    "mother: she would report him missing straight away if he was not home by 21:00, and the school would "
    "tell me the same day about any absence.",
    "After the missing episode of 10th to 13th March 2023 I carried out a return home interview with Kacper on "
    "Wednesday 15th March 2023 at Ashmere Youth Hub. He told me that he had stayed at \"Graham's flat\" in "
    "Dunford, that older boys brought food, and that he was given £20 a day for helping. He would not tell me "
    "the names of any adults. He said \"if I talk they'll come to my mum's house\". He had a small cut on his "
    "left hand which he said was from a broken glass. I arranged for him to see the school nurse.",
    "On Wednesday 22nd March 2023 I was the on-call social worker. At 22:45 the police told me that Kacper had "
    "been found in a car on the Dunford Road. I arrived at Ashmere Police Station at 23:10. Kacper was quiet "
    "and asked me whether he was in trouble. I told him he was not. He went home with his mother and me at "
    "23:30.",
    "On Thursday 23rd March 2023, as a first responder, I submitted a referral for Kacper to the National "
    "Referral Mechanism (NRM), the framework for identifying victims of modern slavery. On 28th March 2023 the "
    "Single Competent Authority made a positive reasonable grounds decision.",
    "In my professional opinion Kacper shows the signs of a child who is being criminally exploited: unexplained "
    "gifts and money, a second phone, going missing, travelling to another town, falling school attendance "
    "and fear of reprisals against his family. He has not yet felt able to talk about the adults involved. I "
    "believe that any approach to him about giving evidence should be made through me or another worker he "
    "trusts, at his pace.",
]


def build_docx(path: Path) -> None:
    from docx import Document
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10.5)

    doc.add_paragraph("OFFICIAL-SENSITIVE (when complete)    MG11")
    doc.add_heading("WITNESS STATEMENT", level=1)
    doc.add_paragraph("Criminal Procedure Rules, r. 16.2; Criminal Justice Act 1967, s. 9; "
                      "Magistrates' Courts Act 1980, s. 5B")
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in DOCX_HEADER:
        row = table.add_row().cells
        row[0].text = label
        row[1].text = value
    doc.add_paragraph(
        "This statement (consisting of 2 pages each signed by me) is true to the best of my knowledge and belief "
        "and I make it knowing that, if it is tendered in evidence, I shall be liable to prosecution if I have "
        "wilfully stated anything in it which I know to be false, or do not believe to be true.")
    doc.add_paragraph("Signature: R. Okafor        Date: 30/03/2023")
    for text in DOCX_BODY:
        doc.add_paragraph(text)
    doc.add_paragraph("Signature: R. Okafor        Signature witnessed by: T. Brannigan DC 4410")

    props = doc.core_properties
    props.author = "Ruth Okafor"
    props.last_modified_by = "Ruth Okafor"
    props.title = "MG11 statement of Ruth Okafor"
    props.subject = "Operation KESTREL (fictional demo case)"
    props.keywords = "KESTREL; MG11"
    props.comments = ""
    props.category = ""
    props.revision = 1
    props.created = DOCX_DATE.replace(tzinfo=None)
    props.modified = DOCX_DATE.replace(tzinfo=None)
    props.last_printed = DOCX_DATE.replace(tzinfo=None)

    buffer = io.BytesIO()
    doc.save(buffer)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_normalise_zip(buffer.getvalue()))


def _normalise_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed entry timestamps and permissions, keeping entry order and content."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def main() -> None:
    build_pdf(PDF_PATH)
    build_docx(DOCX_PATH)
    for path in (PDF_PATH, DOCX_PATH):
        print(f"wrote {path.relative_to(CASE_DIR.parent)} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
