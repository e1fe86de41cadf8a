"""A guide's Markdown as a tree of sections holding blocks (paragraphs, lists, code, tables).

Parsed with markdown-it-py (CommonMark plus tables), so headings of any depth, emphasis, lists nested or
not, and fenced or indented code come out the same however a guide spells them; nothing here looks at raw
lines except to give each block its line number.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token


@dataclass
class Inline:
    """Text of a paragraph, list item or heading: plain (no markup), its code spans and its bold parts."""

    text: str
    code: list[str] = field(default_factory=list)
    bold: list[str] = field(default_factory=list)
    lead_bold: str | None = None  # bold text that opens the inline, e.g. "Symptoms" in "**Symptoms**:"


@dataclass
class Para:
    inline: Inline
    line: int


@dataclass
class Item:
    """One list item: its first paragraph and whatever else it holds (nested lists, code)."""

    inline: Inline
    blocks: list[Block]
    line: int
    checkbox: bool = False


@dataclass
class ListBlock:
    ordered: bool
    items: list[Item]
    line: int


@dataclass
class Code:
    lang: str
    text: str
    line: int


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    line: int
    source: list[list[str]] = field(default_factory=list)  # the body's cells as written (code spans kept)


Block = Para | ListBlock | Code | Table


@dataclass
class Section:
    """A heading and what follows it up to the next heading of the same or a higher level."""

    level: int
    heading: Inline
    line: int
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)
    parent: Section | None = field(default=None, repr=False)

    @property
    def title(self) -> str:
        return self.heading.text

    def walk(self) -> list[Section]:
        """This section and all below it, in document order."""
        return [self, *(s for child in self.children for s in child.walk())]


def parse(text: str) -> Section:
    """The document as a root section (level 0, no heading) whose children are the top-level headings."""
    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    root = Section(0, Inline(""), 0)
    stack = [root]
    position = 0
    while position < len(tokens):
        token = tokens[position]
        if token.type == "heading_open":
            level = int(token.tag[1:])
            while stack[-1].level >= level:
                stack.pop()
            section = Section(level, _inline(tokens[position + 1]), _line(token), parent=stack[-1])
            stack[-1].children.append(section)
            stack.append(section)
            position += 3
            continue
        block, position = _block(tokens, position)
        if block is not None:
            stack[-1].blocks.append(block)
    return root


def _line(token: Token) -> int:
    return token.map[0] + 1 if token.map else 0


def _block(tokens: list[Token], position: int) -> tuple[Block | None, int]:
    """The block starting at `position` and the index after it (unknown tokens are skipped)."""
    token = tokens[position]
    if token.type == "paragraph_open":
        return Para(_inline(tokens[position + 1]), _line(token)), position + 3
    if token.type in ("fence", "code_block"):
        return Code(token.info.strip().split(" ")[0].lower(), token.content, _line(token)), position + 1
    if token.type in ("bullet_list_open", "ordered_list_open"):
        return _list(tokens, position)
    if token.type == "table_open":
        return _table(tokens, position)
    return None, position + 1


def _list(tokens: list[Token], position: int) -> tuple[ListBlock, int]:
    opening = tokens[position]
    close = opening.type.replace("_open", "_close")
    items: list[Item] = []
    position += 1
    while tokens[position].type != close:
        item_token = tokens[position]
        position += 1
        blocks: list[Block] = []
        while tokens[position].type != "list_item_close":
            block, position = _block(tokens, position)
            if block is not None:
                blocks.append(block)
        position += 1
        first = blocks[0] if blocks else None
        inline = Inline("")
        if isinstance(first, Para):
            inline = first.inline
            blocks.pop(0)
        checkbox = inline.text.startswith(("[ ] ", "[x] ", "[X] "))
        if checkbox:
            inline.text = inline.text[4:]
        items.append(Item(inline, blocks, _line(item_token), checkbox))
    return ListBlock(opening.type.startswith("ordered"), items, _line(opening)), position + 1


def _table(tokens: list[Token], position: int) -> tuple[Table, int]:
    line = _line(tokens[position])
    rows: list[list[str]] = []
    source: list[list[str]] = []
    while tokens[position].type != "table_close":
        token = tokens[position]
        if token.type == "tr_open":
            rows.append([])
            source.append([])
        elif token.type == "inline":
            rows[-1].append(_inline(token).text)
            source[-1].append(token.content)
        position += 1
    header, *body = rows or [[]]
    return Table(header, body, line, source[1:]), position + 1


def _inline(token: Token) -> Inline:
    """Plain text of an inline token: emphasis markers dropped, code spans kept as their text."""
    parts: list[str] = []
    code: list[str] = []
    bold: list[str] = []
    lead_bold: str | None = None
    bold_start: int | None = None  # index in parts where the open bold run began
    for child in token.children or []:
        if child.type == "strong_open":
            bold_start = len(parts)
        elif child.type == "strong_close" and bold_start is not None:
            text = "".join(parts[bold_start:]).strip()
            bold.append(text)
            if lead_bold is None and not "".join(parts[:bold_start]).strip():
                lead_bold = text
            bold_start = None
        elif child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content)
            if child.type == "code_inline":
                code.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return Inline("".join(parts).strip(), code, bold, lead_bold)
