"""HTML/Markdown rendering for the UI. Pure functions; every piece of evidence text is HTML-escaped before any
markup (such as the `<mark>` of a quote) is added."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from assistant.access.audit import AuditRecord
from assistant.llm.base import is_smoke_model
from assistant.text.messages import MessageRecord, message_records
from assistant.text.quotes import locate_quote
from assistant.types import Answer, Citation, Entity, Passage

NOT_FOUND = "Not found in the case material"
_MARKER_RE = re.compile(r"\[(\d{1,3})\]")


_MD_PUNCT = re.compile(r"([!-/:-@\[-`{-~])")  # every ASCII punctuation character (CommonMark may escape each)
_ESCAPED_MARKER_RE = re.compile(r"\\\[(\d{1,3})\\\]")


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def md_text(text: object) -> str:
    """Text shown literally inside Markdown: every ASCII punctuation character backslash-escaped, so `![](url)`,
    `[link](url)`, `<img …>`, autolinks (`http\\://`, `www\\.`), emphasis and headings stay plain text and the
    browser fetches nothing. The app's own markup is added after this."""
    return _MD_PUNCT.sub(r"\\\1", str(text))


def answer_markdown(answer: Answer) -> str:
    """The chat bubble: the answer as plain text (`md_text`) with the app's own [n] markers in bold, or the clear
    not-found message."""
    if answer.status == "no_evidence":
        return f"**{NOT_FOUND}.** No passage of this case supports an answer to the question."
    body = _ESCAPED_MARKER_RE.sub(lambda m: f"**[{m.group(1)}]**", md_text(answer.answer))
    unverified = [c.n for c in answer.citations if not c.verified]
    if unverified:
        marks = ", ".join(f"[{n}]" for n in unverified)
        body += f"\n\n⚠ Citation(s) {marks} could not be verified against their passage: check them before relying."
    if answer.flagged_claims:
        body += f"\n\n⚠ {len(answer.flagged_claims)} claim(s) were removed because no passage supported them."
    return body


def backend_html(answer: Answer, smoke_models: Sequence[str]) -> str:
    model = answer.model or "-"
    info = (f'<div class="answered-by">Answered by backend <b>{esc(answer.backend)}</b>, model <b>{esc(model)}</b>'
            f"{f', prompt {esc(answer.prompt_version)}' if answer.prompt_version else ''}</div>")
    if is_smoke_model([answer.model, answer.backend], smoke_models):
        info += ('<div class="smoke-warning" role="alert" style="background:#fff3cd;border:1px solid #e0a800;'
                 'padding:6px;margin-top:4px"><b>⚠ Smoke-test model.</b> This small model invents facts and does '
                 "not cite reliably: do not rely on this answer.</div>")
    if answer.status == "no_evidence":
        info += f'<div class="no-evidence"><b>{NOT_FOUND}.</b></div>'
    if answer.notes:
        info += "<ul class='answer-notes'>" + "".join(f"<li>{esc(n)}</li>" for n in answer.notes) + "</ul>"
    return info


def citation_label(c: Citation) -> str:
    mark = "✓" if c.verified else "✗ unverified"
    return f"[{c.n}] {mark} · {c.source} · {c.locator}"


def citation_choices(answer: Answer | None) -> list[tuple[str, str]]:
    if answer is None or answer.status == "no_evidence":
        return []
    return [(citation_label(c), str(c.n)) for c in answer.citations]


_PLACEHOLDER = re.compile(r"<(?:PROTECTED_\d+_[A-Z]+|[A-Z][A-Z_]*_\d+)>")
NOT_HIGHLIGHTED = frozenset({"DATE_TIME"})  # dates are evidence, and on every line


def highlight(text: str, span: tuple[int, int] | None, entities: Sequence[Entity] = (), shift: int = 0) -> str:
    """Escaped text with the span wrapped in one <mark> (escaping each part separately keeps offsets exact), PII
    entities (offsets minus `shift`) in `<span class="pii pii-<type>">` and masked placeholders in
    `<span class="masked">`: the app's own highlighting by type."""
    kinds = [""] * len(text)
    for e in entities:
        s, t = e.start - shift, e.end - shift
        if e.type not in NOT_HIGHLIGHTED and 0 <= s < t <= len(text):
            kinds[s:t] = [e.type] * (t - s)
    for m in _PLACEHOLDER.finditer(text):
        kinds[m.start():m.end()] = ["masked"] * (m.end() - m.start())
    q_start, q_end = (max(0, span[0]), min(len(text), span[1])) if span else (0, 0)
    out, i = [], 0
    while i < len(text):
        inside = q_start <= i < q_end
        j = i + 1
        while j < len(text) and kinds[j] == kinds[i] and (q_start <= j < q_end) == inside and j not in (q_start, q_end):
            j += 1
        piece, kind = esc(text[i:j]), kinds[i]
        if kind == "masked":
            piece = f'<span class="masked">{piece}</span>'
        elif kind:
            piece = f'<span class="pii pii-{esc(kind.lower())}" title="{esc(kind)}">{piece}</span>'
        out.append(('<mark class="quote">' if inside and i == q_start else "") + piece
                   + ("</mark>" if inside and j == q_end else ""))
        i = j
    return "".join(out)


_BADGES = {"call": "📞 Call record", "contact": "👤 Contact entry", "account": "🔑 Account on the phone",
           "device": "📱 Device record", "system": "⚙ System line"}


def phone_badge(phone_json: object) -> str:
    """What a seized-phone record is (call, contact, deleted message...), with its tz, device, extraction and every
    source it was read from; "" for rows of a CSV/JSONL message export."""
    from assistant.loaders.phone.records import record_of

    rec = record_of(phone_json)
    if rec is None:
        return ""
    label = _BADGES.get(rec.kind, "💬 Message")
    if rec.deleted:
        label = "🗑 DELETED message (recovered by the extraction)" if rec.body else "🗑 DELETED message"
    facts = [f"{rec.source_app}" if rec.source_app else "", f"{rec.direction}" if rec.direction else "",
             f"time: {rec.tz}" if rec.tz else "", f"device: {rec.device}" if rec.device else "",
             f"extraction: {rec.extraction}" if rec.extraction else ""]
    sources = "".join(f"<li><code>{esc(p)}</code></li>" for p in rec.provenance)
    return (f'<div class="record-kind record-{esc(rec.kind)}{" deleted" if rec.deleted else ""}"><b>{esc(label)}'
            f'</b></div><div class="record-facts"><small>{esc(" · ".join(f for f in facts if f))}</small></div>'
            + (f'<details class="provenance"><summary>read from {len(rec.provenance)} source(s)</summary><ul>'
               f"{sources}</ul></details>" if sources else ""))


def _translation_label(m: MessageRecord, translated: bool) -> str:
    """Original, human translation and machine translation are three different things: say which one this is."""
    if m.machine:
        return f'<div class="machine-translation"><small>⚠ {esc(m.machine)}</small></div>'
    if translated:
        return '<div class="human-translation"><small>translation from the export (human)</small></div>'
    if m.untranslated:
        return ('<div class="untranslated"><small>original text, no English translation: not evidence (`assistant '
                'translate` can add a machine translation)</small></div>')
    return ""


def messages_html(passage: Passage, span: tuple[int, int] | None, quote: str = "") -> str:
    """One row per message: who/when/language, then the original beside the English text. The cited words are
    marked by the quote's offsets when they line up with the (possibly masked) text, else by searching for it."""
    rows = []
    for m in message_records(passage.meta):
        start, end = m.start, m.end
        english = m.english
        local: tuple[int, int] | None = None
        aligned = 0 <= start < end <= len(passage.text) and passage.text[start:end] == english
        if aligned:
            if span is not None and span[0] < end and span[1] > start:
                local = (max(span[0], start) - start, min(span[1], end) - start)
        elif quote:
            local = locate_quote(english, quote)
        language = m.language
        translated = bool(m.translation) and m.translation != m.body
        original = esc(m.body) if translated else '<span class="same">(original is English)</span>'
        ident = f"{esc(m.device)} {esc(m.thread_id)}/{esc(m.message_id)}"
        rows.append(
            f'<tr class="{"cited" if local else ""}">'
            f'<td class="who">{phone_badge(m.phone)}<div class="ts">{esc(m.timestamp)}</div>'
            f'<div>{esc(m.sender)} → {esc(m.recipient)}</div>'
            f'<div>language: <b>{esc(language or "?")}</b></div><div class="mid"><small>{ident}</small></div></td>'
            f'<td class="original" lang="{esc(language)}">{original}</td>'
            f'<td class="english">{highlight(english, local, passage.entities if aligned else (), start)}'
            f'{_translation_label(m, translated)}</td></tr>'
        )
    if not rows:
        return f'<pre class="passage">{highlight(passage.text, span)}</pre>'
    return ('<table class="messages" style="width:100%;table-layout:fixed;word-wrap:break-word">'
            '<colgroup><col style="width:34%"><col style="width:33%"><col style="width:33%"></colgroup>'
            "<thead><tr><th>Message</th><th>Original</th><th>English</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def passage_html(citation: Citation, passage: Passage | None) -> str:
    """The side panel for one citation: source, locator, verification and the passage with the quote marked."""
    text = passage.text if passage is not None else citation.text
    hint = citation.quote_start if passage is None or passage.text == citation.text else -1
    span = locate_quote(text, citation.quote, hint)
    status = ('<span class="verified">✓ quote verified in passage</span>' if citation.verified
              else '<span class="unverified">✗ quote NOT verified in passage</span>')
    head = (f'<div class="citation-head"><b>[{citation.n}]</b> <code>{esc(citation.source)}</code> · '
            f"{esc(citation.locator)} · {status}</div>")
    quote = f'<blockquote class="cited-quote">“{esc(citation.quote)}”</blockquote>' if citation.quote else ""
    missing = "" if span else '<div class="warn">The quoted words were not found verbatim in this passage.</div>'
    if passage is not None and passage.kind == "messages":
        body = messages_html(passage, span, citation.quote)
    else:
        shown = passage.entities if passage is not None and passage.text == text else ()
        body = f'<pre class="passage" style="white-space:pre-wrap">{highlight(text, span, shown)}</pre>'
    return f'<div class="passage-panel">{head}{quote}{missing}{body}</div>'


def record_html(record: AuditRecord, review: AuditRecord | None) -> str:
    """A supervisor's view of one answer record with its citations and the latest review."""
    p = record.payload
    cites = "".join(
        f"<li>[{esc(c.get('n'))}] {'✓' if c.get('verified') else '✗ unverified'} "
        f"<code>{esc(c.get('source') or c.get('chunk_id'))}</code> {esc(c.get('locator', ''))}"
        f" — “{esc(c.get('quote', ''))}”{' <i>(' + esc(c['note']) + ')</i>' if c.get('note') else ''}</li>"
        for c in p.get("citations", []) if isinstance(c, dict))
    retrieved = "".join(f"<li><code>{esc(r.get('chunk_id'))}</code> score {esc(r.get('score'))}</li>"
                        for r in p.get("retrieved", []) if isinstance(r, dict))
    status = review.payload.get("decision", "pending") if review else "pending"
    review_line = "pending"
    if review:
        comment = esc(review.payload.get("comment", ""))
        review_line = f"{esc(status)} by {esc(review.user)} at {esc(review.time)}: {comment}"
    answer_text = NOT_FOUND if p.get("status") == "no_evidence" else str(p.get("answer", ""))
    return (f'<div class="audit-record"><div><b>Record {record.seq}</b> · {esc(record.time)} · case '
            f"<code>{esc(record.case)}</code> · asked by <b>{esc(record.user)}</b></div>"
            f"<div>Backend {esc(p.get('backend', ''))}, model <b>{esc(p.get('model') or 'none (extractive)')}</b>, "
            f"prompt <b>{esc(p.get('prompt_version') or 'none')}</b>, status {esc(p.get('status', ''))}</div>"
            f"<h4>Question</h4><p>{esc(p.get('question', ''))}</p>"
            f"<h4>Answer</h4><p>{esc(answer_text)}</p>"
            f"<h4>Citations</h4><ul>{cites or '<li>none</li>'}</ul>"
            f"<details><summary>Retrieved passages</summary><ul>{retrieved}</ul></details>"
            f'<div class="review-status">Review: <b>{review_line}</b></div>'
            f'<div class="hash">hash <code>{esc(record.hash[:16])}…</code></div></div>')
