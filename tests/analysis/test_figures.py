import matplotlib
import pytest
from matplotlib.figure import Figure

from analysis import figures as F
from analysis.analyze import analyze
from analysis.style import METHOD_COLORS, method_color, method_label

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def a(study_edge):
    return analyze(study_edge, n_boot=30, evaluators=["ped_anova"])


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
    figs = [
        F.plot_performance_distribution(a.configs, a.cs.sft_point, a.cs.floor),
        F.plot_budget_curves(a.curves_gain, a.cs.sft_point),
        F.plot_topk_length(a.topk_samples, a.topk_counts),
        F.plot_topk_kl(a.topk_samples, a.topk_counts),
        F.plot_kl_vs_score(a.configs, a.cs.sft_point),
        F.plot_sensitivity_param(a.configs, "beta", a.cs.sft_point, a.cs.floor),
        F.plot_importances(a.importances),
        F.plot_head_to_head_grid(a.h2h),
    ]
    for fig in figs:
        assert isinstance(fig, Figure)
        panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
        assert panels[0].get_ylabel(), fig  # shared y axes label only the first panel
        for ax in panels:
            assert ax.get_xlabel(), fig
    texts = " ".join(_texts(figs[0]))
    assert "reward units" in texts and "SFT" in texts and "failed" in texts
    assert "tokens" in " ".join(_texts(figs[2]))
    assert "nats/token" in " ".join(_texts(figs[3]))
    assert "trials n" in figs[1].axes[0].get_xlabel()


def test_one_colour_per_method_everywhere(a):
    fig = F.plot_kl_vs_score(a.configs, a.cs.sft_point)
    ax = fig.axes[0]
    for coll, m in zip(ax.collections, a.study.methods):
        rgba = coll.get_facecolor()[0]
        assert matplotlib.colors.to_hex(rgba[:3]) == method_color(m).lower()
        assert coll.get_label().startswith(method_label(m))
    fig = F.plot_budget_curves(a.curves, a.cs.sft_point)
    handles, labels = fig.axes[0].get_legend_handles_labels()
    colours = {}
    for h, label in zip(handles, labels):
        line = h.lines[0] if hasattr(h, "lines") else h  # an errorbar for a single config
        colours[label.split(" (")[0]] = line.get_color()
    for m in a.study.methods:
        assert colours[method_label(m)] == METHOD_COLORS[m]


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
