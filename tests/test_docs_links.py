"""The README and docs/ link only to files (and headings) that exist, and the README stays a short front door."""
import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
README_MAX_LINES = 350

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target) and ![alt](target), the text allowing one level of nested brackets; target in <...> or bare,
# optionally followed by a "title".
INLINE_LINK = re.compile(
    r"!?\[(?:[^\[\]\\]|\\.|\[[^\[\]]*\])*\]"
    r"\(\s*(<[^>\n]*>|[^\s()<>]+)(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"
)
REFERENCE_DEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*(<[^>\n]*>|\S+)")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def markdown_files():
    return [README] + sorted((ROOT / "docs").rglob("*.md"))


def prose_lines(text, blank_code=True):
    """The lines outside fenced code blocks, with inline code spans blanked out (unless blank_code is false)."""
    fence = None
    for number, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)
                continue
        else:
            closes = m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence)
            if closes and not line.strip().strip(fence[0]):
                fence = None
            continue
        yield number, CODE_SPAN.sub(lambda s: " " * len(s.group(0)), line) if blank_code else line


def links(text):
    """(line number, target) of every inline link, image and reference definition."""
    for number, line in prose_lines(text):
        targets = [m.group(1) for m in INLINE_LINK.finditer(line)]
        m = REFERENCE_DEF.match(line)
        if m:
            targets.append(m.group(1))
        for target in targets:
            if target.startswith("<") and target.endswith(">"):
                target = target[1:-1]
            yield number, target


def slug(heading):
    """GitHub's anchor for a heading: markup dropped, lowercase, punctuation removed, spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links keep their text
    text = unicodedata.normalize("NFC", text.strip().lower())
    text = "".join(c for c in text if c.isalnum() or c in "-_ " or unicodedata.category(c) == "Mn")
    return text.replace(" ", "-")


def anchors(path):
    found, seen = set(), {}
    for _, line in prose_lines(path.read_text(encoding="utf-8"), blank_code=False):
        m = HEADING.match(line)
        if m:
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
    return found


def broken_links(path, root=ROOT):
    problems = []
    for number, target in links(path.read_text(encoding="utf-8")):
        if SCHEME.match(target) or target.startswith("//"):
            continue  # external (https:, mailto:, ...): not checked here
        file_part, _, anchor = target.partition("#")
        file_part = unquote(file_part)
        if file_part.startswith("/"):
            problems.append(f"{path.relative_to(root)}:{number}: {target}: an absolute path, not a relative link")
            continue
        dest = (path.parent / file_part).resolve() if file_part else path
        where = f"{path.relative_to(root)}:{number}: {target}"
        if not dest.exists():
            problems.append(f"{where}: {file_part} does not exist")
            continue
        try:
            dest.relative_to(root)
        except ValueError:
            problems.append(f"{where}: points outside the repository")
            continue
        if anchor and dest.suffix == ".md" and unquote(anchor).lower() not in anchors(dest):
            problems.append(f"{where}: no heading #{anchor} in {dest.relative_to(root)}")
    return problems


@pytest.mark.parametrize("path", markdown_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(path):
    problems = broken_links(path)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_docs_are_found_and_have_links():
    files = markdown_files()
    assert README in files and len(files) > 1
    assert any(True for _ in links(README.read_text(encoding="utf-8")))


def test_readme_is_at_most_350_lines():
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; keep it to {README_MAX_LINES} and move the rest to docs/"


def test_the_link_checker_catches_what_it_should(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "there.md").write_text("# A `code` heading: yes\n\ntext\n", encoding="utf-8")
    page = tmp_path / "page.md"
    page.write_text(
        "[ok](sub/there.md) [ok anchor](sub/there.md#a-code-heading-yes) ![img](sub/there.md \"title\")\n"
        "[missing](sub/nowhere.md) [bad anchor](sub/there.md#nope) [web](https://example.org/x)\n"
        "`[in code](not/checked.md)`\n```\n[in a fence](not/checked.md)\n```\n"
        "[ref]: sub/gone.md\n",
        encoding="utf-8",
    )
    problems = broken_links(page, root=tmp_path)
    assert len(problems) == 3, problems
    assert "sub/nowhere.md" in problems[0] and "#nope" in problems[1] and "sub/gone.md" in problems[2]
