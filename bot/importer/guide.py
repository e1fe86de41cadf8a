"""A troubleshooting guide read into issue entries (symptoms, diagnosis, solutions...) and general sections.

An issue entry is a heading marked `Issue:` (bold or not), or a heading whose own text has a "Symptom(s)"
label (`**Symptoms**:`, `**Symptom:** ...`, or a sub-heading "Symptoms"). Labels split the entry into
parts; a label this module does not know ("Quick Fix (Immediate)", "For 5xx Errors") names a group of
steps inside the current part. Sections that are not entries are "general" and classified by their
headings (diagnostic, escalation, contacts, severity, emergency...) for the triage playbook and the
config snippet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from bot.importer import codeblocks
from bot.importer.markdown import Block, Code, Inline, Item, ListBlock, Para, Section, Table, parse
from bot.importer.text import repair_mojibake, squash, strip_decoration, without_issue_prefix


class Part(StrEnum):
    SYMPTOMS = "symptoms"
    DIAGNOSIS = "diagnosis"
    SOLUTIONS = "solutions"
    CAUSES = "causes"
    PREVENTION = "prevention"


# Label words -> part, first match wins ("Diagnosis Steps", "Possible Causes", "Long-term Fix" ...).
_LABELS: list[tuple[re.Pattern[str], Part]] = [
    (
        re.compile(r"^symptoms?\b|^signs?\b|^error\b|^what (?:you|users|customers|people) (?:see|notice)"),
        Part.SYMPTOMS,
    ),
    (re.compile(r"diagnos|investigat|troubleshoot|^how to check|^checks?$"), Part.DIAGNOSIS),
    (re.compile(r"cause|possible issues|common issues|^why\b"), Part.CAUSES),
    (re.compile(r"prevent"), Part.PREVENTION),
    (
        re.compile(r"solution|^fix|resolution|remed|workaround|^steps? to (fix|resolve)|^what to do"),
        Part.SOLUTIONS,
    ),
]


@dataclass
class Step:
    """One thing the guide says to do: a command (verbatim) or a sentence, with its title."""

    part: Part
    title: str
    command: str | None
    lang: str  # shell | sql | text | python | yaml | ... ("text" with no command: a sentence)
    note: str | None
    line: int
    group: str | None = None  # the unknown label above it, e.g. "Quick Fix (Immediate)"


@dataclass
class Entry:
    heading: str  # as the guide writes it, without markup and "Issue:" prefix
    line: int
    group: str = ""  # the heading above it, e.g. "Application Won't Start"
    symptoms: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # output samples and error lines shown in blocks
    steps: list[Step] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)
    prevention: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)  # every sentence, for signals (quoted errors, alerts)


@dataclass
class General:
    """A section that is not an issue entry, with what it is for."""

    kind: str  # diagnostic | emergency | escalation | contacts | severity | other
    heading: str
    line: int
    section: Section


@dataclass
class Guide:
    title: str
    entries: list[Entry]
    general: list[General]
    repaired_characters: int  # mis-encoded characters that could not be saved and were dropped
    mojibake_fixed: bool
    code: list[Code] = field(default_factory=list)  # every code block, for what is defined once (alert rules)


# General sections by heading words; a section inherits its parent's kind unless its own heading says more.
_GENERAL: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"severity|\bsev\b"), "severity"),
    (re.compile(r"escalat"), "escalation"),
    (re.compile(r"contact|getting help|support|self-service"), "contacts"),
    (re.compile(r"emergency|recovery|rollback|roll back"), "emergency"),
    (
        re.compile(
            r"diagnos|debug|health|status|troubleshooting approach|gather|isolate|recent changes|"
            r"useful commands|log analysis|check|quick|monitoring dashboard"
        ),
        "diagnostic",
    ),
]


def read_guide(markdown: str) -> Guide:
    """Parse a guide's Markdown (mis-encoded UTF-8 repaired first) into entries and general sections."""
    repaired, lost = repair_mojibake(markdown)
    root = parse(repaired)
    sections = root.walk()[1:]
    title = next((strip_decoration(s.title) for s in sections if s.level == 1), "")
    entries: list[Entry] = []
    entry_sections: set[int] = set()
    for section in sections:
        if any(id(a) in entry_sections for a in _ancestors(section)):
            continue
        if _is_entry(section):
            entries.append(_entry(section))
            entry_sections.add(id(section))
        elif rows := _table_entries(section):
            entries += rows
            entry_sections.add(id(section))
    general = [
        General(_general_kind(s), strip_decoration(s.title), s.line, s)
        for s in sections
        if id(s) not in entry_sections
        and not any(id(a) in entry_sections for a in _ancestors(s))
        and not _holds_entries(s, entry_sections)
    ]
    code = [b for s in sections for b in _code_blocks(s.blocks)]
    return Guide(title, entries, general, lost, repaired != markdown, code)


def _code_blocks(blocks: list[Block]) -> list[Code]:
    """The code blocks among these, and inside their list items."""
    found: list[Code] = []
    for block in blocks:
        if isinstance(block, Code):
            found.append(block)
        elif isinstance(block, ListBlock):
            found += _code_blocks([b for item in block.items for b in item.blocks])
    return found


def _ancestors(section: Section) -> list[Section]:
    out = []
    while section.parent is not None:
        section = section.parent
        out.append(section)
    return out


def _holds_entries(section: Section, entry_ids: set[int]) -> bool:
    return any(id(s) in entry_ids for s in section.walk()[1:])


_PLAIN_LABEL = re.compile(r"([A-Za-z][A-Za-z ()/-]{0,40}?)\s*:(?:\s+|$)")


def label_of(inline: Inline) -> tuple[str, str] | None:
    """('Symptoms', rest) for a paragraph that opens with a bold label and a colon, else None. A plain label
    ("Symptoms:", "How to check:", "Fix: ...") counts when it names a part: runbooks are not all bold."""
    if inline.lead_bold is None:
        plain = _PLAIN_LABEL.match(inline.text)
        if plain is None or len(plain.group(1).split()) > 4 or plain.group(1).lower().startswith("error"):
            return None  # "Error: connection refused" is a quoted error, not a label
        return (plain.group(1), inline.text[plain.end() :].strip()) if part_of(plain.group(1)) else None
    after = inline.text[inline.text.find(inline.lead_bold) + len(inline.lead_bold) :]
    label = inline.lead_bold
    if label.endswith(":"):
        return label[:-1].strip(), after.strip()
    if after.lstrip().startswith(":"):
        return label.strip(), after.lstrip()[1:].strip()
    return None


def part_of(label: str) -> Part | None:
    lowered = label.lower().strip()
    return next((part for pattern, part in _LABELS if pattern.search(lowered)), None)


def _is_entry(section: Section) -> bool:
    if without_issue_prefix(strip_decoration(section.title))[1]:
        return True
    has_children_labels = bool(section.children) and all(part_of(c.title) for c in section.children)
    if has_children_labels and any(part_of(c.title) is Part.SYMPTOMS for c in section.children):
        return True
    return any(
        isinstance(b, Para) and (lab := label_of(b.inline)) and part_of(lab[0]) is Part.SYMPTOMS
        for b in section.blocks
    )


_TABLE_LABELS = {Part.SYMPTOMS: "Symptoms", Part.DIAGNOSIS: "Diagnosis", Part.CAUSES: "Causes",
                 Part.SOLUTIONS: "Solutions", Part.PREVENTION: "Prevention"}  # fmt: skip


def _table_entries(section: Section) -> list[Entry]:
    """A troubleshooting table (| Symptom | Check | Cause | Fix |): one entry per row, read as if each row were
    written out with its labels ("**Symptoms:** ...", "**Solutions:** ..."), so its commands become steps."""
    entries = []
    for table in (b for b in section.blocks if isinstance(b, Table)):
        parts = [part_of(h) for h in table.header]
        if Part.SYMPTOMS not in parts or Part.SOLUTIONS not in parts:
            continue
        symptom = parts.index(Part.SYMPTOMS)
        for n, cells in enumerate(table.source):
            if symptom >= len(cells) or not cells[symptom].strip():
                continue
            labelled = [f"**{_TABLE_LABELS[part]}:** {cell}" for part, cell in zip(parts, cells, strict=False)
                        if part is not None and cell.strip()]  # fmt: skip
            row = parse("\n\n".join([f"### {table.rows[n][symptom]}", *labelled])).children[0]
            entry = _entry(row)
            entry.line, entry.group = table.line + 2 + n, strip_decoration(section.title)
            for step in entry.steps:
                step.line = entry.line  # the row's line in the guide, not the written-out one's
            entries.append(entry)
    return entries


def _general_kind(section: Section) -> str:
    node: Section | None = section
    while node is not None and node.level > 0:
        heading = strip_decoration(node.title).lower()
        kind = next((k for pattern, k in _GENERAL if pattern.search(heading)), None)
        if kind:
            return kind
        node = node.parent
    return "other"


def _entry(section: Section) -> Entry:
    heading, _ = without_issue_prefix(strip_decoration(section.title))  # "🔥 3. Issue: X" -> "X"
    parent = strip_decoration(section.parent.title) if section.parent else ""
    entry = Entry(squash(heading), section.line, parent)
    reader = _PartReader(entry)
    for block in section.blocks:
        reader.block(block)
    for child in section.children:  # "#### Symptoms" style sub-headings
        reader.switch(part_of(child.title) or reader.part or Part.SYMPTOMS, None)
        for block in child.blocks:
            reader.block(block)
    reader.finish()
    return entry


def steps_of(general: General, part: Part) -> list[Step]:
    """The steps of a general section (and its sub-sections), read as one part of an entry."""
    entry = Entry(general.heading, general.line)
    reader = _PartReader(entry)
    reader.switch(part, None)
    for block in general.section.blocks:
        reader.block(block)
    reader.finish()
    return entry.steps


class _PartReader:
    """Walks an entry's blocks, switching parts at labels and turning blocks into symptoms and steps."""

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
        self.part: Part | None = None  # None before the first label: shown errors count as symptoms
        self.group: str | None = None
        self.pending: tuple[str, int] | None = None  # "1. **Check current metrics**:" awaiting its code
        self.lead: list[str] = []
        self.last_item: str | None = None  # "OOM Kills" in causes, named by a following "**Solution**: ..."

    def switch(self, part: Part, group: str | None) -> None:
        self.flush()
        self.part, self.group = part, group

    def block(self, block: Block) -> None:
        if isinstance(block, Para):
            self.paragraph(block)
        elif isinstance(block, ListBlock):
            for item in block.items:
                self.item(item)
        elif isinstance(block, Code):
            self.code(block, self.take_pending())
        elif isinstance(block, Table):
            self.entry.text += [" | ".join(row) for row in block.rows]

    def paragraph(self, para: Para) -> None:
        text = para.inline.text
        self.entry.text.append(text)
        label = label_of(para.inline)
        if label:
            name, rest = label
            part = part_of(name)
            if part is not None and not rest:
                self.switch(part, None)
                return
            if part is not None:  # "**Symptom**: API responses are slow" - one line of that part
                self.flush()
                about = self.last_item if self.part is Part.CAUSES else self.group
                if not self.inline_commands(part, para, rest, about):
                    self.add_text(part, rest, para.line, title=about)
                return
            self.flush()
            self.group = name  # "**Quick Fix (Immediate)**:" - a group inside the current part
            if rest:
                self.add_text(self.part or Part.SYMPTOMS, rest, para.line)
            return
        if text.endswith(":"):
            self.flush()
            self.pending = (text[:-1].strip(), para.line)
            return
        self.flush()
        if not self.inline_commands(self.part, para, text, self.group):
            self.add_text(self.part or Part.SYMPTOMS, text, para.line)

    def inline_commands(self, part: Part | None, para: Para, text: str, group: str | None) -> bool:
        """Steps for the commands in a sentence's code spans ("**Fix**: warm it: `gcloud run ...`"); False if none."""
        commands = [c for c in para.inline.code if codeblocks.is_shell(c)]
        if part not in (Part.DIAGNOSIS, Part.SOLUTIONS) or not commands:
            return False
        title = squash(text.split(commands[0])[0]).rstrip(" :") or _derived_title(commands[0])
        for command in commands:
            self.add_step(Step(part, title, command, "shell", None, para.line, group))
        return True

    def item(self, item: Item) -> None:
        text = item.inline.text
        self.entry.text.append(text)
        self.flush()
        title, note = _title_and_note(item.inline)
        self.last_item = title
        commands = [c for c in item.inline.code if codeblocks.is_shell(c)]
        part = self.part or Part.SYMPTOMS
        nested_code = [b for b in item.blocks if isinstance(b, Code)]
        nested_text = [
            squash(i.inline.text) for b in item.blocks if isinstance(b, ListBlock) for i in b.items
        ]
        nested_text += [squash(b.inline.text) for b in item.blocks if isinstance(b, Para)]
        self.entry.text += nested_text
        if part in (Part.SYMPTOMS, Part.CAUSES, Part.PREVENTION):
            self.add_text(part, text, item.line)
            if part is not Part.SYMPTOMS:
                getattr(self.entry, part.value).extend(nested_text)
            for code in nested_code:
                self.code(code, (title, item.line))
            return
        queries = [c for c in item.inline.code if part is Part.DIAGNOSIS and codeblocks.is_promql(c)]
        for command in commands:
            self.add_step(Step(part, title, command, "shell", None, item.line, self.group))
        for query in queries:  # "- Queue depth: `sum(rabbitmq_queue_messages{queue="index"})`"
            self.add_step(Step(part, title, query, "promql", None, item.line, self.group))
        commands += queries
        if nested_code:
            for code in nested_code:
                self.code(code, (title, item.line), note="; ".join(nested_text) or None)
        elif not commands and text.endswith(":") and not nested_text:
            self.pending = (title, item.line)
        elif not commands:
            joined = "; ".join(part for part in [note, *nested_text] if part) or None
            self.add_step(Step(part, title, None, "text", joined, item.line, self.group))

    def code(self, block: Code, titled: tuple[str, int] | None, note: str | None = None) -> None:
        part = self.part
        commands = codeblocks.split(block.lang, block.text, block.line)
        if part in (None, Part.SYMPTOMS, Part.CAUSES) and all(c.lang == "text" for c in commands):
            lines = [ln.strip() for ln in block.text.splitlines() if ln.strip()]
            self.entry.evidence += lines
            if part is None or part is Part.SYMPTOMS:
                self.lead += lines
            return
        step_part = part if part in (Part.DIAGNOSIS, Part.SOLUTIONS) else Part.DIAGNOSIS
        for index, command in enumerate(commands):
            own = command.title if command.title and len(command.title.split()) > 1 else None
            title = own or (titled[0] if titled else None) or command.title or _derived_title(command.text)
            step_note = command.note or (note if index == 0 else None)
            text = command.text or None
            self.add_step(Step(step_part, title, text, command.lang, step_note, command.line, self.group))

    def take_pending(self) -> tuple[str, int] | None:
        pending, self.pending = self.pending, None
        return pending

    def flush(self) -> None:
        """A sentence that ended with ':' but had no code after it is a step of its own."""
        if self.pending is not None:
            title, line = self.pending
            self.pending = None
            self.add_text(self.part or Part.SYMPTOMS, title, line)

    def add_text(self, part: Part, text: str, line: int, title: str | None = None) -> None:
        text = squash(text)
        if not text:
            return
        if part is Part.SYMPTOMS:
            self.entry.symptoms.append(text)
        elif part in (Part.CAUSES, Part.PREVENTION):
            getattr(self.entry, part.value).append(text.rstrip(":"))
        else:
            heading = f"{title}: {text}" if title else text
            self.add_step(Step(part, heading, None, "text", None, line, self.group))

    def add_step(self, step: Step) -> None:
        self.entry.steps.append(step)

    def finish(self) -> None:
        self.flush()
        if not self.entry.symptoms:  # "#### Issue: X" then the error it shows, no Symptoms label
            self.entry.symptoms = list(self.lead)


def _title_and_note(inline: Inline) -> tuple[str, str | None]:
    """'**Scale horizontally**: `kubectl scale ...`' -> ('Scale horizontally', None); plain text -> (text, None)."""
    label = label_of(inline)
    if label:
        name, rest = label
        if rest and all(c in rest for c in inline.code) and rest.strip() in {c.strip() for c in inline.code}:
            return name, None
        return name, rest or None
    text = inline.text.rstrip(":").strip()
    return text, None


def _derived_title(command: str) -> str:
    words = command.split()
    return " ".join(words[:4]) if words else "Step"
