"""Write the analysis notebooks (``python notebooks/build_notebooks.py``).

The notebooks are thin views over the ``analysis`` package, parameterised for papermill by a
cell tagged ``parameters``. Notebooks 01-04 take one study (``results_dir``, ``n_boot``,
``seed``) and read every table from ``analysis.analyze.analyze`` (the report's single
computation path); 05 takes several studies (``results_dirs``) and aggregates them as tasks.
They are generated here so their code stays a few calls into the package and they share one
header; edit this file, not the .ipynb, and re-run it. Outputs are not stored. No
hyperparameter is named here: axes come from each method's registration in study.json.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

PARAMETERS = '''# Parameters (papermill: -p results_dir results/<study>). A relative path is taken
# from the folder the kernel runs in (the repository root with papermill --cwd .).
results_dir = "results/toy"
n_boot = 1000  # bootstrap replicates (seeds and prompts resampled)
seed = 0'''

LOAD = '''%matplotlib inline
import pandas as pd
from IPython.display import display

from analysis.analyze import analyze
from analysis.load import load_study

pd.set_option("display.width", 200, "display.max_columns", 40)
study = load_study(results_dir)
a = analyze(study, n_boot=n_boot, seed=seed)  # every table of the report, computed once
cs, configs, pal, infos = a.cs, a.configs, a.palette, study.infos
print(f"{study.name}: {len(study.grid)} grid trials = {len(cs.config_ids)} configs x up to "
      f"{cs.max_seeds} seed(s), {len(study.confirm)} confirmation runs, methods "
      f"{study.methods}, {len(study.prompt_ids)} eval prompts, "
      f"SFT mean score {cs.sft_point:.3f}")'''

SEVERAL_PARAMETERS = '''# Parameters (papermill: -p results_dirs '["results/a", "results/b"]').
results_dirs = ["results/toy", "results/toy_seed1"]
n_boot = 1000  # bootstrap replicates (each study's seeds and prompts, within the study)
seed = 0
budget = 3  # trials at which the methods are ranked'''


def header(title: str, text: str, parameters: str = PARAMETERS, load: str = LOAD) -> list:
    params = new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    return [new_markdown_cell(f"# {title}\n\n{text}"), params, new_code_cell(load)]


NOTEBOOKS = {
    "01_expected_performance_and_budget.ipynb": header(
        "Expected performance and budget",
        "How good is a config drawn at random from each method's grid, what does a budget of"
        " n trials buy, and how much of it is seed noise? Formulas: docs/analysis.md.") + [
        new_markdown_cell("## Trials per method\nCounts by status, share of trials at or below "
                          "the SFT model (failed/diverged count as below), IQM and best config, "
                          "with seed-and-prompt bootstrap intervals."),
        new_code_cell("a.performance"),
        new_markdown_cell("## The expected-performance distribution\nOne point per config (the "
                          "mean of its seeds)."),
        new_code_cell("from analysis.figures import plot_performance_distribution\n"
                      "display(plot_performance_distribution(configs, cs.sft_point, cs.floor, "
                      "palette=pal))"),
        new_markdown_cell("## Expected best-of-n\nA trial is one config with one seed. Without "
                          "replacement (exact on a grid) and with replacement; the second plot "
                          "shows the gain over SFT on the same prompts."),
        new_code_cell("from analysis.figures import plot_budget_curves\n"
                      "display(plot_budget_curves(a.curves, cs.sft_point, palette=pal))\n"
                      "display(plot_budget_curves(a.curves_gain, cs.sft_point, palette=pal))"),
        new_code_cell("display(a.budgets)\na.to_beat"),
        new_markdown_cell("## Probability of improvement\nP(a random config of A beats a random "
                          "config of B); `method_b == 'sft'` compares with the SFT model."),
        new_code_cell("a.poi"),
        new_markdown_cell("## Seeds, prompts and hyperparameters\nShare of the variance of one "
                          "trial's mean score from each axis, the training seed, config x seed, "
                          "the generation seed and prompt sampling (random-effects ANOVA), and "
                          "the grid broken down by training seed."),
        new_code_cell("from analysis.figures import plot_variance\n"
                      "display(a.variance)\n"
                      "if a.variance['share'].notna().any():\n"
                      "    display(plot_variance(a.variance, palette=pal))\n"
                      "a.seeds"),
    ],
    "02_length_and_kl.ipynb": header(
        "Length and KL",
        "Response length and drift from the SFT model among each method's top-k% configs (the "
        "paper's Figs. 2, 3, 8, 9). Per-token KL is a ratio of means (sum of KL / sum of "
        "tokens); samples are averaged per prompt.") + [
        new_code_cell("display(a.topk_counts)\na.kl"),
        new_code_cell("from analysis.figures import plot_topk_length, plot_topk_kl\n"
                      "display(plot_topk_length(a.topk_samples, a.topk_counts, palette=pal))\n"
                      "display(plot_topk_kl(a.topk_samples, a.topk_counts, palette=pal))"),
        new_code_cell("a.topk_samples.groupby(['method', 'k'])[['length', 'kl', 'kl_per_token']]"
                      ".median().unstack('k')"),
        new_markdown_cell("## Per-token KL against score, one point per config\nAn association "
                          "across configs: the hyperparameters move KL, length and score "
                          "together."),
        new_code_cell("from analysis.figures import plot_kl_vs_score\n"
                      "from analysis.report.sentences import kl_score_sentence\n"
                      "print(kl_score_sentence(a))\n"
                      "display(plot_kl_vs_score(configs, cs.sft_point, palette=pal))"),
    ],
    "03_head_to_head.ipynb": header(
        "Head-to-head",
        "Per prompt, the methods' best and top-25% configs (selected on the grid) against each "
        "other and the SFT model: win/tie/loss, raw and length-controlled win rates, "
        "Bradley-Terry Elo. A selected config is estimated by its confirmation runs when the "
        "study has them.") + [
        new_code_cell("display(a.representatives)\na.confirmation"),
        new_code_cell("from analysis.report.sentences import lc_note, selection_sentence\n"
                      "print(selection_sentence(a))\nprint(lc_note(a))\n"
                      "display(a.missing)\na.h2h"),
        new_code_cell("a.h2h_table"),
        new_code_cell("from analysis.figures import plot_head_to_head_grid\n"
                      "if len(a.h2h):\n    display(plot_head_to_head_grid(a.h2h, palette=pal))"),
        new_code_cell("a.elo"),
    ],
    "04_hyperparameters_and_recommendations.ipynb": header(
        "Hyperparameters and recommendations",
        "Sensitivity of the score to each hyperparameter axis (read from the methods' "
        "registrations), importance (Optuna PED-ANOVA and fANOVA), and the recommended method, "
        "starting config, search ranges and grid-edge warnings.") + [
        new_code_cell("from analysis.sensitivity import sensitivity_table\n"
                      "for m, ps in a.sensitivity_params.items():\n"
                      "    for p in ps:\n"
                      "        print(pal.label(m), infos[m].axis(p).text)\n"
                      "        display(sensitivity_table(configs, m, p))"),
        new_code_cell("from analysis.figures import plot_sensitivity_param\n"
                      "from analysis.report.figures import sensitivity_axes\n"
                      "for p in sensitivity_axes(a):\n"
                      "    display(plot_sensitivity_param(configs, p, cs.sft_point, cs.floor, "
                      "a.sensitivity_params, palette=pal, infos=infos))"),
        new_code_cell("from analysis.sensitivity import grid_table, top_two_axes\n"
                      "for m in study.methods:\n"
                      "    pair = top_two_axes(a.importances, m, a.grid_axes[m])\n"
                      "    if pair:\n"
                      "        print(pal.label(m), [infos[m].axis(p).text for p in pair])\n"
                      "        display(grid_table(configs, m, *pair))"),
        new_code_cell("from analysis.figures import plot_importances\n"
                      "display(a.importances)\n"
                      "if a.importances['importance'].notna().any():\n"
                      "    display(plot_importances(a.importances, palette=pal, infos=infos))"),
        new_markdown_cell("## Recommendations"),
        new_code_cell("from analysis.report.sentences import edge_sentences\n"
                      "display(a.starts)\n"
                      "display(a.ranges)\n"
                      "for line in edge_sentences(a):\n"
                      "    print(line)\n"
                      "print('start with', a.choice.method, 'at budget', a.choice.budget)\n"
                      "display(a.choice.leaders)\na.choice.comparisons"),
    ],
    "05_several_studies.ipynb": header(
        "Several studies as tasks",
        "Studies that share methods (other datasets, models or toy-world seeds) aggregated the "
        "way rliable aggregates tasks: per-study normalised scores, IQM and probability of "
        "improvement across studies with a stratified bootstrap, and a per-study breakdown.",
        SEVERAL_PARAMETERS,
        '''%matplotlib inline
import pandas as pd
from IPython.display import display

from analysis.aggregate import aggregate
from analysis.load import load_study
from analysis.style import method_palette

pd.set_option("display.width", 200, "display.max_columns", 40)
studies = [load_study(d) for d in results_dirs]
agg = aggregate(studies, n_boot=n_boot, seed=seed, budget=budget)
pal = method_palette([m for s in studies for m in s.methods],
                     {m: lab for s in studies for m, lab in s.labels.items()})
print("shared methods:", agg.methods, "| leader:", agg.leader, "| left out:", agg.left_out)
agg.scales''') + [
        new_code_cell("display(agg.iqm)\ndisplay(agg.best)\nagg.poi"),
        new_code_cell("display(agg.per_study)\nagg.comparisons"),
        new_code_cell("from analysis.figures import plot_aggregate\n"
                      "display(plot_aggregate(agg, palette=pal))"),
    ],
}


def main() -> None:
    for name, cells in NOTEBOOKS.items():
        nb = new_notebook(cells=cells)
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                     "language": "python"}
        nb.metadata["language_info"] = {"name": "python"}
        nbformat.validate(nb)
        nbformat.write(nb, HERE / name)
        print("wrote", HERE / name)


if __name__ == "__main__":
    main()
