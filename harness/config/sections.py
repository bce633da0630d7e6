"""The sections of a study YAML (docs/config.md lists every key); the grid's own checks.

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
from harness.objectives import SEED, SHARED_AXES, HyperparameterError, check_seed

class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


def looks_local(value: str) -> bool:
    return value.startswith(("/", ".", "~"))


def missing_local(loc: Sequence, value: Any) -> list[dict]:
    if isinstance(value, str) and looks_local(value) and not Path(value).expanduser().exists():
        return [line_error(loc, f"local path does not exist (resolved to {Path(value).expanduser().resolve()})", value)]
    return []


def _registered(mapping: Any, key: str, registry, what: str) -> tuple[Any, BaseModel]:
    """Split ``{key: name, **options}``, look the name up in ``registry``, validate the options.

    Raises a ValidationError whose locations are relative to the mapping.
    """
    if not isinstance(mapping, dict):
        raise_errors("config", [line_error((), f"must be a mapping with a {key!r} key", mapping)])
    if key not in mapping:
        raise_errors("config", [line_error((key,), "required key is missing")])
    name = mapping[key]
    if name not in registry:
        raise_errors("config", [line_error((key,), f"unknown {what}" + suggest(name, sorted(registry)), name)])
    spec = registry[name]
    try:
        options = spec.options.model_validate({k: v for k, v in mapping.items() if k != key})
    except ValidationError as e:
        raise_errors("config", reprefix(e, (), spec.options))
    return spec, options


def registered_name(value: str, registry, title: str) -> str:
    """``value`` if ``registry`` has it; else an error listing the registered names."""
    if value not in registry:
        raise_errors(title, [line_error((), f"unknown {registry.kind}" + suggest(value, registry.names()), value)])
    return value


def data_source(mapping: dict) -> tuple[Any, BaseModel]:
    """The registered adapter a ``data.train``/``data.eval`` mapping names, and its options."""
    import harness.data  # noqa: F401  (registers the adapters)
    from harness.data.registry import ADAPTERS

    return _registered(mapping, "adapter", ADAPTERS, "data adapter")


def judge_source(mapping: dict) -> tuple[Any, BaseModel]:
    """The registered judge spec a ``judge`` mapping names, and its options."""
    from harness.judges import JUDGES

    return _registered(mapping, "name", JUDGES, "judge")


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


PER_REPLICATE = "per_replicate"


class GenerationConfig(Section):
    """The ``generation:`` section; the one generation settings type (harness.generate uses it).
    Every field enters the SFT baseline's cache key."""

    backend: str = "hf"  # a name in harness.generate.BACKENDS
    max_new_tokens: int = Field(128, ge=1)
    temperature: float = Field(1.0, ge=0.0, allow_inf_nan=False)  # 0 = greedy
    top_p: float = Field(1.0, gt=0.0, le=1.0, allow_inf_nan=False)
    batch_size: int = Field(64, ge=1)
    # The sampling seed: one fixed value for every trial (default 0), or "per_replicate": each
    # trial samples with its training seed (docs/config.md, "Seeds"). numpy and torch take
    # 32-bit seeds.
    seed: int | Literal["per_replicate"] = 0
    samples_per_prompt: int = Field(1, ge=1)  # responses sampled per eval prompt
    backend_options: dict[str, Any] = Field(default_factory=dict)  # e.g. vLLM's LLM(...) kwargs
    # Where a reply ends (harness.stop): null = from the model (its generation_config's EOS ids,
    # its tokenizer's EOS and its chat template's end-of-turn token); a list replaces those.
    stop_token_ids: list[int] | None = None
    stop_strings: list[str] = Field(default_factory=list)  # texts that end a reply as well

    @field_validator("seed", mode="before")
    @classmethod
    def _seed(cls, value: Any) -> Any:
        if value == PER_REPLICATE:
            return value
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**32:
            raise ValueError(f"must be an integer in [0, 2^32) or {PER_REPLICATE!r}")
        return value

    @field_validator("backend")
    @classmethod
    def _backend(cls, value: str) -> str:
        from harness.generate import BACKENDS

        return registered_name(value, BACKENDS, "generation")

    @property
    def seed_mode(self) -> str:
        """``"fixed"`` or ``"per_replicate"`` (study.json's ``replicates.generation_seed``)."""
        return PER_REPLICATE if self.seed == PER_REPLICATE else "fixed"

    def sampling_seed(self, training_seed: int | None) -> int:
        """The seed a trial with ``training_seed`` samples with: ``seed``, or under
        ``per_replicate`` the training seed. The SFT baseline (``training_seed`` None), built
        once per study, samples with ``seed``, or with 0 under ``per_replicate``."""
        if self.seed != PER_REPLICATE:
            return int(self.seed)
        return 0 if training_seed is None else int(training_seed)

    def for_replicate(self, training_seed: int | None) -> "GenerationConfig":
        """These settings with :meth:`sampling_seed` as the (integer) ``seed``."""
        return self.model_copy(update={"seed": self.sampling_seed(training_seed)})

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


class PeftSettings(Section):
    """``training.peft``: LoRA adapters (``peft.LoraConfig``) instead of a full fine-tune.

    The keys are LoraConfig's without the ``lora_`` prefix: ``r`` (rank), ``alpha``
    (``lora_alpha``: the update is scaled by alpha / r), ``dropout`` (``lora_dropout``) and
    ``target_modules`` (module names, or ``all-linear``: every linear layer but the output head).
    """

    r: int = Field(16, ge=1)
    alpha: float = Field(32.0, gt=0)
    dropout: float = Field(0.05, ge=0.0, lt=1.0)
    target_modules: list[str] | Literal["all-linear"] = "all-linear"

    @field_validator("target_modules")
    @classmethod
    def _modules(cls, value):
        if isinstance(value, list) and not value:
            raise ValueError("name at least one module, or all-linear")
        return value


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
    warmup_ratio: float = Field(0.1, ge=0.0, lt=1.0, allow_inf_nan=False)
    lr_scheduler_type: Literal[
        "linear", "cosine", "cosine_with_restarts", "polynomial", "constant", "constant_with_warmup", "inverse_sqrt"
    ] = "cosine"
    gradient_checkpointing: bool = False
    logging_steps: int = Field(5, ge=1)
    peft: PeftSettings | None = None  # LoRA (harness.lora); None = full fine-tune


def check_axis(values: Any, validate, loc: Sequence = ()) -> tuple[list, list[dict]]:
    """Check one grid axis: a non-empty list of distinct valid values (a scalar is one value).

    ``validate(value)`` returns the normalised value or raises HyperparameterError. Returns the
    normalised values and the line errors (locations under ``loc``).
    """
    if not isinstance(values, list):
        values = [values]
    if not values:
        return [], [line_error(loc, "must be a non-empty list", values)]
    lines, out, seen = [], [], set()
    for i, value in enumerate(values):
        try:
            norm = validate(value)
        except HyperparameterError as e:
            lines.append(line_error((*loc, i), e.reason, value))
            continue
        if norm in seen:  # a set: a 10^6-value axis is checked in linear time
            lines.append(line_error((*loc, i), "duplicate value in this list", value))
        seen.add(norm)
        out.append(norm)
    return out, lines


def shared_check(key: str, method: str | None = None):
    """The check of a key every method may take (a shared axis, or the seed); None otherwise."""
    if key == SEED:
        return lambda value: check_seed(value, method)
    if key in SHARED_AXES:
        return lambda value: SHARED_AXES[key].validate(value, method)
    return None


def shared_keys() -> tuple[str, ...]:
    """The ``grid:`` keys: the shared axes, then ``seed``."""
    return SHARED_AXES.names() + (SEED,)


def check_grid(value: Any) -> dict[str, list]:
    """The ``grid:`` section: the axes every method shares (a method may override each), and
    the training seeds. Keys are the registered shared axes and ``seed``; defaults are filled in
    by :meth:`harness.config.Study.axes`."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise_errors("grid", [line_error((), "must be a mapping of axis lists", value)])
    lines, out = [], {}
    for key, values in value.items():
        check = shared_check(key)
        if check is None:
            lines.append(line_error((key,), "unknown key" + suggest(key, shared_keys()), values))
            continue
        norm, bad = check_axis(values, check, (key,))
        lines += bad
        out[key] = norm
    raise_errors("grid", lines)
    return out


class ResourcesConfig(Section):
    cpus_per_trial: float = Field(1.0, gt=0, allow_inf_nan=False)
    gpus_per_trial: float = Field(0.0, ge=0, allow_inf_nan=False)
    workers_per_trial: int = Field(1, ge=1)
    distributed: str = "none"  # a name in harness.distributed.STRATEGIES

    @field_validator("distributed")
    @classmethod
    def _distributed(cls, value: str) -> str:
        from harness.distributed import STRATEGIES

        return registered_name(value, STRATEGIES, "resources")

    @model_validator(mode="after")
    def _deepspeed_needs_gpus(self) -> "ResourcesConfig":
        if self.distributed == "deepspeed_zero3" and self.gpus_per_trial <= 0:
            raise_errors("resources", [line_error(("distributed",), "needs gpus_per_trial > 0", self.distributed)])
        return self


class RayConfig(Section):
    address: str | None = None
    max_concurrent: int | None = Field(None, ge=1)
    reuse_actors: bool = True


class KeepBest(Section):
    best: int = Field(ge=1)


class SaveConfig(Section):
    """``save``: which trained policies outlive their trial (:mod:`harness.keep`).

    ``policies: none`` (default) keeps none; ``all`` keeps every finished trial's policy;
    ``{best: K}`` keeps the K best per method by ``mean_score``, deciding as trials finish.
    Kept policies go to ``<results>/<study>/policies/<method>/<trial_id>/`` (safetensors +
    tokenizer; with ``training.peft`` the adapter only) and are named in trials.parquet's
    ``policy_path``.
    """

    policies: Literal["none", "all"] | KeepBest = "none"

    @field_validator("policies", mode="before")
    @classmethod
    def _one_message(cls, value):
        # one error line instead of pydantic's one per member of the union
        best = value.get("best") if isinstance(value, dict) else None
        ok = value in ("none", "all") if isinstance(value, str) else (
            isinstance(value, dict) and set(value) == {"best"} and isinstance(best, int)
            and not isinstance(best, bool) and best >= 1)
        if not ok:
            raise_errors("save", [line_error((), "must be none, all or {best: K} with K >= 1",
                                             value)])
        return value


class TrackingConfig(Section):
    """``tracking``: where training curves go (:mod:`harness.tracking`).

    ``report_to`` names transformers' reporting integrations (``tensorboard``, ``wandb``,
    ``mlflow``, ``trackio``, ...; ``[]`` for none). Every trial's run is named by its trial id
    and hyperparameters; ``tensorboard`` writes one run per trial under
    ``<results>/<study>/tensorboard/``, with the training curves, the final metrics and an
    HParams entry.
    """

    report_to: list[str] = Field(default_factory=lambda: ["tensorboard"])

    @field_validator("report_to", mode="before")
    @classmethod
    def _names(cls, value):
        from harness.tracking import check_report_to

        if isinstance(value, str):
            value = [value]
        lines = check_report_to(value)
        raise_errors("tracking", [line_error((i,), msg, v) for i, msg, v in lines])
        return value
