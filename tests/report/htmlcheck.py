"""A small HTML structure reader for the report tests (stdlib HTMLParser)."""
from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "track", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str | None]
    sections: tuple[str, ...]   # ids of enclosing <section> elements
    in_svg: bool
    in_table: str | None        # id of the enclosing table


@dataclass
class Page(HTMLParser):
    elements: list[Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    script_texts: list[str] = field(default_factory=list)
    style_texts: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        HTMLParser.__init__(self, convert_charrefs=True)
        self._stack: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        sections = tuple(str(x[1].get("id")) for x in self._stack if x[0] == "section")
        in_svg = any(x[0] == "svg" for x in self._stack) or tag == "svg"
        tables = [x[1].get("id") for x in self._stack if x[0] == "table"]
        self.elements.append(Element(tag, a, sections, in_svg, tables[-1] if tables else None))
        if tag not in VOID:
            self._stack.append((tag, a))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        sections = tuple(str(x[1].get("id")) for x in self._stack if x[0] == "section")
        self.elements.append(Element(tag, a, sections, True, None))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                del self._stack[i:]
                return

    def handle_data(self, data: str) -> None:
        top = self._stack[-1][0] if self._stack else ""
        if top == "script":
            self.script_texts.append(data)
        elif top == "style":
            self.style_texts.append(data)
        else:
            self.text.append(data)

    # -- queries -------------------------------------------------------------------------------
    def tags(self) -> set[str]:
        return {e.tag for e in self.elements}

    def ids(self) -> set[str]:
        return {str(e.attrs["id"]) for e in self.elements if e.attrs.get("id")}

    def links(self) -> list[Element]:
        return [e for e in self.elements if "href" in e.attrs]

    def all_text(self) -> str:
        return "".join(self.text)


def parse(html: str) -> Page:
    p = Page()
    p.feed(html)
    p.close()
    return p
