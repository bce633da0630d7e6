"""The study: every section validated together, cross-checked, hashed (docs/config.md).

``load_study(path, overrides)`` reads the YAML, applies ``--set`` overrides, validates, and
raises one :class:`~harness.config.errors.ConfigError` listing every problem.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Sequence

from pydantic import Field, ValidationError, field_validator, model_validator

from harness.config.errors import ConfigError, describe, format_loc, line_error, raise_errors, suggest
from harness.config.loader import apply_override, parse_override, parse_yaml
from harness.config.sections import (
    DataConfig,
    GenerationConfig,
    PolicyConfig,
    RayConfig,
    ResourcesConfig,
    SaveConfig,
    Section,
    TrackingConfig,
    TrainingConfig,
    check_axis,
    check_grid,
    data_source,
    full_options,
    judge_source,
    missing_local,
    normalised,
    shared_check,
    world_options,
)
from harness.io import hash_json
from harness.objectives import OBJECTIVES, SEED, SHARED_AXES, HyperparameterError, Objective
from harness.plugins import PluginError, import_plugins
from harness.worlds import world_names

TOYWORLD = "toyworld"
"""The toy world's section: a world plug-in (:mod:`harness.worlds`) registered under this name.
Its options model validates the section; ``policy.model`` and a data adapter of the same name
select the built world's SFT policy and data."""

# The top-level sections that configure a world plug-in, each named after its registered world.
WORLD_SECTIONS = (TOYWORLD,)

MAX_STUDY_NAME = 100
MAX_YAML_BYTES = 1 << 20  # a study file is a few kB; a larger one is a mistake or an attack

# The sections whose values change what a trial produces: they enter every trial id. Everything
# else (study name, results_dir, artifacts_dir, resources, ray, save, tracking) is bookkeeping.
RESULT_SECTIONS = ("toyworld", "data", "policy", "judge", "generation", "training")


class Study(Section):
    """One validated study. ``methods`` maps a method name to its axes, each a list of values.

    ``plugins`` is validated first (fields validate in order): its modules are imported before
    ``methods``, ``data`` or ``judge`` look their names up, so their registrations count.
    """

    plugins: list[str] = Field(default_factory=list)
    # A folder name under results_dir and artifacts_dir/studies: short enough for any filesystem
    study: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$", max_length=MAX_STUDY_NAME)
    results_dir: Path = Field(Path("results"), validate_default=True)
    artifacts_dir: Path = Field(Path("artifacts"), validate_default=True)
    toyworld: Any = None  # the toyworld world's options (validated by its registration)
    data: DataConfig
    policy: PolicyConfig
    judge: dict[str, Any]
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    grid: dict[str, list] = Field(default_factory=dict)
    methods: dict[str, dict[str, Any]]
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    ray: RayConfig = Field(default_factory=RayConfig)
    save: SaveConfig = Field(default_factory=SaveConfig)  # policies kept (harness.keep)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)  # harness.tracking

    @field_validator("plugins", mode="before")
    @classmethod
    def _plugins(cls, value: Any) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise_errors("plugins", [line_error((), "must be a list of module names", value)])
        lines = []
        for i, name in enumerate(value):
            try:
                import_plugins([name])
            except PluginError as e:
                lines.append(line_error((i,), f"cannot import module {name!r}: {e.reason}"))
        raise_errors("plugins", lines)
        return value

    @field_validator("grid", mode="before")
    @classmethod
    def _grid(cls, value: Any) -> dict[str, list]:
        return check_grid(value)

    @field_validator("results_dir", "artifacts_dir")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        # Relative paths resolve against the current directory now, before Ray moves workers.
        return value.expanduser().resolve()

    @field_validator(*WORLD_SECTIONS)
    @classmethod
    def _world(cls, value: Any, info) -> Any:
        return None if value is None else world_options(info.field_name, value)

    @field_validator("judge")
    @classmethod
    def _judge(cls, value: dict) -> dict:
        spec, options = judge_source(value)
        raise_errors("judge", missing_local(("model",), getattr(options, "model", None)))
        return normalised("name", spec.name, options)

    @field_validator("methods", mode="before")
    @classmethod
    def _methods(cls, value: Any) -> dict[str, dict[str, list]]:
        available = ", ".join(OBJECTIVES.names())
        if not value or not isinstance(value, dict):
            raise_errors("methods", [line_error((), f"name at least one method ({available})", value)])
        lines, out = [], {}
        for name, axes in value.items():
            if name not in OBJECTIVES:
                lines.append(line_error((name,), "unknown method" + suggest(name, OBJECTIVES.names()), name))
                continue
            if axes is None:
                axes = {}
            if not isinstance(axes, dict):
                lines.append(line_error((name,), "must be a mapping of hyperparameter lists", axes))
                continue
            objective = OBJECTIVES[name]
            own = {a.name: a for a in objective.axes}
            checked = {}
            for key, values in axes.items():
                check = (lambda v, a=own[key]: a.validate(v, name)) if key in own else shared_check(key, name)
                if check is None:
                    allowed = tuple(own) + SHARED_AXES.names() + (SEED,)
                    message = f"not a hyperparameter of {name}" + suggest(key, allowed)
                    lines.append(line_error((name, key), message, values))
                    continue
                norm, bad = check_axis(values, check, (name, key))
                lines += bad
                if not bad:
                    checked[key] = norm
            lines += _method_shape(objective, axes, checked)
            out[name] = checked
        raise_errors("methods", lines)
        return out

    @model_validator(mode="after")
    def _cross_checks(self) -> "Study":
        lines = []
        worlds = set(world_names())
        sources = [(("policy", "model"), self.policy.model)]
        sources += [(("data", kind, "adapter"), getattr(self.data, kind)["adapter"])
                    for kind in ("train", "eval")]
        for loc, name in sources:
            if name in worlds and self.world_sections().get(name) is None:
                lines.append(line_error(loc, f"needs a {name}: section", name))
        for name, axes in self.methods.items():
            for key, axis in SHARED_AXES.items():
                if key not in axes and key not in self.grid and axis.default is None:
                    message = f"no values: set grid.{key} or methods.{name}.{key}"
                    lines.append(line_error(("methods", name, key), message))
        raise_errors("Study", lines)
        return self

    # -- derived views --

    def world_sections(self) -> dict[str, Any]:
        """``{world name: its validated options}`` for every world section the study sets."""
        return {name: getattr(self, name) for name in WORLD_SECTIONS
                if getattr(self, name) is not None}

    @property
    def results_path(self) -> Path:
        """``<results_dir>/<study>/``: where this study's tables go."""
        return self.results_dir / self.study

    def axes(self, method: str) -> dict[str, list]:
        """The axes of ``method``'s grid: its own hyperparameters given or with a registered
        default (registration order), then every shared axis (the method's list, else
        ``grid:``'s, else the axis's default). Derived axes (an axis with ``derived_from``) are
        not here: they are computed per trial (:func:`harness.grid.expand`)."""
        own = self.methods[method]
        out = {}
        for axis in OBJECTIVES[method].axes:
            if axis.name in own:
                out[axis.name] = own[axis.name]
            elif axis.default is not None and axis.required and not axis.derived_from:
                out[axis.name] = [axis.default]  # a registered default, recorded like a grid value
        for key, axis in SHARED_AXES.items():
            out[key] = own.get(key) or self.grid.get(key) or [axis.default]
        return out

    def seeds(self, method: str) -> list[int]:
        """The training seeds of ``method``'s trials (the method's, else ``grid:``'s, else 0)."""
        return self.methods[method].get(SEED) or self.grid.get(SEED) or [0]

    def resolved(self) -> dict:
        """The whole config with every default filled in (JSON-able), for study.json."""
        out = self.model_dump(mode="json")
        for kind in ("train", "eval"):
            adapter, options = data_source(getattr(self.data, kind))
            out["data"][kind] = full_options("adapter", adapter.name, options)
        spec, options = judge_source(self.judge)
        out["judge"] = full_options("name", spec.name, options)
        out["methods"] = {name: {**self.axes(name), SEED: self.seeds(name)} for name in self.methods}
        out["grid"] = {**{k: self.grid.get(k) or [a.default] for k, a in SHARED_AXES.items()
                          if k in self.grid or a.default is not None},
                       SEED: self.grid.get(SEED) or [0]}
        return out

    def result_settings(self) -> dict:
        """The resolved sections that change a trial's result (:data:`RESULT_SECTIONS`)."""
        resolved = self.resolved()
        return {key: resolved[key] for key in RESULT_SECTIONS}

    def hash(self) -> str:
        """Digest of :meth:`result_settings`: equal for studies whose equal trials are
        interchangeable; every trial id depends on it."""
        return hash_json(result_settings_canonical(self.result_settings()))


def result_settings_canonical(obj: Any) -> Any:
    """Floats rounded to 12 significant digits so ``2 * 0.5`` and ``1.0`` hash alike."""
    if isinstance(obj, float):
        return float(f"{obj:.12g}")
    if isinstance(obj, dict):
        return {k: result_settings_canonical(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [result_settings_canonical(v) for v in obj]
    return obj


def _method_shape(objective: Objective, axes: dict, checked: dict) -> list[dict]:
    """Axes given together that are two spellings of one value, and required axes missing."""
    name = objective.name
    for derived, optional in objective.exclusive_groups():
        if derived in axes and all(o in axes for o in optional):
            message = f"cannot be given together with {derived} (give one)"
            return [line_error((name, optional[0]), message, axes[optional[0]])]
    own = [a.name for a in objective.axes if a.name in axes]
    if any(k not in checked for k in own):
        return []  # value errors already reported
    try:
        objective.resolve({k: checked[k][0] for k in own})
    except HyperparameterError as e:
        return [line_error((name, e.parameter), e.reason)]
    return []


def validate_study(raw: Any, source: str = "<dict>", overrides: Sequence[str] = ()) -> Study:
    """Apply ``overrides`` to a raw mapping and validate it; every problem in one ConfigError."""
    if not isinstance(raw, dict):
        kind = "an empty file" if raw is None else f"a {type(raw).__name__}"
        raise ConfigError(source, [("", f"the top level must be a mapping of study keys, got {kind}")])
    raw = copy.deepcopy(raw)
    applied = []
    for text in overrides:
        path, value = parse_override(text)
        apply_override(raw, path, value, text)
        applied.append((format_loc(path), text))
    try:
        return Study.model_validate(raw)
    except ValidationError as e:
        errors = []
        for err in e.errors():
            path, msg = describe(err, Study)
            for key, text in applied:
                if path == key or path.startswith((key + ".", key + "[")) or key.startswith((path + ".", path + "[")):
                    msg += f" (from --set {text})"
                    break
            errors.append((path, msg))
        raise ConfigError(source, errors) from None


def load_study(path: str | Path, overrides: Sequence[str] = ()) -> Study:
    """Read, override and validate a study YAML. Raises :class:`ConfigError`: also for a file
    over :data:`MAX_YAML_BYTES`, one that is not UTF-8 (naming the line) or one whose aliases
    expand too far (:func:`harness.config.loader.parse_yaml`)."""
    from harness.errors import UserError
    from harness.io import read_text

    path = Path(path)
    try:
        text = read_text(path, max_bytes=MAX_YAML_BYTES)
    except OSError as e:
        raise ConfigError(str(path), [("", f"cannot read the study file: {e.strerror or e}")]) from None
    except UserError as e:
        raise ConfigError(str(path), [("", str(e).removeprefix(f"{path}").lstrip(", :"))]) from None
    return validate_study(parse_yaml(text, str(path)), str(path), overrides)
