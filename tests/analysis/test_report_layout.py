"""The report read as a new user reads it (issue 15): the verdict first, a table of contents
whose links all land, the leaderboard and sample responses, and honest small studies (1, 4 and
24 configs per method): no panel or table shown twice, no empty panel, bins and budgets that
end where the grid ends."""

import hashlib
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from analysis.report import build_report
from analysis.report.__main__ import MIN_N_BOOT, main
from analysis.report.verdict import simulation_parts

N_BOOT = 60
REPO = Path(__file__).resolve().parents[2]
_LR = [3e-7, 6e-7, 1e-6]
# configs per method -> the fixture's grids (the three methods of the quickstart)
GRIDS = {
    1: {"dpo": {"beta": [0.1], "learning_rate": [6e-7], "epochs": [1]},
        "ln_dpo": {"beta": [5.0], "learning_rate": [6e-7], "epochs": [1]},
        "simpo": {"beta": [2.5], "gamma_beta_ratio": [0.5], "learning_rate": [6e-7],
                  "epochs": [1]}},
    4: {"dpo": {"beta": [0.05, 0.1], "learning_rate": [3e-7, 1e-6], "epochs": [1]},
        "ln_dpo": {"beta": [1.0, 5.0], "learning_rate": [3e-7, 1e-6], "epochs": [1]},
        "simpo": {"beta": [2.0, 2.5], "gamma_beta_ratio": [0.5], "learning_rate": [3e-7, 1e-6],
                  "epochs": [1]}},
    24: {"dpo": {"beta": [0.01, 0.05, 0.1, 0.5], "learning_rate": _LR, "epochs": [1, 2]},
         "ln_dpo": {"beta": [1.0, 2.5, 5.0, 10.0], "learning_rate": _LR, "epochs": [1, 2]},
         "simpo": {"beta": [2.0, 2.5], "gamma_beta_ratio": [0.3, 0.8], "learning_rate": _LR,
                   "epochs": [1, 2]}},
}


class _Page(HTMLParser):
    """Ids, in-page links, h2 headings (with their position) and <script src>/<link> tags."""

    def __init__(self):
        super().__init__()
        self.ids, self.links, self.h2, self.external = set(), [], [], []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "a" and a.get("href", "").startswith("#"):
            self.links.append(a["href"][1:])
        if tag in ("script", "img", "link") and (a.get("src") or a.get("href") or "") \
                .startswith(("http:", "https:", "//")):
            self.external.append(a)
        if tag == "h2":
            self._in_h2 = True
            self.h2.append([a.get("id"), ""])

    def handle_endtag(self, tag):
        if tag == "h2":
            self._in_h2 = False

    def handle_data(self, data):
        if self._in_h2:
            self.h2[-1][1] += data


@pytest.fixture(scope="module", params=sorted(GRIDS))
def sized(request, fixture_factory, tmp_path_factory):
    """(configs per method, results folder, report folder)."""
    n = request.param
    root = tmp_path_factory.mktemp(f"sized{n}")
    folder = fixture_factory(root / "study", seed=5, grid=GRIDS[n], n_prompts=60)
    out = build_report(folder, root / "report", n_boot=N_BOOT)
    return n, folder, out


def _page(out) -> _Page:
    p = _Page()
    p.feed((out / "report.html").read_text())
    return p


def test_verdict_toc_leaderboard_samples(sized):
    """Must-hold 1: the verdict before the evidence, a TOC whose every link resolves to an id,
    the leaderboard (sortable, every trial) and the samples section; nothing loaded from the
    network."""
    n, folder, out = sized
    page = _page(out)
    titles = [t.strip() for _, t in page.h2]
    assert titles[0] == "Verdict" and titles[1] == "Contents"
    assert titles.index("Verdict") < titles.index("Recommendation") < titles.index("Budget")
    assert "Leaderboard" in titles and "Sample responses" in titles
    assert len(page.links) >= 10
    assert all(link in page.ids for link in page.links), set(page.links) - page.ids
    # every section after the TOC is linked from it
    assert {i for i, _ in page.h2[2:]} <= set(page.links)
    assert not page.external
    html = (out / "report.html").read_text()
    assert '<div class="verdict">' in html and "<script>" in html
    board = html[html.index('<div class="sortable">'):]
    board = board[:board.index("</table>")]
    import pandas as pd

    trials = pd.read_parquet(folder / "trials.parquet")
    assert board.count("<tr>") == len(trials) + 1  # every trial, plus the header
    for tid in trials["trial_id"]:
        assert tid in board
    md = (out / "report.md").read_text()
    card = md[md.index("## Verdict"):md.index("## Contents")]
    for label in ("Method to start with", "Recommended config", "Expected best at your budget",
                  "Risk of ending at or below SFT", "How sure"):
        assert f"- **{label}" in card
    assert "training noise was not measured" in card  # one seed per config
    samples = md[md.index("## Sample responses"):md.index("## Appendix")]
    assert "| SFT |" in samples and "| SimPO best |" in samples and "| DPO best |" in samples


def test_no_duplicated_or_empty_panel(sized):
    """Must-hold 2: no figure twice, no markdown table twice, no "not computed" panel, no
    top-k bins that select the same configs, no best/top-25% pair that is one config."""
    n, folder, out = sized
    pngs = sorted((out / "figures").glob("*.png"))
    digests = [hashlib.sha256(p.read_bytes()).hexdigest() for p in pngs]
    assert len(set(digests)) == len(digests)
    md = (out / "report.md").read_text()
    tables = re.findall(r"((?:^\|.*\|\n)+)", md, flags=re.M)
    assert len(tables) == len(set(tables))
    if n == 1:  # one config per method: nothing to vary
        assert not any("sensitivity" in p.name or "importance" in p.name for p in pngs)
        assert "| best = top-25% |" in md and "top-25% LC" not in md
        assert "top-25% configs" not in md.split("## Head-to-head")[1].split("##")[0] \
            .split("so it is shown once")[1]
    if n == 4:  # the quickstart's size: every top-k bin is the best config
        assert "Every top-k% bin holds the same configs here (top 1–25%" in md
        assert "| best = top-25% |" in md and "top-25% LC" not in md
        assert "fig6_sensitivity_gamma" not in md  # gamma = 0.5 beta: the beta panel again
        assert "- Importance (ped_anova) not computed for DPO, LN-DPO and SimPO: " in md
    if n == 24:  # the full figures
        assert "from the top 1% to the top 25% configs" in md
        assert "top-25% LC (A wins %)" in md
        assert "fig6_sensitivity_gamma" in md


def test_budgets_end_where_the_grid_ends(sized):
    """The budget table and figure share one scale and one range; the caption quotes only
    budgets on the axis."""
    n, folder, out = sized
    md = (out / "report.md").read_text()
    budget = md[md.index("## Budget"):md.index("## Methods over the grid")]
    shown = sorted({int(x) for x in re.findall(r"best of (\d+)", budget)})
    caption = budget[budget.index("*Expected best-of-n against the budget.*"):]
    caption = caption[:caption.index("\n")]
    quoted = {int(x) for x in re.findall(r"with (\d+) trials?", caption)}
    assert max(quoted) <= n and quoted <= set(shown)
    # the budgets asked for (1, 3, 5, 10) up to the pool, then the pool itself
    assert shown == sorted({b for b in (1, 3, 5, 10) if b <= n} | ({n} if n < 10 else set()))
    if n < 3:  # the decision budget (3) beyond every grid: said, not a column of copies
        assert "Your budget, 3 trials, exceeds every grid" in budget
    assert "Same scale as the table" in caption


def test_rates_change_in_points(sized):
    n, folder, out = sized
    md = (out / "report.md").read_text()
    rel = md[md.index("relative change in %, win rates in percentage points"):]
    rel = rel[:rel.index("\n\n", rel.index("|"))]
    rows = [r for r in rel.splitlines() if r.startswith("| LN-DPO |")]
    cells = rows[0].split(" | ")
    assert any(c.endswith(" pp") for c in cells) and any(c.endswith("%") for c in cells)


def test_simulation_banner_and_relative_paths(results_edge, tmp_path):
    """A study recorded with the toy world's config (the harness's own resolution of
    sweeps/quickstart.yaml) carries the banner; its config's absolute paths print relative to
    the results folder."""
    from harness.config import load_study

    config = load_study(REPO / "sweeps" / "quickstart.yaml").resolved()
    folder = tmp_path / "results" / "toy"
    shutil.copytree(results_edge, folder, ignore=shutil.ignore_patterns("report"))
    meta = json.loads((folder / "study.json").read_text())
    config["results_dir"] = str(tmp_path / "results")
    config["artifacts_dir"] = str(tmp_path / "artifacts")
    meta["config"] = config
    (folder / "study.json").write_text(json.dumps(meta))
    assert simulation_parts(config) == ["world", "train data", "eval data", "SFT model", "judge"]
    out = build_report(folder, None, n_boot=20)
    md = (out / "report.md").read_text()
    assert md.index("**Simulation.**") < md.index("## Verdict")
    assert str(tmp_path) not in md
    assert "results_dir: .." in md and "artifacts_dir: ../../artifacts" in md
    # the fixture's own config records no toy world: no banner
    plain = (build_report(results_edge, tmp_path / "plain", n_boot=20) / "report.md").read_text()
    assert "**Simulation.**" not in plain


@pytest.mark.parametrize("args, message", [
    (["--budget", "0"], "--budget: must be >= 1, got 0"),
    (["--n-boot", "5"], f"--n-boot: must be >= {MIN_N_BOOT}, got 5"),
    (["--n-boot", "many"], "--n-boot: must be an integer"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_argument_bounds(args, message, results_edge, tmp_path, capsys):
    out = tmp_path / "never"
    assert main([str(results_edge), "--out", str(out), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and err.startswith("error: ") and message in err
    assert "usage:" not in err and "Traceback" not in err
    assert not out.exists()  # nothing written


def test_help_is_plain_text(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "--budget" in text and f"at least {MIN_N_BOOT}" in text
    assert "``" not in text and ":func:" not in text


def test_table_cells_in_html():
    """Numbers right-aligned (class num), the interval on its own smaller line, the bold best
    kept bold, text cells untouched, Markdown-only input (no raw HTML needed in tables)."""
    from analysis.report.html import to_html

    md = ("| method | score | trials | config |\n|---|---|---|---|\n"
          "| DPO | **0.872 [0.503, 1.284]** | 3 [2, 4] | β=0.1 |\n"
          "| SimPO | -0.329 [-0.667, -0.034] † | never [never, never] | β=2 |\n")
    html = to_html(md, [], "t")
    assert ('<td class="num"><strong>0.872<span class="ci">[0.503, 1.284]</span></strong></td>'
            in html)
    assert '<td class="num">-0.329 †<span class="ci">[-0.667, -0.034]</span></td>' in html
    assert '<td class="num">3<span class="ci">[2, 4]</span></td>' in html
    assert "<td>DPO</td>" in html and "<td>β=0.1</td>" in html
    assert "<td>never [never, never]</td>" in html  # not a number: left as text


def test_help_and_bad_arguments_load_nothing_heavy():
    """--help and a bad argument answer before pandas or matplotlib is imported (lazy imports:
    the command line answers at once)."""
    import subprocess
    import sys

    code = ("import sys\nfrom analysis.report.__main__ import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "assert main(['x', '--budget', '0']) == 2\n"
            "print(sorted(m for m in ('pandas', 'matplotlib', 'scipy', 'numpy')"
            " if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("[]")
