"""The sections of a study YAML other than the grid's methods (docs/config.md lists every key).

``data.train``/``data.eval`` and ``judge`` are open mappings ``{adapter|name: NAME, ...}``
validated by the named registry entry's own options model (:mod:`harness.data.registry`,
:mod:`harness.judges`), imported lazily so a config can be read without them loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, Sequence

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harness.config.errors import line_error, raise_errors, reprefix, suggest
from harness.objectives import HyperparameterError, check_value

class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def looks_local(value: str) -> bool:
    return value.startswith(("/", ".", "~"))


def missing_local(loc: Sequence, value: Any) -> list[dict]:
    if isinstance(value, str) and looks_local(value) and not Path(value).expanduser().exists():
        return [line_error(loc, f"local path does not exist (resolved to {Path(value).expanduser().resolve()})", value)]
    return []


def _registered(mapping: Any, key: str, lookup, names, what: str) -> tuple[Any, BaseModel]:
    """Split ``{key: name, **options}``, look the name up, validate the options.

    Raises a ValidationError whose locations are relative to the mapping.
    """
    if not isinstance(mapping, dict):
        raise_errors("config", [line_error((), f"must be a mapping with a {key!r} key", mapping)])
    if key not in mapping:
        raise_errors("config", [line_error((key,), "required key is missing")])
    name = mapping[key]
    try:
        spec = lookup(name)
    except (KeyError, TypeError):
        raise_errors("config", [line_error((key,), f"unknown {what}" + suggest(name, sorted(names)), name)])
    try:
        options = spec.options.model_validate({k: v for k, v in mapping.items() if k != key})
    except ValidationError as e:
        raise_errors("config", reprefix(e, (), spec.options))
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


def world_options(name: str, value: Any) -> BaseModel:
    """The options of the registered world ``name`` (a top-level study section of that name),
    validated by the world's own options model; errors are located under ``name``."""
    from harness.worlds import get_world

    if isinstance(value, BaseModel):
        value = value.model_dump()
    try:
        options = get_world(name).options
    except KeyError as e:
        raise_errors("config", [line_error((), f"{e.args[0]} (is its plug-in installed?)")])
    try:
        return options.model_validate(value)
    except ValidationError as e:
        raise_errors("config", reprefix(e, (), options))


def normalised(key: str, name: str, options: BaseModel) -> dict:
    # Only what the user wrote (normalised): adapters see their own defaults, not ours.
    return {key: name, **options.model_dump(mode="json", exclude_unset=True)}


def full_options(key: str, name: str, options: BaseModel) -> dict:
    return {key: name, **options.model_dump(mode="json")}


class DataConfig(Section):
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
                line_error(("adapter",), f"adapter {adapter.name} cannot give {info.field_name} data", adapter.name)
            )
        lines += missing_local(("path",), getattr(options, "path", None))
        raise_errors("data", lines)
        return normalised("adapter", adapter.name, options)


class PolicyConfig(Section):
    model: str
    revision: str | None = None
    trust_remote_code: bool = False
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"

    @field_validator("model")
    @classmethod
    def _model(cls, value: str) -> str:
        raise_errors("policy", missing_local((), value))
        # Absolute, so a Ray worker that changed directory still finds it.
        return str(Path(value).expanduser().resolve()) if looks_local(value) else value


class GenerationConfig(Section):
    """The ``generation:`` section; the one generation settings type (harness.generate uses it).
    Every field enters the SFT baseline's cache key."""

    backend: Literal["hf", "vllm"] = "hf"
    max_new_tokens: int = Field(128, ge=1)
    temperature: float = Field(1.0, ge=0.0)  # 0 = greedy
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    batch_size: int = Field(64, ge=1)
    seed: int = Field(0, ge=0)
    backend_options: dict[str, Any] = Field(default_factory=dict)  # e.g. vLLM's LLM(...) kwargs

    @classmethod
    def from_any(cls, cfg: "GenerationConfig | Mapping[str, Any] | None") -> "GenerationConfig":
        """Accept this class, any pydantic model with the same fields, a mapping, or None."""
        if cfg is None:
            return cls()
        if isinstance(cfg, cls):
            return cfg
        if isinstance(cfg, BaseModel):
            cfg = cfg.model_dump()
        if not isinstance(cfg, Mapping):
            raise TypeError(f"generation settings must be a mapping, got {type(cfg).__name__}")
        return cls.model_validate(dict(cfg))


class TrainingConfig(Section):
    """Shared by every trial; the fields map one-to-one onto TRL 1.16's DPOConfig.

    TRL 1.16 has no prompt-length limit: a pair longer than ``max_length`` is cut by
    ``truncation_mode`` (``keep_start`` drops the end of the response, ``keep_end`` the start
    of the prompt); pairs whose prompt alone fills ``max_length`` are dropped at preparation.
    """

    batch_size: int = Field(16, ge=1)
    gradient_accumulation_steps: int = Field(1, ge=1)
    max_length: int = Field(512, ge=2)
    truncation_mode: Literal["keep_start", "keep_end"] = "keep_start"
    warmup_ratio: float = Field(0.1, ge=0.0, lt=1.0)
    lr_scheduler_type: Literal[
        "linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup", "inverse_sqrt"
    ] = "cosine"
    gradient_checkpointing: bool = False
    logging_steps: int = Field(5, ge=1)


def check_axis(values: Any, parameter: str, method: str | None = None, loc: Sequence = ()) -> tuple[list, list[dict]]:
    """Check one grid axis: a non-empty list of distinct valid values (a scalar is one value).

    Returns the normalised values and the line errors (locations under ``loc``).
    """
    if not isinstance(values, list):
        values = [values]
    if not values:
        return [], [line_error(loc, "must be a non-empty list", values)]
    lines, out = [], []
    for i, value in enumerate(values):
        try:
            norm = check_value(parameter, value, method)
        except HyperparameterError as e:
            lines.append(line_error((*loc, i), e.reason, value))
            continue
        if norm in out:
            lines.append(line_error((*loc, i), "duplicate value in this list", value))
        out.append(norm)
    return out, lines


class GridConfig(Section):
    """Axes shared by every method; a method may override each under ``methods.<name>``."""

    learning_rate: list[Any] | None = None
    epochs: list[Any] = [1]
    seed: list[Any] = [0]

    @field_validator("learning_rate", "epochs", "seed", mode="before")
    @classmethod
    def _values(cls, value: Any, info) -> list | None:
        if value is None:
            return None
        out, lines = check_axis(value, info.field_name)
        raise_errors("grid", lines)
        return out


class ResourcesConfig(Section):
    cpus_per_trial: float = Field(1.0, gt=0)
    gpus_per_trial: float = Field(0.0, ge=0)
    workers_per_trial: int = Field(1, ge=1)
    distributed: Literal["none", "deepspeed_zero3", "fsdp"] = "none"

    @model_validator(mode="after")
    def _deepspeed_needs_gpus(self) -> "ResourcesConfig":
        if self.distributed == "deepspeed_zero3" and self.gpus_per_trial <= 0:
            raise_errors("resources", [line_error(("distributed",), "needs gpus_per_trial > 0", self.distributed)])
        return self


class RayConfig(Section):
    address: str | None = None
    max_concurrent: int | None = Field(None, ge=1)
    reuse_actors: bool = True
