"""report.md -> one self-contained report.html (no network: figures inlined, inline CSS and JS).

Markdown is the single source; the HTML adds only presentation, none of it needed to read the
numbers:

- headings get ids (python-markdown's ``toc`` extension, its ``slugify``; ``anchor`` gives the
  same id, so the report's table of contents links to them);
- table cells that hold a number, or ``number [lo, hi]`` (``analysis.fmt.ci``), are right-aligned
  and never wrap, the interval on a smaller second line;
- a table inside ``<div class="sortable">`` sorts by a column when its header is clicked
  (numbers as numbers, text as text; a few lines of inline JavaScript, because the report must
  open offline and no library is linked).
"""

from __future__ import annotations

import base64
import html
import re

import markdown
from markdown.extensions.toc import slugify

from analysis.report.figures import ReportFigure

EXTENSIONS = ["tables", "fenced_code", "md_in_html", "toc"]

CSS = """
body { font-family: system-ui, -apple-system, Segoe UI, sans-serif; max-width: 1320px;
       margin: 1.5em auto; padding: 0 1em; line-height: 1.45; color: #222; }
h1 { font-size: 1.6em; margin-bottom: 0.3em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.15em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.86em;
        display: block; overflow-x: auto; max-width: 100%; }
th, td { border: 1px solid #ccc; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.num .ci { display: block; font-size: 0.82em; color: #666; }
td strong { color: #0b5394; }
img { max-width: 100%; height: auto; }
code, pre { background: #f6f6f6; }
pre { padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
.verdict { border: 2px solid #0173B2; border-radius: 8px; background: #f3f8fc;
           padding: 0.4em 1.2em; margin: 1em 0; }
.verdict ul { padding-left: 1.1em; }
.verdict li { margin: 0.25em 0; }
.banner { border: 2px solid #DE8F05; background: #fff6e6; border-radius: 6px;
          padding: 0.3em 1em; margin: 0.8em 0; }
.toc ul { columns: 2; max-width: 760px; }
.pair { display: flex; flex-wrap: wrap; gap: 1.2em; align-items: flex-start; }
.pair > div { flex: 1 1 520px; min-width: 0; }
.sortable { max-height: 640px; overflow: auto; }
.sortable th { cursor: pointer; position: sticky; top: 0; white-space: nowrap; }
.sortable td { white-space: nowrap; }
.sortable th:after { content: " \\2195"; color: #999; font-size: 0.8em; }
.response { white-space: pre-wrap; max-width: 60ch; }
"""

JS = """
document.querySelectorAll('.sortable table').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var up = th.dataset.dir !== 'asc';
      th.dataset.dir = up ? 'asc' : 'desc';
      var key = function (r) {
        var t = r.cells[col].innerText.trim(), x = parseFloat(t.replace(/[%,]/g, ''));
        return isNaN(x) ? t.toLowerCase() : x;
      };
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var c = (typeof x === typeof y) ? (x < y ? -1 : x > y ? 1 : 0)
                                        : (typeof x === 'number' ? -1 : 1);
        return up ? c : -c;
      });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""

_NUM = r"[-+−]?(?:\d[\d,]*\.?\d*|\.\d+)(?:e[-+]?\d+)?%?"
# a cell that is a number, optionally with " [lo, hi]" and a short tail such as " †" or
# " (3 nbrs)"; optionally bold (the best of its column)
_CELL = re.compile(rf"^(?P<b><strong>)?(?P<est>{_NUM}|-)(?P<ci> \[(?:{_NUM}|-), (?:{_NUM}|-)\])?"
                   rf"(?P<tail>(?: †| \([^()<>]{{1,24}}\))?)(?(b)</strong>)$")
_TD = re.compile(r"<td>(.*?)</td>", re.S)


def anchor(title: str) -> str:
    """The id the HTML gives a heading ``title`` (python-markdown's toc slug)."""
    return slugify(title, "-")


def _cell(match: re.Match) -> str:
    text = match.group(1).strip()
    m = _CELL.match(text)
    if not m:
        return match.group(0)
    est, ci, tail = m.group("est"), m.group("ci") or "", m.group("tail") or ""
    inner = est + tail + (f'<span class="ci">{ci.strip()}</span>' if ci else "")
    if m.group("b"):
        inner = f"<strong>{inner}</strong>"
    return f'<td class="num">{inner}</td>'


def to_html(md_text: str, figures: list[ReportFigure], title: str,
            fig_dir: str = "figures") -> str:
    """Markdown -> one HTML page with every ``fig_dir/<name>.png`` inlined as a data URI."""
    body = markdown.markdown(md_text, extensions=EXTENSIONS,
                             extension_configs={"toc": {"slugify": slugify}})
    for f in figures:
        data = base64.b64encode(f.png).decode("ascii")
        body = body.replace(f'src="{fig_dir}/{f.name}.png"', f'src="data:image/png;base64,{data}"')
    leftover = re.findall(r'src="(?!data:)([^"]+)"', body)
    if leftover:
        raise RuntimeError(f"report.html would link external files: {leftover}")
    body = _TD.sub(_cell, body)
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(title)}</title><style>{CSS}</style></head><body>\n{body}\n"
            f"<script>{JS}</script>\n</body></html>\n")
