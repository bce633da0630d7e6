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

PARAMETERS = '''# Parameters (papermill: -p results_dir results/<study>). A relative path is taken from the
# repository root, whether Jupyter runs in the root or in notebooks/; the default is what
# `make quickstart` writes (sweeps/quickstart.yaml: results_dir results, study quickstart).
results_dir = "results/quickstart"
n_boot = 1000  # bootstrap replicates (seeds and prompts resampled)
seed = 0'''

LOAD = '''%matplotlib inline
from IPython.display import display

from analysis.analyze import analyze
from analysis.load import load_study
from analysis.notebook import results_path, show

study = load_study(results_path(results_dir))
a = analyze(study, n_boot=n_boot, seed=seed)  # every table of the report, computed once
cs, configs, pal, infos = a.cs, a.configs, a.palette, study.infos
print(f"{study.name}: {len(study.grid)} grid trials = {len(cs.config_ids)} configs x up to "
      f"{cs.max_seeds} seed(s), {len(study.confirm)} confirmation runs, methods "
      f"{', '.join(pal.label(m) for m in study.methods)}; {len(study.prompt_ids)} eval prompts; "
      f"SFT mean score {cs.sft_point:.3f}")'''

SEVERAL_PARAMETERS = '''# Parameters (papermill: -p results_dirs '["results/a", "results/b"]'). Relative paths are
# taken from the repository root. The default: the quickstart and a second run of it with
# another seed (e.g. `python -m harness.sweep sweeps/quickstart.yaml --set study=quickstart_seed1
# --set grid.seed=[1]`).
results_dirs = ["results/quickstart", "results/quickstart_seed1"]
n_boot = 1000  # bootstrap replicates (each study's seeds and prompts, within the study)
seed = 0
budget = 3  # trials at which the methods are ranked'''


def md(text: str):
    return new_markdown_cell(text)


def code(text: str):
    return new_code_cell(text)


def header(title: str, text: str, parameters: str = PARAMETERS, load: str = LOAD) -> list:
    params = new_code_cell(parameters)
    params.metadata["tags"] = ["parameters"]
    return [md(f"# {title}\n\n{text}"), params, code(load)]


NOTEBOOKS = {
    "01_expected_performance_and_budget.ipynb": header(
        "Expected performance and budget",
        "How good is a config drawn at random from each method's grid, what does a budget of"
        " n trials (or of H hours of compute) buy, and how much of it is seed noise? Formulas:"
        " docs/analysis.md.") + [
        md("## Trials per method\nCounts by status; the share of trials at or below the SFT "
           "model (failed and diverged trials count as below); the IQM of the config scores "
           "and the best config, with seed-and-prompt bootstrap intervals."),
        code("show(a.performance.drop(columns=['median', 'worst_ok', 'best_config_id']), a)"),
        md("## Training curves\nThe training loss and the reward margin per optimiser step, "
           "read from the study's TensorBoard logs (one line per trial; thick: each method's "
           "best config). A falling loss says the preference objective was fitted, not that "
           "the gold score rose: compare with the scores below."),
        code("from analysis.curves import training_curves\n"
             "from analysis.figures.curves import plot_training_curves\n"
             "curves = training_curves(study.path, study.grid['trial_id'],\n"
             "                         tags=('train/loss', 'train/rewards/margins'))\n"
             "if len(curves):\n"
             "    display(plot_training_curves(curves, study.trials, palette=pal,\n"
             "                                 highlight=a.performance['best_trial_id']))\n"
             "else:\n"
             "    print(f'No TensorBoard logs under {study.path / \"tensorboard\"}: the study ran '\n"
             "          'without tracking.report_to: [tensorboard], or its logs were not kept.')"),
        md("## The expected-performance distribution\nOne point per config (the mean of its "
           "seeds), per method, against the SFT model (dashed); failed configs sit at the "
           "failure floor. A method whose cloud sits high and tight is forgiving to tune."),
        code("from analysis.figures import plot_performance_distribution\n"
             "plot_performance_distribution(configs, cs.sft_point, cs.floor, palette=pal)"),
        md("## Expected best-of-n\nThe expected gain over SFT of the best of n trials drawn "
           "at random from the grid (a trial is one config with one seed; solid: without "
           "replacement, with its band; dotted: with replacement). The table gives the same "
           "expected best in absolute score, the risk that all n end at or below SFT, and the "
           "trials needed to beat SFT with 95% probability († n exceeds the grid)."),
        code("from analysis.figures import plot_budget_curves\n"
             "display(plot_budget_curves(a.curves_gain, cs.sft_point, palette=pal))\n"
             "display(show(a.budgets.drop(columns=['n_configs']), a))\n"
             "show(a.to_beat, a, digits={'trials': 0})"),
        md("## Compute as a budget\nTrials differ in cost (a reference-free method skips the "
           "reference model, epochs multiply training time). Here the budget is compute: trials "
           "drawn at random run back to back until the budget is spent, and the best of those "
           "that finish counts (docs/analysis.md, \"Compute as a budget\"). Each curve starts "
           "where every draw finishes at least one trial."),
        code("from analysis.figures.compute import plot_compute_curves\n"
             "c = a.compute\n"
             "if c is None:\n"
             "    print('No trial has a recorded cost (time_total_s or gpu_hours): no compute view.')\n"
             "else:\n"
             "    print(f'costs in {c.unit}; budget {c.budget_hours:.3g} {c.unit}'\n"
             "          + ('' if c.given else f' = {a.options[\"decision_budget\"]} trials at the '\n"
             "             f'median trial cost {c.median_cost:.3g}'))\n"
             "    display(plot_compute_curves(c.curves, cs.sft_point, budget_hours=c.budget_hours,\n"
             "                                palette=pal))\n"
             "    display(show(c.table[['method', 'hours', 'estimate', 'lo', 'hi', 'mean_trials',\n"
             "                          'p_none', 'risk_below', 'risk_below_lo', 'risk_below_hi',\n"
             "                          'n_pool', 'pool_cost']], a, digits={'mean_trials': 1}))"),
        md("## Probability of improvement\nP(a random config of A beats a random config of "
           "B); B = sft compares with the SFT model; 50% means no difference."),
        code("show(a.poi[a.poi['method_a'] != a.poi['method_b']], a)"),
        md("## Seeds, prompts and hyperparameters\nThe share of the variance of one trial's "
           "mean score that comes from each hyperparameter axis, the training seed, config x "
           "seed, the generation seed and prompt sampling (a random-effects ANOVA); then the "
           "grid broken down by training seed."),
        code("from analysis.figures import plot_variance\n"
             "if a.variance['share'].notna().any():\n"
             "    display(plot_variance(a.variance, palette=pal))\n"
             "display(show(a.variance[['method', 'label', 'share', 'sd', 'n_configs', "
             "'n_seeds']], a))\n"
             "for r in a.variance.dropna(subset=['note']).drop_duplicates('method').itertuples():\n"
             "    print(f'{pal.label(r.method)}: {r.note}.')\n"
             "if len(a.seeds):\n"
             "    display(show(a.seeds, a))\n"
             "else:\n"
             "    print('One training seed per config: no breakdown by seed.')"),
    ],
    "02_length_and_kl.ipynb": header(
        "Length and KL",
        "Response length and drift from the SFT model among each method's top-k% configs (the "
        "paper's Figs. 2, 3, 8, 9). Per-token KL is a ratio of means (sum of KL / sum of "
        "tokens); samples are averaged per prompt.") + [
        md("## How many configs each top-k% bin holds, and the KL per method"),
        code("display(show(a.topk_counts, a))\n"
             "show(a.kl, a, digits={'mean_kl': 2, 'kl_per_token': 4, 'mean_kl_sample': 2})"),
        md("## Length of the top-k% configs\nResponse length (tokens) of every sample of the "
           "configs in each top-k% bin. Longer replies among the best configs hint that the "
           "gold score (or the method) rewards length."),
        code("from analysis.figures import plot_topk_length, plot_topk_kl\n"
             "plot_topk_length(a.topk_samples, a.topk_counts, palette=pal)"),
        md("## KL of the top-k% configs\nKL to the SFT model per response and per token: how "
           "far the best configs moved from where they started."),
        code("plot_topk_kl(a.topk_samples, a.topk_counts, palette=pal)"),
        md("## Medians per bin"),
        code("med = (a.topk_samples.groupby(['method', 'k'], sort=False)\n"
             "       [['length', 'kl', 'kl_per_token']].median().reset_index())\n"
             "show(med, a, digits={'length': 1, 'kl': 2, 'kl_per_token': 4})"),
        md("## Per-token KL against score, one point per config\nAn association across "
           "configs, not an effect: the hyperparameters move KL, length and score together."),
        code("from analysis.figures import plot_kl_vs_score\n"
             "from analysis.report.sentences import kl_score_sentence\n"
             "print(kl_score_sentence(a))\n"
             "plot_kl_vs_score(configs, cs.sft_point, palette=pal)"),
    ],
    "03_head_to_head.ipynb": header(
        "Head-to-head",
        "Per prompt, the methods' best and top-25% configs (selected on the grid) against each "
        "other and the SFT model: win/tie/loss, raw and length-controlled win rates, "
        "Bradley-Terry Elo, and what their replies look like. A selected config is estimated "
        "by its confirmation runs when the study has them.") + [
        md("## The representative configs\nbest = rank 1 by grid score; top-25% = the config "
           "at the 75th percentile."),
        code("axes = list(dict.fromkeys(c for i in infos.values() for c in i.names\n"
             "                          if c in a.representatives))\n"
             "display(show(a.representatives[['method', 'role', 'rank', 'n_configs', 'score',\n"
             "                                'n_seeds', 'status'] + axes], a))\n"
             "from analysis.report.sentences import lc_note, selection_sentence\n"
             "print(selection_sentence(a))\n"
             "if a.confirmed:\n"
             "    display(show(a.confirmation.drop(columns=['config_id']), a))\n"
             "if len(a.missing):\n"
             "    print('Left out of the head-to-head (no responses):')\n"
             "    display(show(a.missing, a))"),
        md("## Win rates\nA's wins, ties and losses against B per prompt, the raw win rate "
           "(ties as half) and the length-controlled (LC) win rate, in %, with intervals over "
           "prompts and runs; length balance below 0.1 means one model is longer on almost "
           "every prompt."),
        code("print(lc_note(a))\n"
             "if len(a.h2h):\n"
             "    display(show(a.h2h.drop(columns=['trial_a', 'trial_b', 'source_a', "
             "'source_b']), a, digits={'raw': 1, 'lc': 1, 'length_balance': 2},\n"
             "                 shares=('win', 'tie', 'loss')))\n"
             "else:\n"
             "    print('No pair of representatives has responses: nothing to compare.')"),
        md("## Win-rate matrix\nRow beats column, best configs and top-25% configs."),
        code("from analysis.figures import plot_head_to_head_grid\n"
             "if len(a.h2h):\n"
             "    display(plot_head_to_head_grid(a.h2h, palette=pal))"),
        md("## Bradley-Terry ratings\nOne rating per model from all pairings, SFT anchored at "
           "1000."),
        code("if a.elo is not None:\n"
             "    display(show(a.elo.drop(columns=['trial_id']), a, digits={'elo': 0}))"),
        md("## Sample replies\nThe eval prompts the report shows (the SFT model's lowest, median "
           "and highest score, and the recommended method's largest gain): the SFT model's reply "
           "and each method's best config's, with the gold score and the length in tokens."),
        code("from analysis.notebook import sample_replies\n"
             "models = {'SFT': None}\n"
             "for r in a.performance.itertuples():\n"
             "    if isinstance(r.best_trial_id, str):\n"
             "        models[f'{pal.label(r.method)} best'] = r.best_trial_id\n"
             "show(sample_replies(a, models), a)"),
    ],
    "04_hyperparameters_and_recommendations.ipynb": header(
        "Hyperparameters and recommendations",
        "Sensitivity of the score to each hyperparameter axis (read from the methods' "
        "registrations), importance (Optuna PED-ANOVA and fANOVA), and the recommended method, "
        "starting config, search ranges and grid-edge warnings.") + [
        md("## Score by the value of each axis\nPer method and axis: configs at each value, "
           "their failures, and the mean, median, min and max config score."),
        code("from analysis.sensitivity import sensitivity_table\n"
             "for m, ps in a.sensitivity_params.items():\n"
             "    for p in ps:\n"
             "        print(pal.label(m), infos[m].axis(p).text)\n"
             "        display(show(sensitivity_table(configs, m, p), a))"),
        md("## Sensitivity figures\nConfig score against each axis, one panel per axis, one "
           "colour per method: a flat line means the axis hardly matters within the grid; a "
           "peak at the grid's edge means the grid may be too narrow."),
        code("from analysis.figures import plot_sensitivity_param\n"
             "from analysis.report.figures import sensitivity_axes\n"
             "for p in sensitivity_axes(a):\n"
             "    display(plot_sensitivity_param(configs, p, cs.sft_point, cs.floor, "
             "a.sensitivity_params, palette=pal, infos=infos))"),
        md("## The two most important axes together\nMean config score on the grid of each "
           "method's two most important axes."),
        code("from analysis.sensitivity import grid_table, top_two_axes\n"
             "from analysis.style import fmt_value\n"
             "for m in study.methods:\n"
             "    pair = top_two_axes(a.importances, m, a.grid_axes[m])\n"
             "    if pair:\n"
             "        g = grid_table(configs, m, *pair)\n"
             "        x, y = (infos[m].axis(p).text for p in pair)\n"
             "        g.columns = [f'{y}={fmt_value(v)}' for v in g.columns]\n"
             "        print(pal.label(m))\n"
             "        display(show(g.reset_index(), a, names={pair[0]: x}))"),
        md("## Importance\nThe share of the score's variation each axis explains (PED-ANOVA: "
           "which values are in the top configs; fANOVA: a random-forest decomposition)."),
        code("from analysis.figures import plot_importances\n"
             "if a.importances['importance'].notna().any():\n"
             "    display(plot_importances(a.importances, palette=pal, infos=infos))\n"
             "show(a.importances, a)"),
        md("## Recommendations\nThe method to start with at the decision budget, each "
           "method's robust starting config and the values worth searching, and where the grid "
           "should be extended."),
        code("from analysis.report.sentences import edge_sentences\n"
             "print('start with', pal.label(a.choice.method), 'at a budget of', a.choice.budget,\n"
             "      'trials')\n"
             "display(show(a.choice.comparisons, a))\n"
             "display(show(a.starts.drop(columns=['config_id']), a))\n"
             "display(show(a.ranges, a, axes=('values', 'low', 'high', 'grid_values')))\n"
             "for line in edge_sentences(a):\n"
             "    print(line)"),
    ],
    "05_several_studies.ipynb": header(
        "Several studies as tasks",
        "Studies that share methods (other datasets, models or toy-world seeds) aggregated the "
        "way rliable aggregates tasks: per-study normalised scores, IQM and probability of "
        "improvement across studies with a stratified bootstrap, and a per-study breakdown.",
        SEVERAL_PARAMETERS,
        '''%matplotlib inline
from IPython.display import display

from analysis.aggregate import aggregate
from analysis.load import load_study
from analysis.notebook import results_path, show
from analysis.style import method_palette

studies = [load_study(results_path(d)) for d in results_dirs]
agg = aggregate(studies, n_boot=n_boot, seed=seed, budget=budget)
pal = method_palette([m for s in studies for m in s.methods],
                     {m: lab for s in studies for m, lab in s.labels.items()})
print("shared methods:", agg.methods, "| leader:", agg.leader, "| left out:", agg.left_out)
show(agg.scales, pal)''') + [
        md("## Across studies\nIQM of the normalised scores, the best config, and the "
           "probability of improvement."),
        code("display(show(agg.iqm, pal))\ndisplay(show(agg.best, pal))\n"
             "show(agg.poi[agg.poi['method_a'] != agg.poi['method_b']], pal)"),
        md("## Per study"),
        code("display(show(agg.per_study, pal))\nshow(agg.comparisons, pal)"),
        md("## Aggregate figure\nEach method's aggregate score with its stratified-bootstrap "
           "interval."),
        code("from analysis.figures import plot_aggregate\n"
             "plot_aggregate(agg, palette=pal)"),
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
