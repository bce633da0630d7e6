"""The one Registry type behind methods, shared axes, data adapters, judges, generation backends
and distributed strategies (issue 11; CONTRACT section 1)."""

from __future__ import annotations

import pytest

from harness.registry import Registry


def test_register_get_names_membership_iteration():
    reg: Registry[int] = Registry("fruit")
    assert reg.register("apple", 1) == 1
    reg.register("pear", 2)
    assert reg.get("pear") == 2 and reg["apple"] == 1
    assert reg.names() == ("apple", "pear") and list(reg) == ["apple", "pear"] and len(reg) == 2
    assert "apple" in reg and "plum" not in reg and ["unhashable"] not in reg
    assert dict(reg.items()) == {"apple": 1, "pear": 2} and list(reg.values()) == [1, 2]


def test_unknown_name_lists_the_available_ones():
    reg = Registry("judge")
    reg.register("toy", object())
    reg.register("oasst", object())
    with pytest.raises(KeyError, match=r"unknown judge 'nope'; available: toy, oasst"):
        reg.get("nope")
    with pytest.raises(KeyError, match="unknown judge"):
        reg.get(["not", "a", "name"])


def test_a_taken_name_is_refused_unless_it_is_the_same_entry():
    reg = Registry("method")
    entry = ("dpo",)
    reg.register("dpo", entry)
    reg.register("dpo", ("dpo",))  # an equal entry again (a module imported twice): fine
    with pytest.raises(ValueError, match="method 'dpo' is already registered"):
        reg.register("dpo", ("other",))
    with pytest.raises(ValueError, match="non-empty string"):
        reg.register("", entry)
    assert reg.unregister("dpo") == entry and "dpo" not in reg


def test_every_pluggable_part_is_a_registry():
    from harness.data.registry import ADAPTERS
    from harness.distributed import STRATEGIES
    from harness.generate import BACKENDS
    from harness.judges.registry import JUDGES
    from harness.objectives import OBJECTIVES, SHARED_AXES

    for registry in (OBJECTIVES, SHARED_AXES, ADAPTERS, JUDGES, BACKENDS, STRATEGIES):
        assert isinstance(registry, Registry) and len(registry) > 0
