"""Write the four analysis notebooks (``python notebooks/build_notebooks.py``).

The notebooks are thin views over the ``analysis`` package, parameterised for papermill by a
cell tagged ``parameters`` (``results_dir``, ``n_boot``, ``seed``). They are generated here so
their code stays a few calls into the package and all four share one header; edit this file,
not the .ipynb, and re-run it. Outputs are not stored.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

PARAMETERS = '''# Parameters (papermill: -p results_dir results/<study>). A relative path is taken
# from the folder the kernel runs in (the repository root with papermill --cwd .).
results_dir = "results/toy"
n_boot = 1000  # prompt-bootstrap replicates
seed = 0'''

LOAD = '''%matplotlib inline
import pandas as pd
from IPython.display import display

from analysis.load import load_study
from analysis.scores import config_scores
from analysis.performance import config_table

pd.set_option("display.width", 200, "display.max_columns", 40)
study = load_study(results_dir)
cs = config_scores(study, n_boot=n_boot, seed=seed)
configs = config_table(study, cs)
print(f"{study.name}: {len(study.trials)} trials, methods {study.methods}, "
      f"{len(study.prompt_ids)} eval prompts, SFT mean score {cs.sft_point:.3f}")'''


def header(title: str, text: str) -> list:
    params = new_code_cell(PARAMETERS)
    params.metadata["tags"] = ["parameters"]
    return [new_markdown_cell(f"# {title}\n\n{text}"), params, new_code_cell(LOAD)]


NOTEBOOKS = {
    "01_expected_performance_and_budget.ipynb": header(
        "Expected performance and budget",
        "How good is a config drawn at random from each method's grid, and what does a budget of"
        " n trials buy? Formulas: docs/analysis.md.") + [
        new_markdown_cell("## Trials per method\nCounts by status, share at or below the SFT "
                          "model (failed/diverged count as below), IQM and best, with "
                          "prompt-bootstrap intervals."),
        new_code_cell("from analysis.performance import performance_table\n"
                      "performance = performance_table(study, cs)\nperformance"),
        new_markdown_cell("## The expected-performance distribution"),
        new_code_cell("from analysis.figures import plot_performance_distribution\n"
                      "display(plot_performance_distribution(configs, cs.sft_point, cs.floor))"),
        new_markdown_cell("## Expected best-of-n\nWithout replacement (exact on a grid) and with "
                          "replacement; the second plot shows the gain over SFT on the same "
                          "prompts."),
        new_code_cell("from analysis.expected_max import budget_curves\n"
                      "from analysis.figures import plot_budget_curves\n"
                      "display(plot_budget_curves(budget_curves(cs), cs.sft_point))\n"
                      "gain = budget_curves(cs, relative=True)\n"
                      "display(plot_budget_curves(gain, cs.sft_point))"),
        new_code_cell("from analysis.expected_max import budget_table, trials_to_beat_table\n"
                      "display(budget_table(cs, budgets=(1, 3, 5, 10)))\n"
                      "trials_to_beat_table(cs, prob=0.95)"),
        new_markdown_cell("## Probability of improvement\nP(a random config of A beats a random "
                          "config of B); `method_b == 'sft'` compares with the SFT model."),
        new_code_cell("from analysis.poi import poi_table\npoi_table(cs)"),
    ],
    "02_length_and_kl.ipynb": header(
        "Length and KL",
        "Response length and drift from the SFT model among each method's top-k% configs (the "
        "paper's Figs. 2, 3, 8, 9).") + [
        new_code_cell("from analysis.topk import top_k_counts, top_k_samples\n"
                      "counts = top_k_counts(study)\nsamples = top_k_samples(study)\ncounts"),
        new_code_cell("from analysis.figures import plot_topk_length, plot_topk_kl\n"
                      "display(plot_topk_length(samples, counts))\n"
                      "display(plot_topk_kl(samples, counts))"),
        new_code_cell("samples.groupby(['method', 'k'])[['length', 'kl', 'kl_per_token']]"
                      ".median().unstack('k')"),
        new_markdown_cell("## Per-token KL against score, one point per config"),
        new_code_cell("from analysis.figures import plot_kl_vs_score\n"
                      "display(plot_kl_vs_score(configs, cs.sft_point))"),
    ],
    "03_head_to_head.ipynb": header(
        "Head-to-head",
        "Per prompt, the methods' best and top-25% configs against each other and the SFT "
        "model: win/tie/loss, raw and length-controlled win rates, Bradley-Terry Elo.") + [
        new_code_cell("from analysis.topk import representatives\nrepresentatives(study)"),
        new_code_cell("from analysis.headtohead import head_to_head, missing_models\n"
                      "h2h = head_to_head(study, cs)\ndisplay(missing_models(study))\nh2h"),
        new_code_cell("from analysis.tables import head_to_head_table\n"
                      "head_to_head_table(h2h)"),
        new_code_cell("from analysis.figures import plot_head_to_head_grid\n"
                      "if len(h2h):\n    display(plot_head_to_head_grid(h2h))"),
        new_code_cell("from analysis.headtohead import elo_table\n"
                      "elo_table(study, cs) if len(h2h) else None"),
    ],
    "04_hyperparameters_and_recommendations.ipynb": header(
        "Hyperparameters and recommendations",
        "Sensitivity of the score to each hyperparameter, importance (Optuna PED-ANOVA and "
        "fANOVA), and the recommended method, starting config and search ranges.") + [
        new_code_cell("from analysis.sensitivity import sensitivity_params, sensitivity_table\n"
                      "params = {m: sensitivity_params(configs, m) for m in study.methods}\n"
                      "for m, ps in params.items():\n"
                      "    for p in ps:\n"
                      "        print(m, p)\n"
                      "        display(sensitivity_table(configs, m, p))"),
        new_code_cell("from analysis.figures import plot_sensitivity_param\n"
                      "for p in dict.fromkeys(p for ps in params.values() for p in ps):\n"
                      "    display(plot_sensitivity_param(configs, p, cs.sft_point, cs.floor, "
                      "params))"),
        new_code_cell("from analysis.sensitivity import grid_table\n"
                      "for m, ps in params.items():\n"
                      "    if 'beta' in ps and 'learning_rate' in ps:\n"
                      "        print(m)\n"
                      "        display(grid_table(configs, m, 'beta', 'learning_rate'))"),
        new_code_cell("from analysis.importance import importance_table\n"
                      "from analysis.figures import plot_importances\n"
                      "imp = importance_table(study, seed=seed)\n"
                      "display(imp)\n"
                      "if imp['importance'].notna().any():\n"
                      "    display(plot_importances(imp))"),
        new_markdown_cell("## Recommendations"),
        new_code_cell("from analysis.recommend import choose_method, search_ranges, "
                      "start_configs\n"
                      "display(start_configs(configs, cs))\n"
                      "display(search_ranges(configs))\n"
                      "choice = choose_method(cs, budget=3)\n"
                      "print('start with', choice.method, 'at budget', choice.budget)\n"
                      "display(choice.leaders)\nchoice.comparisons"),
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
