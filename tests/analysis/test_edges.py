from analysis.analyze import analyze
from analysis.load import load_study

GRID = {"beta": [0.01, 0.1, 1.0], "learning_rate": [1e-7, 1e-6, 1e-5]}
QUIET = dict(seeds=(0, 1), n_prompts=50, seed_var=0.001, interaction_var=0.001, noise_var=0.05,
             axis_var={"beta": 0.5, "learning_rate": 0.5})


def _analysis(component_factory, path, shapes):
    p, _ = component_factory(path, axes=GRID, axis_shapes=shapes, **QUIET)
    return analyze(load_study(p), n_boot=20, evaluators=["ped_anova"])


def test_fires_when_the_best_config_is_on_an_edge(component_factory, tmp_path):
    """Must-hold 6: the best config at the largest beta of its grid gets a warning."""
    a = _analysis(component_factory, tmp_path / "edge",
                  {"beta": [0.0, 0.5, 1.0], "learning_rate": [0.0, 1.0, 0.0]})
    best = a.representatives[a.representatives["role"] == "best"].iloc[0]
    assert best["beta"] == 1.0 and best["learning_rate"] == 1e-6
    e = a.edges
    assert list(e["axis"]) == ["beta"] and e["side"].iloc[0] == "highest"
    assert "best" in e["which"].iloc[0]
    assert e["advice"].iloc[0] == "extend beta above 1"


def test_silent_when_the_best_config_is_inside(component_factory, tmp_path):
    """Must-hold 6: the same study with its optimum inside the grid gets no warning."""
    a = _analysis(component_factory, tmp_path / "inside",
                  {"beta": [0.0, 1.0, 0.2], "learning_rate": [0.0, 1.0, 0.0]})
    best = a.representatives[a.representatives["role"] == "best"].iloc[0]
    assert (best["beta"], best["learning_rate"]) == (0.1, 1e-6)
    assert a.edges.empty


def test_two_value_axes_never_warn(study_edge):
    """With two values every config sits on an edge: no warning for such axes."""
    a = analyze(study_edge, n_boot=20, evaluators=["ped_anova"])
    for r in a.edges.itertuples():
        assert len(r.grid_values) >= 3


def test_report_states_the_warning(component_factory, tmp_path):
    from analysis.report import write_report

    a = _analysis(component_factory, tmp_path / "edge2",
                  {"beta": [0.0, 0.5, 1.0], "learning_rate": [0.0, 1.0, 0.0]})
    md = (write_report(a, tmp_path / "rep") / "report.md").read_text()
    warnings = [line for line in md.splitlines() if line.startswith("**Grid edge:**")]
    assert len(warnings) == 1 and "extend beta above 1" in warnings[0]
