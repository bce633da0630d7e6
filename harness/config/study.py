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
    GridConfig,
    PolicyConfig,
    RayConfig,
    ResourcesConfig,
    Section,
    TrainingConfig,
    check_axis,
    data_source,
    full_options,
    judge_source,
    missing_local,
    normalised,
    world_options,
)
from harness.io import hash_json
from harness.objectives import OBJECTIVES, SHARED_HYPERPARAMETERS, HyperparameterError
from harness.worlds import world_names

TOYWORLD = "toyworld"
"""The toy world's section: a world plug-in (:mod:`harness.worlds`) registered under this name.
Its options model validates the section; ``policy.model`` and a data adapter of the same name
select the built world's SFT policy and data."""

# The top-level sections that configure a world plug-in, each named after its registered world.
WORLD_SECTIONS = (TOYWORLD,)

# The sections whose values change what a trial produces: they enter every trial id. Everything
# else (study name, results_dir, artifacts_dir, resources, ray) is bookkeeping.
RESULT_SECTIONS = ("toyworld", "data", "policy", "judge", "generation", "training")


class Study(Section):
    """One validated study. ``methods`` maps a method name to its axes, each a list of values."""

    study: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    results_dir: Path = Field(Path("results"), validate_default=True)
    artifacts_dir: Path = Field(Path("artifacts"), validate_default=True)
    toyworld: Any = None  # the toyworld world's options (validated by its registration)
    data: DataConfig
    policy: PolicyConfig
    judge: dict[str, Any]
    generation: GenerationConfig = Field(default_factory=GenerationConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    grid: GridConfig = Field(default_factory=GridConfig)
    methods: dict[str, dict[str, Any]]
    resources: ResourcesConfig = Field(default_factory=ResourcesConfig)
    ray: RayConfig = Field(default_factory=RayConfig)

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

    @field_validator("methods")
    @classmethod
    def _methods(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, list]]:
        if not value:
            raise_errors("methods", [line_error((), f"name at least one method ({', '.join(OBJECTIVES)})", value)])
        lines, out = [], {}
        for name, axes in value.items():
            if name not in OBJECTIVES:
                lines.append(line_error((name,), f"unknown method; available: {', '.join(OBJECTIVES)}", name))
                continue
            objective = OBJECTIVES[name]
            allowed = objective.hyperparameters + SHARED_HYPERPARAMETERS
            checked = {}
            for key, values in axes.items():
                if key not in allowed:
                    message = f"not a hyperparameter of {name}" + suggest(key, allowed)
                    lines.append(line_error((name, key), message, values))
                    continue
                norm, bad = check_axis(values, key, name, (name, key))
                lines += bad
                if not bad:
                    checked[key] = norm
            lines += _method_shape(name, axes, checked)
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
            for key in SHARED_HYPERPARAMETERS:
                if key not in axes and getattr(self.grid, key) is None:
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
        """Every axis of ``method``'s grid: its own hyperparameters, then the shared ones."""
        own = self.methods[method]
        out = {k: own[k] for k in OBJECTIVES[method].hyperparameters if k in own}
        for key in SHARED_HYPERPARAMETERS:
            out[key] = own[key] if key in own else getattr(self.grid, key)
        return out

    def resolved(self) -> dict:
        """The whole config with every default filled in (JSON-able), for study.json."""
        out = self.model_dump(mode="json")
        for kind in ("train", "eval"):
            adapter, options = data_source(getattr(self.data, kind))
            out["data"][kind] = full_options("adapter", adapter.name, options)
        spec, options = judge_source(self.judge)
        out["judge"] = full_options("name", spec.name, options)
        out["methods"] = {name: self.axes(name) for name in self.methods}
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


def _method_shape(name: str, axes: dict, checked: dict) -> list[dict]:
    """Required and mutually exclusive hyperparameters of one method's grid."""
    objective = OBJECTIVES[name]
    for group in objective.exclusive:
        present = [k for k in group if k in axes]
        if len(present) > 1:
            message = f"cannot be given together with {present[0]} (give one)"
            return [line_error((name, present[1]), message, axes[present[1]])]
    own = [k for k in objective.hyperparameters if k in axes]
    if any(k not in checked for k in own):
        return []  # value errors already reported
    try:
        objective.resolve(**{k: checked[k][0] for k in own})
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
    """Read, override and validate a study YAML. Raises :class:`ConfigError`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError(str(path), [("", f"cannot read the study file: {e.strerror or e}")]) from None
    return validate_study(parse_yaml(text, str(path)), str(path), overrides)
