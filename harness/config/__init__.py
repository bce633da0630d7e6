"""The study YAML: one file is one study (docs/config.md lists every key).

``load_study(path, overrides)`` reads the YAML (``--set key.path=value`` overrides applied),
validates it with pydantic (every model ``extra="forbid"``) and returns a :class:`Study`.
Anything wrong is one :class:`ConfigError` that lists every problem as
``key.path[index]: message, got <value>``, e.g. ``grid.seed[2]: must be an integer >= 0, got -1``.

Sections are validated by the registries that own them: ``data.train``/``data.eval`` by the
named adapter's options model (:mod:`harness.data.registry`), ``judge`` by the named judge's
options model (:mod:`harness.judges`), ``methods.<name>`` by the method's registration
(:mod:`harness.objectives`), after the ``plugins:`` modules are imported. The
grid is expanded into trials by :func:`harness.grid.expand`.

Modules: :mod:`.errors` (ConfigError and the key-path formatter), :mod:`.loader` (YAML and
overrides), :mod:`.sections` (data, policy, generation, training, grid, resources, ray, save,
tracking), :mod:`.study` (the study, its cross-checks and hash).
"""

from harness.config.errors import ConfigError, describe, format_loc
from harness.config.loader import StudyLoader, apply_override, parse_override, parse_yaml
from harness.config.sections import (
    DataConfig,
    GenerationConfig,
    PolicyConfig,
    RayConfig,
    ResourcesConfig,
    TrainingConfig,
    data_source,
    judge_source,
)
from harness.config.study import (
    RESULT_SECTIONS,
    TOYWORLD,
    Study,
    load_study,
    result_settings_canonical,
    validate_study,
)

__all__ = [
    "RESULT_SECTIONS",
    "TOYWORLD",
    "ConfigError",
    "DataConfig",
    "GenerationConfig",
    "PolicyConfig",
    "RayConfig",
    "ResourcesConfig",
    "Study",
    "StudyLoader",
    "TrainingConfig",
    "apply_override",
    "data_source",
    "describe",
    "format_loc",
    "judge_source",
    "load_study",
    "parse_override",
    "parse_yaml",
    "result_settings_canonical",
    "validate_study",
]
