"""``governance.domain.frozen``: a ``@frozen`` class behaves as ``@dataclass(frozen=True)``
(issue 18: the read queries' value types without importing ``dataclasses``)."""

from __future__ import annotations

import dataclasses
import pickle
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from governance.domain.frozen import field, frozen


@frozen
class Mine:
    """A value."""

    name: str
    count: int = 0
    tags: tuple[str, ...] = ()
    extra: Mapping[str, Any] = field(default_factory=dict)
    hidden: str = field(default="x", repr=False, compare=False)
    KIND: ClassVar[str] = "k"

    def doubled(self) -> int:
        return self.count * 2


@dataclasses.dataclass(frozen=True)
class Theirs:
    """A value."""

    name: str
    count: int = 0
    tags: tuple[str, ...] = ()
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    hidden: str = dataclasses.field(default="x", repr=False, compare=False)
    KIND: ClassVar[str] = "k"


CALLS: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
    (("a",), {}),
    (("a", 3), {"tags": ("t",)}),
    ((), {"name": "b", "extra": {"k": [1]}, "hidden": "y"}),
    (("c", 1, ("u", "v"), {"z": 1}, "h"), {}),
]


@pytest.mark.parametrize(("args", "kwargs"), CALLS)
def test_a_frozen_class_is_what_a_frozen_dataclass_is(args: tuple[Any, ...],
                                                       kwargs: dict[str, Any]) -> None:
    mine, theirs = Mine(*args, **kwargs), Theirs(*args, **kwargs)
    assert repr(mine) == repr(theirs).replace("Theirs(", "Mine(")
    assert [getattr(mine, f.name) for f in dataclasses.fields(Theirs)] == \
        [getattr(theirs, f.name) for f in dataclasses.fields(Theirs)]
    same = Mine(*args, **kwargs)
    assert mine == same and theirs == Theirs(*args, **kwargs)
    with pytest.raises(TypeError):  # a dict field: neither hashes
        hash(mine)
    with pytest.raises(TypeError):
        hash(theirs)
    plain, theirs_plain = Mine("a", 1, ("t",), ()), Theirs("a", 1, ("t",), ())  # type: ignore
    assert hash(plain) == hash(theirs_plain) == hash(Mine("a", 1, ("t",), (), "other"))  # type: ignore
    assert Mine("a", hidden="other") == Mine("a")  # compare=False
    assert Mine("a") != Mine("a", 1) and Mine("a") != Theirs("a")
    assert Mine.__match_args__ == Theirs.__match_args__
    assert mine.KIND == "k" and mine.doubled() == mine.count * 2


def test_assignment_and_deletion_fail_as_on_a_frozen_dataclass() -> None:
    mine = Mine("a")
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'name'"):
        mine.name = "b"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'count'"):
        del mine.count  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        mine.other = 1  # type: ignore[attr-defined]


def test_each_instance_gets_its_own_default_factory_value() -> None:
    one, two = Mine("a"), Mine("b")
    assert one.extra == {} and one.extra is not two.extra


def test_arguments_are_checked_as_a_dataclass_checks_them() -> None:
    with pytest.raises(TypeError):
        Mine()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Mine("a", nope=1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="non-default argument"):
        @frozen
        class Bad:
            a: int = 1
            b: int  # type: ignore[misc]


def test_dataclasses_functions_still_work_on_a_frozen_class() -> None:
    mine = Mine("a", 2, extra={"k": 1})
    assert dataclasses.is_dataclass(mine)
    params = Mine.__dataclass_params__  # type: ignore[attr-defined]
    assert repr(params) == repr(Theirs.__dataclass_params__)  # type: ignore[attr-defined]
    assert params.frozen and params.eq and not params.order
    assert [f.name for f in dataclasses.fields(mine)] == ["name", "count", "tags", "extra",
                                                         "hidden"]
    assert dataclasses.replace(mine, count=5) == Mine("a", 5, extra={"k": 1})
    assert dataclasses.asdict(mine) == dataclasses.asdict(Theirs("a", 2, extra={"k": 1}))
    assert pickle.loads(pickle.dumps(mine)) == mine


def test_post_init_runs() -> None:
    @frozen
    class Checked:
        value: int

        def __post_init__(self) -> None:
            if self.value < 0:
                raise ValueError("negative")

    assert Checked(1).value == 1
    with pytest.raises(ValueError, match="negative"):
        Checked(-1)


def test_the_fast_path_value_types_are_frozen_not_dataclasses() -> None:
    """The value types the read queries load are ``@frozen`` (no ``dataclasses`` import at
    start-up): ``__frozen_fields__`` is what ``@frozen`` sets and ``@dataclass`` does not."""
    from governance.ci_context import CiContext
    from governance.domain.config import GovernanceConfig
    from governance.ledger.verified import VerifiedHead

    for cls in (CiContext, GovernanceConfig, VerifiedHead):
        assert "__frozen_fields__" in cls.__dict__, cls
    assert "__frozen_fields__" not in Theirs.__dict__  # the check can fail


def test_init_is_compiled_with_the_first_instance() -> None:
    @frozen
    class Late:
        a: int
        b: str = "x"

    assert Late.__init__.__code__.co_varnames[:3] == ("self", "args", "kwargs")  # the stub
    assert Late(1) == Late(a=1, b="x")
    assert Late.__init__.__code__.co_varnames[:3] == ("self", "a", "b")  # compiled, in place
    assert Late(2, "y").b == "y"
