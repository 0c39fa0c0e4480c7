"""Cellebrite UFDR (`.ufdr`, a zip with `report.xml` or `UFEDReport.xml`) and bare PA XML reports, streamed.

The XML is read with `iterparse`; every top-level model (and every message of a Chat) is turned into records as
soon as it ends and is then removed from the tree, so memory stays bounded by the largest single model, not by
the report (measured in benchmarks/bench_phone.py). Device facts (`metadata` items such as IMEI, MSISDN, model,
owner) and `sourceExtractions` come before `decodedData` in a report and label every record; a device record is
emitted too, so the device's identifiers are citable. `taggedFiles` give attachments their extracted paths.
Fragments whose root is a `model` or `modelType` (the public IPED fixtures) are read the same way.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, iterparse

from assistant.loaders.phone import ufdr_models as um
from assistant.loaders.phone.records import PhoneRecord

NAMESPACE = "http://pa.cellebrite.com/report/2.0"
REPORT_NAMES = ("report.xml", "UFEDReport.xml")
MESSAGE_TYPES = frozenset({"InstantMessage", "SMS", "MMS", "Email"})
EMITTED = MESSAGE_TYPES | {"Call", "Contact", "UserAccount"}
_DEVICE_KEYS = {"DeviceInfoDetectedModel": "model", "DeviceInfoSelectedManufacturer": "manufacturer",
                "IMEI": "IMEI", "MSISDN": "MSISDN", "DeviceInfoOwnerName": "owner", "DeviceInfoAppleID": "Apple ID",
                "DeviceInfoUniqueID": "unique id", "DeviceInfoCreationTime": "extraction time (local)"}


@contextmanager
def open_report(path: Path) -> Iterator[IO[bytes]]:
    """The report XML stream of a .ufdr zip or a bare .xml file. Raises ValueError when a zip holds none."""
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = {n.rsplit("/", 1)[-1]: n for n in archive.namelist()}
            member = next((names[n] for n in REPORT_NAMES if n in names), None)
            if member is None:
                raise ValueError("UFDR zip has no report.xml (nor UFEDReport.xml)")
            with archive.open(member) as stream:
                yield stream
    else:
        with path.open("rb") as stream:
            yield stream


class ReportReader:
    """Streams the records of one report. After iteration, `counts` and `device` describe what was read."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.device_facts: dict[str, str] = {}
        self.extractions: dict[str, str] = {}
        self.tagged_files: dict[str, str] = {}
        self.device_name = ""  # extractionInfo@deviceName, when the metadata names no model
        self.embedded = 0  # messages nested in another (forwarded, quoted): shown inside it, not on their own
        self.not_read: Counter[str] = Counter()  # top-level model types this reader does not turn into records

    @property
    def device(self) -> str:
        """The device's make and model, which label every record. Its identifiers (IMEI, MSISDN, owner) are only in
        the device record's text, where PII tagging finds them and masking hides them from reviewers."""
        d = self.device_facts
        name = " ".join(p for p in (d.get("manufacturer", ""), d.get("model", "")) if p)
        return name or self.device_name or ("seized device" if d else "")

    def records(self, stream: IO[bytes]) -> Iterator[PhoneRecord]:
        opened: list[Element] = []
        models: list[Element] = []
        for event, elem in iterparse(stream, events=("start", "end")):
            tag = um.local(elem.tag)
            if event == "start":
                opened.append(elem)
                if tag == "model":
                    models.append(elem)
                continue
            opened.pop()
            parent = opened[-1] if opened else None
            if tag == "model":
                models.pop()
                yield from self._model_end(elem, models, parent)
            elif not models and tag in ("item", "extractionInfo", "file"):
                self._context(tag, elem, parent)
            elif not models and tag in ("modelType", "taggedFiles", "metadata"):
                self._drop(elem, parent)  # emptied containers: nothing more to read in them
        if self.device_facts:
            yield self._device_record()

    def _drop(self, elem: Element, parent: Element | None) -> None:
        elem.clear()
        if parent is not None:
            parent.remove(elem)

    def _context(self, tag: str, elem: Element, parent: Element | None) -> None:
        if tag == "item":
            key = _DEVICE_KEYS.get(elem.get("name", ""))
            if key and (elem.text or "").strip():
                self.device_facts.setdefault(key, (elem.text or "").strip())
        elif tag == "extractionInfo":
            self.extractions[elem.get("id", "")] = elem.get("name") or elem.get("type") or elem.get("id") or ""
            self.device_name = self.device_name or elem.get("deviceName") or ""
        else:
            path = next((i.text for m in elem if um.local(m.tag) == "metadata" for i in m
                         if i.get("name") == "Local Path" and i.text), None)
            if path and elem.get("id"):
                self.tagged_files[elem.get("id", "")] = path.replace("\\", "/")
        self._drop(elem, parent)

    def _model_end(self, elem: Element, models: list[Element], parent: Element | None) -> Iterator[PhoneRecord]:
        kind = elem.get("type", "")
        container = parent.get("name") if parent is not None else None
        if models:
            outer = models[-1]
            if kind in MESSAGE_TYPES and outer.get("type") == "Chat" and container == "Messages":
                yield self._message(elem, outer)
                self._drop(elem, parent)
            elif kind in MESSAGE_TYPES:
                self.embedded += 1
            return
        if kind in MESSAGE_TYPES:
            yield self._message(elem, None)
        elif kind == "Call":
            yield self._call(elem)
        elif kind == "Contact":
            yield self._simple(elem, "contact", "contacts", "Contact saved on the phone: " + um.contact_text(elem))
        elif kind == "UserAccount":
            yield self._simple(elem, "account", "user accounts", um.account_text(elem))
        elif kind != "Chat":
            self.not_read[kind or "untyped"] += 1
        self._drop(elem, parent)

    def _common(self, elem: Element) -> dict[str, object]:
        return {"record_id": elem.get("id", ""), "deleted": elem.get("deleted_state", "") == "Deleted",
                "device": self.device, "extraction": self.extractions.get(elem.get("extractionId", ""), ""),
                "provenance": (f"{self.source}#model {elem.get('id', '')}",)}

    def _message(self, elem: Element, chat: Element | None) -> PhoneRecord:
        f = um.fields(elem)
        sender, owner, _ = um.party(um.model_field(elem, "From"))
        to = [um.party(p)[0] for p in um.multi_models(elem, "To")]
        for label, is_owner, role in (um.party(p) for p in um.multi_models(elem, "Parties")):
            if role == "From" and not sender:
                sender, owner = label, is_owner
            elif role == "To" and label:
                to.append(label)
        thread = f.get("ChatId", "")
        if chat is not None:
            c = um.fields(chat)
            thread = c.get("Name") or c.get("Id") or chat.get("id") or ""
            if not to:
                to = [p for p in (um.party(m)[0] for m in um.multi_models(chat, "Participants")) if p != sender]
        folder = (f.get("Status", "") + f.get("Folder", "")).lower()
        direction = "outgoing" if owner or "sent" in folder or "outbox" in folder else "incoming" if sender else ""
        body, system = um.message_body(elem)
        stamp, tz = um.timestamp_of(elem, "TimeStamp", "DateSent", "DateReceived")
        app = f.get("Source") or f.get("SourceApplication") or ("SMS" if elem.get("type") in ("SMS", "MMS") else "")
        return PhoneRecord(kind="system" if system else "message", thread=thread or (to[0] if to else sender),
                           timestamp=stamp, tz=tz, body=body, sender=sender, recipients=tuple(to),
                           app_id=f.get("Identifier", ""), direction=direction, source_app=app,
                           attachments=tuple(um.attachments(elem, self.tagged_files)), **self._common(elem))  # type: ignore[arg-type]

    def _call(self, elem: Element) -> PhoneRecord:
        stamp, tz = um.timestamp_of(elem, "TimeStamp", "StartTime")
        text, direction, sender, recipients, app = um.call_text(elem, stamp)
        return PhoneRecord(kind="call", thread="calls", timestamp=stamp, tz=tz, body=text, sender=sender,
                           recipients=recipients, direction=direction, source_app=app, **self._common(elem))  # type: ignore[arg-type]

    def _simple(self, elem: Element, kind: str, thread: str, text: str) -> PhoneRecord:
        stamp, tz = um.timestamp_of(elem, "TimeCreated", "TimeModified", "LastActivity")
        source = um.fields(elem).get("Source", "")
        return PhoneRecord(kind=kind, thread=thread, timestamp=stamp, tz=tz, body=text,  # type: ignore[arg-type]
                           sender=um.fields(elem).get("Name", ""), source_app=source, **self._common(elem))  # type: ignore[arg-type]

    def _device_record(self) -> PhoneRecord:
        facts = ", ".join(f"{k} {v}" for k, v in self.device_facts.items())
        extractions = "; ".join(v for v in self.extractions.values() if v)
        body = f"Seized device: {facts}" + (f"; extraction(s): {extractions}" if extractions else "")
        return PhoneRecord(kind="device", record_id="device", thread="device", timestamp="", body=body,
                           sender="extraction report", device=self.device, extraction=extractions,
                           provenance=(f"{self.source}#metadata",))
