"""One Cellebrite PA model element (namespace-agnostic) → the text a reviewer reads.

A model holds `field@name/value`, `multiField` (several values), `modelField` (one nested model) and
`multiModelField` (a list of models). These helpers read direct children only, so a nested message's fields
never leak into its parent. The sentences written here are what gets embedded, searched and cited.
"""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

from assistant.loaders.phone.records import from_iso, human_duration, human_utc


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def fields(model: Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for child in model:
        if local(child.tag) == "field":
            value = next((v for v in child if local(v.tag) == "value"), None)
            if value is not None and value.text and value.text.strip():
                found[child.get("name", "")] = value.text.strip()
    return found


def multi_field(model: Element, name: str) -> list[str]:
    for child in model:
        if local(child.tag) == "multiField" and child.get("name") == name:
            return [v.text.strip() for v in child if local(v.tag) == "value" and v.text and v.text.strip()]
    return []


def model_field(model: Element, name: str) -> Element | None:
    for child in model:
        if local(child.tag) == "modelField" and child.get("name") == name:
            return next((m for m in child if local(m.tag) == "model"), None)
    return None


def multi_models(model: Element, name: str) -> list[Element]:
    for child in model:
        if local(child.tag) == "multiModelField" and child.get("name") == name:
            return [m for m in child if local(m.tag) == "model"]
    return []


def nested(model: Element, name: str) -> list[Element]:
    """Models under a `modelField` or a `multiModelField` of that name (PA writes both shapes)."""
    return [m for child in model if local(child.tag) in ("modelField", "multiModelField") and child.get("name") == name
            for m in child if local(m.tag) == "model"]


def party(model: Element | None, *, saved_as: bool = False) -> tuple[str, bool, str]:
    """(label, is_phone_owner, role): "Name (identifier)" or, with saved_as, "identifier (saved as Name)"; or
    whichever of the two exists."""
    if model is None:
        return "", False, ""
    f = fields(model)
    name, ident = f.get("Name", ""), f.get("Identifier", "")
    both = name and ident and name != ident
    label = (f"{ident} (saved as {name})" if saved_as else f"{name} ({ident})") if both else name or ident
    return label, f.get("IsPhoneOwner", "").lower() == "true", f.get("Role", "")


def parse_seconds(value: str) -> int | None:
    """'00:02:31', '2:31', '151' or '151.0' → seconds."""
    value = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return int(float(value))
    match = re.fullmatch(r"(?:(\d+)\.)?(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?", value)
    if not match:
        return None
    days, a, b, c = (int(g) if g else 0 for g in match.groups())
    hours, minutes, seconds = (a, b, c) if match.group(4) else (0, a, b)
    return days * 86400 + hours * 3600 + minutes * 60 + seconds


def entries(model: Element) -> list[str]:
    """Contact/account entries as "Category: value" (phone numbers, user ids, e-mails)."""
    out = []
    for entry in multi_models(model, "Entries"):
        f = fields(entry)
        value = f.get("Value", "")
        if value and entry.get("type") != "ProfilePicture":
            label = f.get("Category") or f.get("Domain") or entry.get("type", "")
            out.append(f"{label}: {value}" if label else value)
    return out


def attachments(model: Element, tagged_files: dict[str, str]) -> list[str]:
    found = [m for m in multi_models(model, "Attachments")]
    single = model_field(model, "Attachment")
    if single is not None:
        found.append(single)
    out: list[str] = []
    for att in found:
        f = fields(att)
        path = f.get("attachment_extracted_path") or tagged_files.get(att.get("file_id", ""), "")
        name = f.get("Filename") or f.get("Title") or f.get("URL") or ""
        label = " ".join(p for p in (name, f"({path})" if path else "", f.get("ContentType", "")) if p)
        if f.get("Transcript"):
            label += f", transcript: {f['Transcript']}"
        if label and label not in out:
            out.append(label)
    return out


def extras(model: Element) -> list[str]:
    """Forwarded/embedded, replied-to and shared-contact content, as short sentences."""
    out: list[str] = []
    for embedded in nested(model, "EmbeddedInstantMessage"):
        who, _, _ = party(model_field(embedded, "From"))
        files = [f"[attachment: {a}]" for a in attachments(embedded, {})]
        inner = " ".join([fields(embedded).get("Body", ""), *files, *extras(embedded)]).strip()
        out.append(f"(forwarded/embedded message{' from ' + who if who else ''}: {inner})")
    for extra in multi_models(model, "MessageExtraData"):
        if extra.get("type") == "ReplyMessageData":
            quoted = model_field(extra, "InstantMessage")
            if quoted is not None:
                who, _, _ = party(model_field(quoted, "From"))
                out.append(f"(reply to {who or 'a message'}: {fields(quoted).get('Body', '')})")
    for contact in multi_models(model, "SharedContacts"):
        out.append(f"(shared contact: {contact_text(contact)})")
    return out


def message_body(model: Element) -> tuple[str, bool]:
    """(text, is_system) for InstantMessage/SMS/MMS/Email: body, subject, system line, embedded content."""
    f = fields(model)
    parts = [f"Subject: {f['Subject']}"] if f.get("Subject") else []
    if f.get("Body"):
        parts.append(f["Body"])
    system = False
    labels = [label for label in multi_field(model, "Labels") if label != "Default"]
    for activity in nested(model, "ActivityLog"):
        a = fields(activity)
        who, _, _ = party(model_field(activity, "Participant"))
        line = a.get("SystemMessageBody") or f"{a.get('Action', 'activity')} {who}".strip()
        system = not f.get("Body") or f.get("Body") == line
        if line not in parts:
            parts.append(line)
    parts.extend(extras(model))
    if labels:
        parts.append(f"(labels: {', '.join(labels)})")
    return " ".join(p for p in parts if p).strip(), system


def call_text(model: Element, timestamp: str) -> tuple[str, str, str, tuple[str, ...], str]:
    """(sentence, direction, sender, recipients, source app) for a Call model."""
    f = fields(model)
    kind = (f.get("Type") or f.get("Direction") or f.get("Status") or "").lower()
    direction = "missed" if "miss" in kind else "outgoing" if "out" in kind else "incoming" if "in" in kind else ""
    parties = [party(p, saved_as=True) for p in multi_models(model, "Parties")]
    others = [label for label, owner, _ in parties if not owner and label]
    owner = [label for label, is_owner, _ in parties if is_owner and label]
    froms = [label for label, _, role in parties if role == "From" and label]
    tos = [label for label, _, role in parties if role == "To" and label]
    sender = (froms or (owner if direction == "outgoing" else others) or [""])[0]
    recipients = tuple(tos or (others if direction == "outgoing" else owner))
    app = f.get("Source", "") or "phone"
    video = " video" if f.get("VideoCall", "").lower() == "true" else ""
    counterpart = ", ".join(recipients) if direction == "outgoing" else sender
    where = "to" if direction == "outgoing" else "from"
    seconds = parse_seconds(f.get("Duration", "")) if f.get("Duration") else None
    lasted = f", lasted {human_duration(seconds)}" if seconds is not None else ""
    text = (f"{app}{video} call, {direction or 'direction unknown'}, {where} {counterpart or 'unknown number'}, "
            f"{human_utc(timestamp)}{lasted}")
    return text[0].upper() + text[1:], direction, sender, recipients, app


def contact_text(model: Element) -> str:
    f = fields(model)
    found = entries(model)
    name = f.get("Name", "") or "(no name)"
    listed = "; ".join(found) if found else "no number or id"
    source = f" in {f['Source']}" if f.get("Source") else ""
    return f"{name}{source} — {listed}"


def account_text(model: Element) -> str:
    f = fields(model)
    found = entries(model)
    who = " ".join(p for p in (f.get("Name", ""), f"username {f['Username']}" if f.get("Username") else "") if p)
    source = f.get("Source") or f.get("ServiceType") or "an app"
    listed = f" — {'; '.join(found)}" if found else ""
    return f"Account of the phone's user on {source}: {who or '(no name)'}{listed}"


def timestamp_of(model: Element, *names: str) -> tuple[str, str]:
    f = fields(model)
    for name in names:
        if f.get(name):
            stamp, tz = from_iso(f[name])
            if stamp:
                return stamp, tz
    return "", ""
