"""The study YAML: one file is one study (docs/config.md lists every key).

``load_study(path, overrides)`` reads the YAML (``--set key.path=value`` overrides applied),
validates it with pydantic (every model ``extra="forbid"``) and returns a :class:`Study`.
Anything wrong is one :class:`ConfigError` that lists every problem as
``key.path[index]: message, got <value>``, e.g. ``methods.simpo.gamma[2]: must be >= 0, got -1``.

Sections are validated by the registries that own them: ``data.train``/``data.eval`` by the
named adapter's options model (:mod:`harness.data.registry`), ``judge`` by the named judge's
options model (:mod:`harness.judges`), ``methods.<name>`` by :mod:`harness.objectives`. The
grid is expanded into trials by :func:`harness.grid.expand`.
"""

from __future__ import annotations

import copy
import difflib
import inspect
import re
import typing
from pathlib import Path
from typing import Any, Literal, Sequence

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from harness.io import hash_json
from harness.objectives import (
    MISSING,
    OBJECTIVES,
    SHARED_HYPERPARAMETERS,
    HyperparameterError,
    check_value,
    format_value,
)
from harness.toyworld.config import ToyWorldConfig

TOYWORLD = "toyworld"
"""The name that selects the toy world as policy (``policy.model``) and as data adapter."""


# --- errors -----------------------------------------------------------------------------------


class ConfigError(ValueError):
    """A study config that cannot run. ``errors`` holds ``(key_path, message)`` pairs."""

    def __init__(self, source: str, errors: Sequence[tuple[str, str]]):
        self.source = source
        self.errors = list(errors)
        head = f"{len(self.errors)} error(s) in {source}:" if len(self.errors) > 1 else f"error in {source}:"
        super().__init__("\n".join([head] + [f"  {p}: {m}" if p else f"  {m}" for p, m in self.errors]))


_ERROR = "harness_config"  # a message with the offending value appended
_ERROR_NO_VALUE = "harness_config_no_value"


def _line(loc: Sequence, message: str, value: Any = MISSING) -> dict:
    """One pydantic line error with our own message (``{msg}`` keeps braces literal)."""
    kind = _ERROR_NO_VALUE if value is MISSING else _ERROR
    return {
        "type": PydanticCustomError(kind, "{msg}", {"msg": message}),
        "loc": tuple(loc),
        "input": None if value is MISSING else value,
    }


def _raise(title: str, lines: list[dict]) -> None:
    if lines:
        raise ValidationError.from_exception_data(title, lines)


def format_loc(loc: Sequence) -> str:
    """``("methods", "simpo", "gamma", 2)`` -> ``methods.simpo.gamma[2]``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _suggest(key: Any, allowed: Sequence[str]) -> str:
    """`` (did you mean X?)`` for a near miss, else the list of allowed names."""
    close = difflib.get_close_matches(str(key), list(allowed), n=1)
    if close:
        return f" (did you mean {close[0]}?)"
    return f" (available: {', '.join(allowed)})" if allowed else ""


def _model_at(loc: Sequence) -> type[BaseModel] | None:
    """The Study sub-model whose key is ``loc[-1]``, for listing allowed keys."""
    model: type[BaseModel] | None = Study
    for part in loc[:-1]:
        if model is None or not isinstance(part, str) or part not in model.model_fields:
            return None
        model = _first_model(model.model_fields[part].annotation)
    return model


def _first_model(annotation) -> type[BaseModel] | None:
    if inspect.isclass(annotation) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


def describe(error: dict) -> tuple[str, str]:
    """One pydantic error dict -> ``(key.path[i], "message, got <value>")``."""
    loc, kind, msg = tuple(error["loc"]), error["type"], error["msg"]
    path = format_loc(loc)
    if kind == "missing":
        return path, "required key is missing"
    if kind == _ERROR_NO_VALUE:
        return path, msg
    if kind == "extra_forbidden":
        model = _model_at(loc)
        msg = "unknown key" + (_suggest(loc[-1], list(model.model_fields)) if model else "")
    msg = msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return path, f"{msg}, got {format_value(error['input'])}"


def _reprefix(error: ValidationError, prefix: Sequence, options: type[BaseModel]) -> list[dict]:
    """Restate a nested model's errors (an adapter's or judge's options) under ``prefix``."""
    lines = []
    for e in error.errors():
        loc = tuple(prefix) + tuple(e["loc"])
        if e["type"] == "missing":
            lines.append(_line(loc, "required key is missing"))
        elif e["type"] == "extra_forbidden" and len(e["loc"]) == 1:
            allowed = list(options.model_fields)
            hint = _suggest(e["loc"][0], allowed) if allowed else " (it takes no options)"
            lines.append(_line(loc, "unknown key" + hint, e["input"]))
        else:
            lines.append(_line(loc, e["msg"].removeprefix("Value error, "), e["input"]))
    return lines


# --- sections ---------------------------------------------------------------------------------


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _looks_local(value: str) -> bool:
    return value.startswith(("/", ".", "~"))


def _missing_local(loc: Sequence, value: Any) -> list[dict]:
    if isinstance(value, str) and _looks_local(value) and not Path(value).expanduser().exists():
        return [_line(loc, f"local path does not exist (resolved to {Path(value).expanduser().resolve()})", value)]
    return []


def _registered(mapping: Any, key: str, lookup, names, what: str) -> tuple[Any, BaseModel]:
    """Split ``{key: name, **options}``, look the name up, validate the options.

    Raises a ValidationError whose locations are relative to the mapping.
    """
    if not isinstance(mapping, dict):
        _raise("config", [_line((), f"must be a mapping with a {key!r} key", mapping)])
    if key not in mapping:
        _raise("config", [_line((key,), "required key is missing")])
    name = mapping[key]
    try:
        spec = lookup(name)
    except (KeyError, TypeError):
        _raise("config", [_line((key,), f"unknown {what}" + _suggest(name, sorted(names)), name)])
    try:
        options = spec.options.model_validate({k: v for k, v in mapping.items() if k != key})
    except ValidationError as e:
        _raise("config", _reprefix(e, (), spec.options))
    return spec, options


def data_source(mapping: dict) -> tuple[Any, BaseModel]:
    """The registered adapter a ``data.train``/``data.eval`` mapping names, and its options."""
    import harness.data  # noqa: F401  (registers the adapters)
    from harness.data.registry import ADAPTERS, get_adapter

    return _registered(mapping, "adapter", get_adapter, ADAPTERS, "data adapter")


def judge_source(mapping: dict) -> tuple[Any, BaseModel]:
    """The registered judge spec a ``judge`` mapping names, and its options."""
    from harness.judges import JUDGES, get_judge_spec

    return _registered(mapping, "name", get_judge_spec, JUDGES, "judge")


def _normalised(key: str, name: str, options: BaseModel) -> dict:
    # Only what the user wrote (normalised): adapters see their own defaults, not ours.
    return {key: name, **options.model_dump(mode="json", exclude_unset=True)}


def _full(key: str, name: str, options: BaseModel) -> dict:
    return {key: name, **options.model_dump(mode="json")}


class DataConfig(_Section):
    train: dict[str, Any]
    eval: dict[str, Any]
    heldout_pairs: int = Field(64, ge=0)
    drop_zero_length: bool = True

    @field_validator("train", "eval")
    @classmethod
    def _adapter(cls, value: dict, info) -> dict:
        adapter, options = data_source(value)
        lines = []
        if info.field_name not in adapter.kinds:
            lines.append(
                _line(("adapter",), f"adapter {adapter.name} cannot give {info.field_name} data", adapter.name)
            )
        lines += _missing_local(("path",), getattr(options, "path", None))
        _raise("data", lines)
        return _normalised("adapter", adapter.name, options)


class PolicyConfig(_Section):
    model: str
    revision: str | None = None
    trust_remote_code: bool = False
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        _raise("policy", _missing_local((), value))
        # Absolute, so a Ray worker that changed directory still finds it.
        return str(Path(value).expanduser().resolve()) if _looks_local(value) else value


class GenerationConfig(_Section):
    backend: Literal["hf", "vllm"] = "hf"
    max_new_tokens: int = Field(128, ge=1)
    temperature: float = Field(1.0, ge=0.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    batch_size: int = Field(64, ge=1)
    seed: int = Field(0, ge=0)


class TrainingConfig(_Section):
    batch_size: int = Field(16, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    max_length: int = Field(512, ge=2)
    max_prompt_length: int = Field(256, ge=1)
    warmup_ratio: float = Field(0.1, ge=0.0, lt=1.0)
    lr_scheduler_type: Literal[
        "linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup", "inverse_sqrt"
    ] = "cosine"
    gradient_checkpointing: bool = False
    logging_steps: int = Field(5, ge=1)

    @model_validator(mode="after")
    def _lengths(self) -> "TrainingConfig":
        if self.max_prompt_length >= self.max_length:
            _raise(
                "training",
                [
                    _line(
                        ("max_prompt_length",),
                        f"must be < max_length ({self.max_length}) to leave room for the response",
                        self.max_prompt_length,
                    )
                ],
            )
        return self


def _axis(values: Any, parameter: str, method: str | None = None, loc: Sequence = ()) -> tuple[list, list[dict]]:
    """Check one grid axis: a non-empty list of distinct valid values (a scalar is one value).

    Returns the normalised values and the line errors (locations under ``loc``).
    """
    if not isinstance(values, list):
        values = [values]
    if not values:
        return [], [_line(loc, "must be a non-empty list", values)]
    lines, out = [], []
    for i, value in enumerate(values):
        try:
            norm = check_value(parameter, value, method)
        except HyperparameterError as e:
            lines.append(_line((*loc, i), e.reason, value))
            continue
        if norm in out:
            lines.append(_line((*loc, i), "duplicate value in this list", value))
        out.append(norm)
    return out, lines


class GridConfig(_Section):
    """Axes shared by every method; a method may override each under ``methods.<name>``."""

    learning_rate: list[Any] | None = None
    epochs: list[Any] = [1]
    seed: list[Any] = [0]

    @field_validator("learning_rate", "epochs", "seed", mode="before")
    @classmethod
    def _values(cls, value: Any, info) -> list | None:
        if value is None:
            return None
        out, lines = _axis(value, info.field_name)
        _raise("grid", lines)
        return out


class ResourcesConfig(_Section):
    cpus_per_trial: float = Field(1.0, gt=0)
    gpus_per_trial: float = Field(0.0, ge=0)
    workers_per_trial: int = Field(1, ge=1)
    distributed: Literal["none", "deepspeed_zero3", "fsdp"] = "none"

    @model_validator(mode="after")
    def _deepspeed_needs_gpus(self) -> "ResourcesConfig":
        if self.distributed == "deepspeed_zero3" and self.gpus_per_trial <= 0:
            _raise("resources", [_line(("distributed",), "needs gpus_per_trial > 0", self.distributed)])
        return self


class RayConfig(_Section):
    address: str | None = None
    max_concurrent: int | None = Field(None, ge=1)
    reuse_actors: bool = True


# --- the study --------------------------------------------------------------------------------

# The sections whose values change what a trial produces: they enter every trial id. Everything
# else (study name, results_dir, artifacts_dir, resources, ray) is bookkeeping.
RESULT_SECTIONS = ("toyworld", "data", "policy", "judge", "generation", "training")


class Study(_Section):
    """One validated study. ``methods`` maps a method name to its axes, each a list of values."""

    study: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    results_dir: Path = Field(Path("results"), validate_default=True)
    artifacts_dir: Path = Field(Path("artifacts"), validate_default=True)
    toyworld: ToyWorldConfig | None = None
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

    @field_validator("judge")
    @classmethod
    def _judge(cls, value: dict) -> dict:
        spec, options = judge_source(value)
        _raise("judge", _missing_local(("model",), getattr(options, "model", None)))
        return _normalised("name", spec.name, options)

    @field_validator("methods")
    @classmethod
    def _methods(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, list]]:
        if not value:
            _raise("methods", [_line((), f"name at least one method ({', '.join(OBJECTIVES)})", value)])
        lines, out = [], {}
        for name, axes in value.items():
            if name not in OBJECTIVES:
                lines.append(_line((name,), f"unknown method; available: {', '.join(OBJECTIVES)}", name))
                continue
            objective = OBJECTIVES[name]
            allowed = objective.hyperparameters + SHARED_HYPERPARAMETERS
            checked = {}
            for key, values in axes.items():
                if key not in allowed:
                    lines.append(_line((name, key), f"not a hyperparameter of {name}" + _suggest(key, allowed), values))
                    continue
                norm, bad = _axis(values, key, name, (name, key))
                lines += bad
                if not bad:
                    checked[key] = norm
            lines += _method_shape(name, axes, checked)
            out[name] = checked
        _raise("methods", lines)
        return out

    @model_validator(mode="after")
    def _cross_checks(self) -> "Study":
        lines = []
        if self.toyworld is None:
            if self.policy.model == TOYWORLD:
                lines.append(_line(("policy", "model"), "needs a toyworld: section", TOYWORLD))
            for kind in ("train", "eval"):
                if getattr(self.data, kind)["adapter"] == TOYWORLD:
                    lines.append(_line(("data", kind, "adapter"), "needs a toyworld: section", TOYWORLD))
        for name, axes in self.methods.items():
            for key in SHARED_HYPERPARAMETERS:
                if key not in axes and getattr(self.grid, key) is None:
                    lines.append(_line(("methods", name, key), f"no values: set grid.{key} or methods.{name}.{key}"))
        _raise("Study", lines)
        return self

    # -- derived views --

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
            out["data"][kind] = _full("adapter", adapter.name, options)
        spec, options = judge_source(self.judge)
        out["judge"] = _full("name", spec.name, options)
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
            return [_line((name, present[1]), f"cannot be given together with {present[0]} (give one)", axes[present[1]])]
    own = [k for k in objective.hyperparameters if k in axes]
    if any(k not in checked for k in own):
        return []  # value errors already reported
    try:
        objective.resolve(**{k: checked[k][0] for k in own})
    except HyperparameterError as e:
        return [_line((name, e.parameter), e.reason)]
    return []


# --- YAML and overrides -----------------------------------------------------------------------


class StudyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that reads ``1e-4`` as a float (YAML 1.1 wants ``1.0e-4``) and
    refuses duplicate keys (PyYAML silently keeps the last one)."""


StudyLoader.yaml_implicit_resolvers = {k: list(v) for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
StudyLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def _construct_mapping(loader: StudyLoader, node: yaml.MappingNode, deep: bool = False):
    seen = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


StudyLoader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)


def parse_yaml(text: str, source: str = "<string>") -> Any:
    """Parse YAML with :class:`StudyLoader`; a syntax error names the file, line and column."""
    try:
        return yaml.load(text, Loader=StudyLoader)
    except yaml.MarkedYAMLError as e:
        at = lambda mark: f"line {mark.line + 1}, column {mark.column + 1}"  # noqa: E731
        mark = e.problem_mark or e.context_mark
        message = f"invalid YAML: {e.problem or e.context}"
        if e.problem and e.context and e.context_mark:
            message += f" ({e.context} at {at(e.context_mark)})"
        raise ConfigError(source, [(at(mark) if mark else "", message)]) from None
    except yaml.YAMLError as e:
        raise ConfigError(source, [("", f"invalid YAML: {e}")]) from None


_SEGMENT = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)((?:\[\d+\])*)$")


def parse_override(text: str) -> tuple[tuple, Any]:
    """``"methods.simpo.beta=[2.0, 2.5]"`` -> ``(("methods", "simpo", "beta"), [2.0, 2.5])``.

    The value is YAML (so ``1e-4``, ``[1, 2]``, ``true``, ``null`` and ``{a: 1}`` work); a key
    segment may index a list, ``grid.learning_rate[0]=3e-4``.
    """
    where = f"--set {text}"
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise ConfigError(where, [(key.strip(), "an override is key.path=value")])
    path: list = []
    for segment in key.strip().split("."):
        m = _SEGMENT.match(segment)
        if not m:
            raise ConfigError(where, [(key.strip(), f"bad key path segment {segment!r}")])
        path.append(m.group(1))
        path += [int(i) for i in re.findall(r"\d+", m.group(2))]
    try:
        value = yaml.load(raw, Loader=StudyLoader)
    except yaml.YAMLError as e:
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise ConfigError(where, [(key.strip(), f"cannot parse value {raw!r} as YAML: {problem}")]) from None
    return tuple(path), value


def apply_override(raw: dict, path: tuple, value: Any, text: str = "") -> None:
    """Set ``raw[path] = value`` in place, creating missing mappings along the way."""
    where = f"--set {text}" if text else "--set"
    node: Any = raw
    for depth, part in enumerate(path):
        here = format_loc(path[: depth + 1])
        last = depth == len(path) - 1
        if isinstance(part, int):
            if not isinstance(node, list) or not -len(node) <= part < len(node):
                size = f"a list of {len(node)}" if isinstance(node, list) else f"a {type(node).__name__}"
                raise ConfigError(where, [(here, f"index {part} is out of range ({format_loc(path[:depth]) or 'it'} is {size})")])
        else:
            if not isinstance(node, dict):
                raise ConfigError(
                    where, [(here, f"{format_loc(path[:depth])} is a {type(node).__name__}, not a mapping")]
                )
            if not last and node.get(part) is None:
                node[part] = {}
        if last:
            node[part] = value
        else:
            node = node[part]


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
            path, msg = describe(err)
            for key, text in applied:
                if path == key or path.startswith((key + ".", key + "[")) or key.startswith(path + "."):
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
