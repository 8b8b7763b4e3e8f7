"""The docs hold up: every Python example of README.md and docs/*.md runs as written, every
relative link points at a file (and heading) that exists, and every table a benchmark script
writes has its markers in exactly one page, where ``benchmarks/common.py`` finds them."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```([a-z]*)\n(.*?)^```$", flags=re.S | re.M)


def _examples() -> list[tuple[Path, int, str]]:
    """``(page, line, code)`` of every ```python block, ``line`` its first line in the page."""
    out = []
    for page in PAGES:
        text = page.read_text()
        for m in FENCE.finditer(text):
            if m.group(1) == "python":
                out.append((page, text.count("\n", 0, m.start(2)), m.group(2)))
    return out


EXAMPLES = _examples()


@pytest.mark.parametrize("page, line, code", EXAMPLES,
                         ids=[f"{p.relative_to(ROOT)}:{n + 1}" for p, n, _ in EXAMPLES])
def test_example_runs(page, line, code, tmp_path):
    padded = "\n" * line + code  # so that a traceback's line numbers are the page's
    if "envs_native.register(" not in code:
        exec(compile(padded, str(page), "exec"), {"__name__": "__docs__"})
        return
    # An example that registers an env runs in a child process with a numba cache of its own:
    # the kernels compiled for its env name the example's types in their cache index, which
    # the suite's other processes could not import (docs/design.md, "numba's cache").
    script = tmp_path / page.name.replace(".md", ".py")
    script.write_text(padded)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    res = subprocess.run([sys.executable, str(script)], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=600)
    assert res.returncode == 0, f"{page.name}, the example at line {line + 1}:\n{res.stderr}"


def test_every_page_with_python_has_examples():
    assert {p.name for p, _, _ in EXAMPLES} >= {"README.md", "exactness.md"}


def _prose(text: str) -> str:
    """``text`` without its fenced blocks."""
    return FENCE.sub("", text)


def _anchors(page: Path) -> set[str]:
    """GitHub's heading anchors of ``page``: lower case, punctuation dropped, spaces to hyphens,
    a repeated one numbered."""
    seen: dict[str, int] = {}
    out = set()
    for heading in re.findall(r"^#+ +(.+)$", _prose(page.read_text()), flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        out.add(slug if n == 0 else f"{slug}-{n}")
    return out


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_relative_links_point_at_what_exists(page):
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", _prose(page.read_text())):
        if re.match(r"[a-z]+:", target):  # https:, mailto:
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in _anchors(file)):
            broken.append(target)
    assert not broken, f"{page.name}: broken links {broken}"


def test_no_restructuredtext_double_backticks():
    offenders = [p.name for p in PAGES if "``" in _prose(p.read_text()).replace("```", "")]
    assert not offenders


# --- the generated tables' markers --------------------------------------------------------

sys.path.insert(0, str(ROOT / "benchmarks"))
import common  # noqa: E402  (benchmarks/ is not a package)


def _script_sections() -> set[str]:
    """The sections the benchmark scripts write: their module-level ``*SECTION`` constants."""
    names = set()
    for script in (ROOT / "benchmarks").glob("*.py"):
        for node in ast.parse(script.read_text()).body:
            if not isinstance(node, ast.Assign):
                continue
            for target in node.targets:
                pairs = (zip(target.elts, node.value.elts, strict=True)
                         if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple)
                         else [(target, node.value)])
                for t, v in pairs:
                    if isinstance(t, ast.Name) and t.id.endswith("SECTION") and isinstance(v, ast.Constant):
                        names.add(v.value)
    return names


def test_each_table_a_script_writes_is_in_one_page():
    sections = _script_sections()
    assert len(sections) >= 10
    where = common.section_files(*sorted(sections))  # exits on a missing or repeated block
    assert set(where.values()) <= set(PAGES)
    marked = {m for p in PAGES for m in re.findall(r"<!-- ([\w-]+):begin -->", p.read_text())}
    assert marked == sections  # no block left that no script writes


def test_sections_are_written_where_their_markers_are(tmp_path):
    (tmp_path / "docs").mkdir()
    readme, page = tmp_path / "README.md", tmp_path / "docs" / "page.md"
    readme.write_text("intro\n<!-- a:begin -->\nold a\n<!-- a:end -->\n")
    page.write_text("<!-- b:begin -->\nold b\n<!-- b:end -->\ntail\n")
    files = common.doc_files(tmp_path)
    assert common.section_files("a", "b", files=files) == {"a": readme, "b": page}
    common.replace_sections({"a": "new a", "b": "new b"}, files=files)
    assert readme.read_text() == "intro\n<!-- a:begin -->\nnew a\n<!-- a:end -->\n"
    assert page.read_text() == "<!-- b:begin -->\nnew b\n<!-- b:end -->\ntail\n"


def test_a_missing_or_repeated_section_writes_nothing(tmp_path):
    (tmp_path / "docs").mkdir()
    readme, page = tmp_path / "README.md", tmp_path / "docs" / "page.md"
    readme.write_text("<!-- a:begin -->\nold\n<!-- a:end -->\n")
    page.write_text("<!-- a:begin -->\nold\n<!-- a:end -->\n")
    files = common.doc_files(tmp_path)
    with pytest.raises(SystemExit, match="more than once"):
        common.replace_sections({"a": "new"}, files=files)
    with pytest.raises(SystemExit, match="no <!-- c:begin -->"):
        common.replace_sections({"c": "new"}, files=files)
    assert readme.read_text() == page.read_text() == "<!-- a:begin -->\nold\n<!-- a:end -->\n"
