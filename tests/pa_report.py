"""Writes Cellebrite PA XML reports (namespace http://pa.cellebrite.com/report/2.0) in the shape documented in
../shared/PHONE_FORMATS.md, for tests and for benchmarks/bench_phone.py. Streaming: models are written one by
one, so a report of any size can be generated without holding it in memory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO
from xml.sax.saxutils import escape, quoteattr

NS = "http://pa.cellebrite.com/report/2.0"


def field(name: str, value: str, kind: str = "String") -> str:
    if not value:
        return f'<field name="{name}" type="{kind}"><empty /></field>'
    return f'<field name="{name}" type="{kind}"><value type="{kind}">{escape(value)}</value></field>'


def party(ident: str, name: str = "", role: str = "", owner: bool = False) -> str:
    return (f'<model type="Party" id="p-{escape(ident)}" deleted_state="Unknown" extractionId="1">'
            f"{field('Identifier', ident)}{field('Name', name)}{field('Role', role, 'PartyRole')}"
            f"{field('IsPhoneOwner', str(owner), 'Boolean')}</model>")


def model(kind: str, ident: str, body: str, *, deleted: bool = False) -> str:
    state = "Deleted" if deleted else "Intact"
    return (f'<model type="{kind}" id={quoteattr(ident)} deleted_state="{state}" decoding_confidence="High" '
            f'extractionId="1">{body}</model>')


def instant_message(ident: str, key: str, when: str, sender: tuple[str, str, bool], text: str, *,
                    deleted: bool = False, source: str = "WhatsApp", attachment: str = "") -> str:
    ident_, name, owner = sender
    att = ""
    if attachment:
        att = ('<multiModelField name="Attachments" type="Attachment">'
               + model("Attachment", f"a-{ident}", field("Filename", attachment.rsplit("/", 1)[-1])
                       + field("attachment_extracted_path", attachment)) + "</multiModelField>")
    return model("InstantMessage", ident, field("Source", source) + field("Identifier", key)
                 + field("TimeStamp", when, "TimeStamp") + field("Body", text)
                 + f'<modelField name="From" type="Party">{party(ident_, name, "From", owner)}</modelField>'
                 + att, deleted=deleted)


def chat(ident: str, chat_id: str, participants: Iterable[tuple[str, str, bool]], messages: Iterable[str]) -> \
        Iterator[str]:
    """A Chat model, yielded in pieces so its messages can be streamed."""
    people = "".join(party(i, n, "", o) for i, n, o in participants)
    yield (f'<model type="Chat" id="{ident}" deleted_state="Intact" extractionId="1">{field("Source", "WhatsApp")}'
           f'{field("Id", chat_id)}<multiModelField name="Participants" type="Party">{people}</multiModelField>'
           '<multiModelField name="Messages" type="InstantMessage">')
    yield from messages
    yield "</multiModelField></model>"


def call(ident: str, when: str, direction: str, number: str, name: str, duration: str, *, deleted: bool = False) \
        -> str:
    role = "To" if direction == "Outgoing" else "From"
    return model("Call", ident, field("Source", "Phone") + field("Type", direction, "CallType")
                 + field("TimeStamp", when, "TimeStamp") + field("Duration", duration, "TimeSpan")
                 + '<multiModelField name="Parties" type="Party">' + party(number, name, role)
                 + party("+447700900001", "", "To" if role == "From" else "From", True) + "</multiModelField>",
                 deleted=deleted)


def contact(ident: str, name: str, phone: str, email: str = "") -> str:
    entries = model("PhoneNumber", f"{ident}-n", field("Category", "Mobile") + field("Value", phone))
    if email:
        entries += model("EmailAddress", f"{ident}-e", field("Category", "Email") + field("Value", email))
    return model("Contact", ident, field("Source", "Phone") + field("Name", name)
                 + f'<multiModelField name="Entries" type="ContactEntry">{entries}</multiModelField>')


def sms(ident: str, when: str, number: str, text: str, *, deleted: bool = False) -> str:
    return model("SMS", ident, field("TimeStamp", when, "TimeStamp") + field("Body", text) + field("Folder", "Inbox")
                 + '<multiModelField name="Parties" type="Party">' + party(number, "", "From")
                 + "</multiModelField>", deleted=deleted)


def write_report(out: IO[str], groups: Iterable[tuple[str, Iterable[str]]], *, imei: str = "356938035643809",
                 msisdn: str = "+447700900001", device_model: str = "Galaxy S10", owner: str = "") -> None:
    """groups: (modelType name, model XML pieces). Writes a whole report, streaming."""
    out.write(f'<?xml version="1.0" encoding="utf-8"?>\n<project xmlns="{NS}" id="r1" name="test report" '
              'reportVersion="5.3.0.0" extractionType="FileSystem">\n<sourceExtractions>'
              '<extractionInfo id="1" name="File System 01" type="FileSystem" deviceName="Seized phone" />'
              '</sourceExtractions>\n<metadata section="Extraction Data">'
              f'<item name="DeviceInfoDetectedModel">{escape(device_model)}</item><item name="IMEI">{imei}</item>'
              f'<item name="MSISDN">{escape(msisdn)}</item>'
              + (f'<item name="DeviceInfoOwnerName">{escape(owner)}</item>' if owner else "")
              + "</metadata>\n<decodedData>\n")
    for kind, pieces in groups:
        out.write(f'<modelType type="{kind}">\n')
        for piece in pieces:
            out.write(piece)
            out.write("\n")
        out.write("</modelType>\n")
    out.write("</decodedData>\n</project>\n")
