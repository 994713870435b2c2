"""Frozen value classes without importing ``dataclasses`` (issue 18: start-up).

``@frozen`` makes a class what ``@dataclass(frozen=True)`` makes it, for the value types the
read queries' fast path loads: the same ``__init__`` (positional or keyword, defaults,
``field(default_factory=...)``, ``__post_init__``), ``__repr__``, ``__eq__`` and ``__hash__``
over the fields (``repr=False``/``compare=False`` honoured), ``__match_args__``, and
``dataclasses.FrozenInstanceError`` on assignment. ``dataclasses`` itself imports ``inspect``
(with ``ast``, ``dis``, ``tokenize``: about 12 ms) and builds each class with several
``exec`` calls (up to 1 ms a class): here one small ``exec`` per class builds ``__init__``.

``dataclasses.fields``, ``replace``, ``asdict`` and ``is_dataclass`` still work on these
classes: ``__dataclass_fields__`` and ``__dataclass_params__`` are taken from a real frozen
dataclass with the same fields, made (importing ``dataclasses``) the first time something asks
for them, and ``__init__`` is compiled when the
first instance is made. Inheritance between frozen classes is not supported (none of ours needs
it): a decorated class's bases must have no fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform

_T = TypeVar("_T")
_MISSING: Any = object()  # no default given
_FACTORY: Any = object()  # the argument left out: call the field's default factory


class _Field:
    __slots__ = ("default", "default_factory", "repr", "compare")

    def __init__(self, default: Any, default_factory: Any, repr: bool, compare: bool) -> None:
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare


def field(*, default: Any = _MISSING, default_factory: Callable[[], Any] | Any = _MISSING,
          repr: bool = True, compare: bool = True) -> Any:
    """What ``dataclasses.field`` declares, for ``@frozen`` classes (these four options)."""
    if default is not _MISSING and default_factory is not _MISSING:
        raise ValueError("cannot specify both default and default_factory")
    return _Field(default, default_factory, repr, compare)


def _shadow(owner: type) -> type:
    """A real ``@dataclass(frozen=True)`` with ``owner``'s fields (names, annotations, defaults,
    factories, repr/compare), made once on first use: its ``__dataclass_fields__`` and
    ``__dataclass_params__`` are what ``dataclasses`` itself builds, through its public API
    only, whatever the Python version."""
    made = owner.__dict__.get("__frozen_shadow__")
    if made is not None:
        return made  # type: ignore[no-any-return]
    import dataclasses

    namespace: dict[str, Any] = {"__annotations__": {}, "__module__": owner.__module__,
                                 "__qualname__": owner.__qualname__}
    for name, spec in owner.__frozen_fields__:  # type: ignore[attr-defined]
        namespace["__annotations__"][name] = owner.__annotations__[name]
        kwargs: dict[str, Any] = {"repr": spec.repr, "compare": spec.compare}
        if spec.default is not _MISSING:
            kwargs["default"] = spec.default
        if spec.default_factory is not _MISSING:
            kwargs["default_factory"] = spec.default_factory
        namespace[name] = dataclasses.field(**kwargs)
    made = dataclasses.dataclass(frozen=True)(type(owner.__name__, (), namespace))
    type.__setattr__(owner, "__frozen_shadow__", made)
    return made


class _DataclassFields:
    """``__dataclass_fields__`` on first use: the shadow dataclass's ``Field`` objects, so that
    the module's ``fields``/``replace``/``asdict`` treat the class as a dataclass."""

    def __get__(self, instance: object, owner: type) -> dict[str, Any]:
        built: dict[str, Any] = _shadow(owner).__dataclass_fields__  # type: ignore[attr-defined]
        type.__setattr__(owner, "__dataclass_fields__", built)
        return built


class _DataclassParams:
    """``__dataclass_params__`` on first use: what ``@dataclass(frozen=True)`` records."""

    def __get__(self, instance: object, owner: type) -> Any:
        params = _shadow(owner).__dataclass_params__  # type: ignore[attr-defined]
        type.__setattr__(owner, "__dataclass_params__", params)
        return params


def _is_classvar(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def frozen(cls: type[_T]) -> type[_T]:
    """Make ``cls`` a frozen value class (see the module docstring)."""
    for base in cls.__mro__[1:]:
        if base.__dict__.get("__annotations__") and base is not object:
            raise TypeError(f"@frozen {cls.__name__}: base {base.__name__} has fields")
    specs: list[tuple[str, _Field]] = []
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if _is_classvar(annotation):
            continue
        value = cls.__dict__.get(name, _MISSING)
        spec = value if isinstance(value, _Field) else _Field(value, _MISSING, True, True)
        if isinstance(value, _Field):
            if value.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, value.default)
        specs.append((name, spec))
    names = tuple(name for name, _ in specs)
    params, lines = [], []
    scope: dict[str, Any] = {"__s": object.__setattr__, "__F": _FACTORY}
    seen_default = False
    for name, spec in specs:
        if spec.default is not _MISSING:
            scope[f"__d_{name}"] = spec.default
            params.append(f"{name}=__d_{name}")
            lines.append(f" __s(self, {name!r}, {name})")
        elif spec.default_factory is not _MISSING:
            scope[f"__f_{name}"] = spec.default_factory
            params.append(f"{name}=__F")
            lines.append(f" __s(self, {name!r}, __f_{name}() if {name} is __F else {name})")
        else:
            if seen_default:
                raise TypeError(f"non-default argument {name!r} follows default argument")
            params.append(name)
            lines.append(f" __s(self, {name!r}, {name})")
            continue
        seen_default = True
    if "__post_init__" in cls.__dict__:
        lines.append(" self.__post_init__()")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(lines) or " pass")

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        """Compiles the class's ``__init__`` on the first instance (a class the command never
        instantiates costs no ``exec``), puts it in place and calls it."""
        exec(source, scope)  # noqa: S102 - our own names only: the class's field names
        real = scope["__init__"]
        real.__qualname__ = f"{cls.__qualname__}.__init__"
        type.__setattr__(cls, "__init__", real)
        real(self, *args, **kwargs)

    init = __init__
    shown = tuple(name for name, spec in specs if spec.repr)
    compared = tuple(name for name, spec in specs if spec.compare)

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"{self.__class__.__qualname__}({inner})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            return (tuple(getattr(self, name) for name in compared)
                    == tuple(getattr(other, name) for name in compared))
        return NotImplemented

    def __hash__(self: Any) -> int:
        return hash(tuple(getattr(self, name) for name in compared))

    def __setattr__(self: Any, name: str, value: object) -> None:
        if type(self) is cls or name in names:
            from dataclasses import FrozenInstanceError

            raise FrozenInstanceError(f"cannot assign to field {name!r}")
        super(cls, self).__setattr__(name, value)

    def __delattr__(self: Any, name: str) -> None:
        if type(self) is cls or name in names:
            from dataclasses import FrozenInstanceError

            raise FrozenInstanceError(f"cannot delete field {name!r}")
        super(cls, self).__delattr__(name)

    made: dict[str, Any] = {"__init__": init, "__repr__": __repr__, "__eq__": __eq__,
                            "__setattr__": __setattr__, "__delattr__": __delattr__}
    explicit_hash = cls.__dict__.get("__hash__", _MISSING)
    own_eq = "__eq__" in cls.__dict__
    for attr, function in made.items():
        if attr not in cls.__dict__:
            function.__qualname__ = f"{cls.__qualname__}.{attr}"
            type.__setattr__(cls, attr, function)
    if explicit_hash is _MISSING or (explicit_hash is None and own_eq):
        __hash__.__qualname__ = f"{cls.__qualname__}.__hash__"
        type.__setattr__(cls, "__hash__", __hash__)
    if "__match_args__" not in cls.__dict__:
        type.__setattr__(cls, "__match_args__", names)
    type.__setattr__(cls, "__frozen_fields__", tuple(specs))
    type.__setattr__(cls, "__dataclass_fields__", _DataclassFields())
    type.__setattr__(cls, "__dataclass_params__", _DataclassParams())
    return cls
