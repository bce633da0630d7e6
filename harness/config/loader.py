"""Reading a study YAML and applying ``--set key.path=value`` overrides.

:class:`StudyLoader` is PyYAML's safe loader reading ``1e-4`` as a float (YAML 1.1 wants
``1.0e-4``) and refusing duplicate keys; a syntax error names the file, line and column.

PyYAML shares the object an alias points to, so a "billion laughs" file (aliases of lists of
aliases) parses at once and explodes later, in validation, to gigabytes. :func:`parse_yaml`
therefore counts the values the document *would* expand to (each shared object counted once
per use, in time linear in the distinct objects) and refuses more than
:data:`MAX_YAML_VALUES`. The file's size is limited by the caller
(``harness.config.study.MAX_YAML_BYTES``).
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from harness.config.errors import ConfigError, format_loc

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


MAX_YAML_VALUES = 100_000  # a study has hundreds of values; a grid axis may have thousands


def expanded_size(obj: Any, limit: int = MAX_YAML_VALUES) -> int:
    """How many values ``obj`` holds once every alias is expanded (stops counting past
    ``limit``). Shared sub-objects are measured once, so this is linear in distinct objects."""
    memo: dict[int, int] = {}

    def size(node: Any) -> int:
        key = id(node)
        if key in memo:
            return memo[key]
        total = 1
        children = (list(node.keys()) + list(node.values())) if isinstance(node, dict) else (
            node if isinstance(node, list) else ())
        for child in children:
            total += size(child)
            if total > limit:
                break
        memo[key] = total
        return total

    return size(obj)


def check_expansion(value: Any, source: str) -> Any:
    n = expanded_size(value)
    if n > MAX_YAML_VALUES:
        raise ConfigError(source, [("", f"the YAML expands to more than {MAX_YAML_VALUES} values "
                                        "(aliases of aliases?); refusing to read it")])
    return value


def parse_yaml(text: str, source: str = "<string>") -> Any:
    """Parse YAML with :class:`StudyLoader`; a syntax error names the file, line and column;
    a document expanding to more than :data:`MAX_YAML_VALUES` values is refused."""
    try:
        return check_expansion(yaml.load(text, Loader=StudyLoader), source)
    except RecursionError:
        raise ConfigError(source, [("", "invalid YAML: nested too deeply")]) from None
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
    """``"grid.seed=[0, 1]"`` -> ``(("grid", "seed"), [0, 1])``.

    The value is YAML (so ``1e-4``, ``[1, 2]``, ``true``, ``null`` and ``{a: 1}`` work); a key
    segment may index a list, ``grid.seed[0]=3``.
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
        value = check_expansion(yaml.load(raw, Loader=StudyLoader), where)
    except RecursionError:
        raise ConfigError(where, [(key.strip(), "the value is nested too deeply")]) from None
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
                parent = format_loc(path[:depth]) or "it"
                raise ConfigError(where, [(here, f"index {part} is out of range ({parent} is {size})")])
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
