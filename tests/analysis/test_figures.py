import matplotlib
import pytest
from matplotlib.figure import Figure

from analysis import figures as F
from analysis.analyze import analyze
from analysis.style import FIXED_COLORS, method_palette

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def a(study_edge):
    return analyze(study_edge, n_boot=30, evaluators=["ped_anova"])


@pytest.fixture(scope="module")
def fam(study_family):
    return analyze(study_family, n_boot=20, evaluators=["ped_anova"])


def _texts(fig):
    out = []
    for ax in fig.axes:
        out += [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
        out += [t.get_text() for t in ax.get_xticklabels()]
        if ax.get_legend():
            out += [t.get_text() for t in ax.get_legend().get_texts()]
    return out


def test_single_panel_functions_use_the_given_axes(a):
    fig = Figure()
    ax = fig.subplots()
    assert F.plot_performance_distribution(a.configs, a.cs.sft_point, a.cs.floor, ax=ax) is fig
    fig2 = Figure()
    ax2 = fig2.subplots()
    assert F.plot_budget_curves(a.curves, a.cs.sft_point, ax=ax2) is fig2


def test_every_figure_has_labels_and_units(a):
    infos = a.study.infos
    figs = [
        F.plot_performance_distribution(a.configs, a.cs.sft_point, a.cs.floor),
        F.plot_budget_curves(a.curves_gain, a.cs.sft_point),
        F.plot_topk_length(a.topk_samples, a.topk_counts),
        F.plot_topk_kl(a.topk_samples, a.topk_counts),
        F.plot_kl_vs_score(a.configs, a.cs.sft_point),
        F.plot_sensitivity_param(a.configs, "beta", a.cs.sft_point, a.cs.floor,
                                 a.sensitivity_params, infos=infos),
        F.plot_importances(a.importances, infos=infos),
        F.plot_head_to_head_grid(a.h2h),
        F.plot_variance(a.variance),
    ]
    for fig in figs:
        assert isinstance(fig, Figure)
        panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>" and ax.axison]
        assert panels[0].get_ylabel(), fig  # shared y axes label only the first panel
        for ax in panels:
            assert ax.get_xlabel(), fig
    texts = " ".join(_texts(figs[0]))
    assert "reward units" in texts and "SFT" in texts and "failed" in texts
    assert "tokens" in " ".join(_texts(figs[2]))
    assert "nats/token" in " ".join(_texts(figs[3]))
    assert "trials n" in figs[1].axes[0].get_xlabel()
    assert "β" in " ".join(_texts(figs[5]))  # the registered label, not the column name


def test_one_colour_per_method_everywhere(a):
    pal = a.palette
    fig = F.plot_kl_vs_score(a.configs, a.cs.sft_point, palette=pal)
    ax = fig.axes[0]
    for coll, m in zip(ax.collections, a.study.methods):
        rgba = coll.get_facecolor()[0]
        assert matplotlib.colors.to_hex(rgba[:3]) == pal.color(m).lower()
        assert coll.get_label().startswith(pal.label(m))
    fig = F.plot_budget_curves(a.curves, a.cs.sft_point, palette=pal)
    handles, labels = fig.axes[0].get_legend_handles_labels()
    colours = {}
    for h, label in zip(handles, labels):
        line = h.lines[0] if hasattr(h, "lines") else h  # an errorbar for a single config
        colours[label.split(" (")[0]] = line.get_color()
    for m in a.study.methods:
        assert colours[pal.label(m)] == FIXED_COLORS[m]  # the historical colours stay


def test_palette_has_no_collisions_and_follows_study_order():
    family = ["dpo", "ipo", "ln_dpo", "robust", "simpo", "hinge", "apo_zero", "r_dpo", "dpop",
              "cpo", "orpo", "tau_po", "x1", "x2", "x3", "x4", "x5", "x6", "x7"]
    pal = method_palette(family)
    colours = [pal.color(m) for m in family]
    assert len(set(colours)) == len(colours)
    for m, c in FIXED_COLORS.items():
        assert pal.color(m) == c
    assert method_palette(family).colors == pal.colors  # deterministic
    # the first new method in the study's order gets the first free colour
    assert method_palette(["dpo", "cpo", "ipo"]).color("cpo") == \
        method_palette(["ipo", "cpo"]).color("ipo")


def test_topk_counts_are_written(a):
    fig = F.plot_topk_length(a.topk_samples, a.topk_counts)
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert len(labels) == len(a.topk_counts)
    assert all(t.startswith("n=") for t in labels)


def test_heatmap_values(a):
    fig = F.plot_head_to_head(a.h2h, "best", "lc")
    table = F.win_matrix(a.h2h, "best", "lc")
    shown = sorted(t.get_text() for t in fig.axes[0].texts)
    expected = sorted(f"{v:.0f}" for v in table.to_numpy().ravel() if v == v)
    assert shown == expected


def test_twelve_methods_stay_legible(fam):
    """Eleven family methods and a plug-in: every method in the legends, sensitivity panels
    wrapped in rows of at most four, distinct colours."""
    pal = fam.palette
    assert len(set(pal.colors.values())) == 12
    fig = F.plot_budget_curves(fam.curves_gain, fam.cs.sft_point, palette=pal)
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert all(any(t.startswith(pal.label(m)) for t in legend) for m in fam.study.methods)
    beta = F.plot_sensitivity_param(fam.configs, "beta", fam.cs.sft_point, fam.cs.floor,
                                    fam.sensitivity_params, palette=pal, infos=fam.study.infos)
    n_beta = sum("beta" in p for p in fam.sensitivity_params.values())
    assert n_beta > 4 and len(beta.axes) == 4 * -(-n_beta // 4)
    assert [ax.get_title() for ax in beta.axes if ax.axison] == [
        pal.label(m) for m in fam.study.methods if "beta" in fam.sensitivity_params[m]]
    imp = F.plot_importances(fam.importances, palette=pal, infos=fam.study.infos)
    assert "τ" in [t.get_text() for t in imp.axes[0].get_xticklabels()]


def test_tau_panel_in_the_sensitivity_figure(fam):
    """Must-hold (issue 11, 1): the plug-in's new axis gets its own sensitivity figure."""
    fig = F.plot_sensitivity_param(fam.configs, "tau", fam.cs.sft_point, fam.cs.floor,
                                   fam.sensitivity_params, palette=fam.palette,
                                   infos=fam.study.infos)
    panels = [ax for ax in fig.axes if ax.axison]
    assert [ax.get_title() for ax in panels] == ["τ-PO"]
    assert panels[0].get_xlabel() == "τ"
    assert [t.get_text() for t in panels[0].get_xticklabels()] == ["0.1", "0.3", "1", "3"]
