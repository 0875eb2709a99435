"""Command-line options generated from the pydantic config sections, so that a YAML key of ragtune.yaml, its flag
and its Python argument cannot drift apart: ``training.sft.max_steps`` is ``ragtune tune sft --max-steps``, with
the field's type, description and default; a nested section's fields get its name as prefix (``--lora-r``).

A command decorated with ``config_options(SFTConfig, "training.sft")`` declares ``overrides: dict[str, Any]``
and receives the flags given (nested as the config is); ``ragtune.config.with_overrides`` applies them."""

from __future__ import annotations

import functools
import inspect
import types
from collections.abc import Callable, Iterator
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import annotated_types
import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo

# Short or older spellings kept next to the generated flag.
ALIASES: dict[str, tuple[str, ...]] = {"learning_rate": ("--lr",), "evaluate": ("--eval",), "wait_s": ("--wait",),
                                       "pack": ("--domain",)}

F = TypeVar("F", bound=Callable[..., Any])


def flag(path: tuple[str, ...]) -> str:
    """The flag of a (possibly nested) field: ``("lora", "r")`` -> ``--lora-r``."""
    return "--" + "-".join(path).replace("_", "-")


def _members(annotation: Any) -> list[Any]:
    if get_origin(annotation) in (Union, types.UnionType):
        return [a for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def _is_model(annotation: Any) -> bool:
    members = _members(annotation)
    return len(members) == 1 and isinstance(members[0], type) and issubclass(members[0], BaseModel)


def _is_list(annotation: Any) -> bool:
    return any(get_origin(m) is list for m in _members(annotation))


def _option_type(annotation: Any) -> Any:
    """What the flag parses: bool, int, float, a Literal's choices, else a string (lists: comma-separated)."""
    members = _members(annotation)
    if len(members) == 1 and (members[0] in (bool, int, float, str) or get_origin(members[0]) is Literal):
        return members[0]
    return str


def config_fields(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], FieldInfo]]:
    """Every leaf field of ``model`` with its path; nested sections are walked."""
    for name, field in model.model_fields.items():
        if _is_model(field.annotation):
            yield from config_fields(_members(field.annotation)[0], (*prefix, name))
        else:
            yield (*prefix, name), field


def _help(field: FieldInfo, key: str, default: Any) -> str:
    """The field's description, its YAML key and its built-in default (rich markup escaped)."""
    from rich.markup import escape

    shown = ",".join(map(str, default)) if isinstance(default, list) else default
    return escape(f"{(field.description or '').strip()} ({key}, default: {shown})".strip())


def _parameter(path: tuple[str, ...], field: FieldInfo, section: str, default: Any) -> inspect.Parameter:
    kind = _option_type(field.annotation)
    decls = [flag(path), *(ALIASES.get(path[-1], ()) if len(path) == 1 else ())]
    if kind is bool:
        decls = [f"{d}/--no-{d[2:]}" for d in decls]
    bounds = {}
    if kind in (int, float):
        for m in field.metadata:
            if isinstance(m, annotated_types.Ge):
                bounds["min"] = m.ge
            elif isinstance(m, annotated_types.Le):
                bounds["max"] = m.le
    option = typer.Option(*decls, help=_help(field, ".".join((section, *path)), default), show_default=False, **bounds)
    return inspect.Parameter("__".join(path), inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[kind | None, option])


def _value(field: FieldInfo, value: Any) -> Any:
    listed = _is_list(field.annotation) and isinstance(value, str)
    if listed and ("," in value or str not in _members(field.annotation)):
        return [v.strip() for v in value.split(",") if v.strip()]
    return value


def config_options(model: type[BaseModel], section: str, only: tuple[str, ...] | None = None) -> Callable[[F], F]:
    """Give a typer command one option per field of ``model`` (the config section ``section`` of ragtune.yaml;
    ``only``: these top-level fields alone); the command's ``overrides`` parameter receives the ones given, as a
    nested dict."""
    fields = {path: field for path, field in config_fields(model) if only is None or path[0] in only}
    defaults = model().model_dump()

    def default(path: tuple[str, ...]) -> Any:
        node = defaults
        for part in path:
            node = node[part]
        return node

    def decorate(command: F) -> F:
        own = [p for p in inspect.signature(command, eval_str=True).parameters.values() if p.name != "overrides"]
        generated = [_parameter(path, field, section, default(path)) for path, field in fields.items()]

        @functools.wraps(command)
        def wrapper(**kwargs: Any) -> Any:
            overrides: dict[str, Any] = {}
            for path, field in fields.items():
                value = kwargs.pop("__".join(path))
                if value is not None:
                    node = overrides
                    for part in path[:-1]:
                        node = node.setdefault(part, {})
                    node[path[-1]] = _value(field, value)
            return command(**kwargs, overrides=overrides)

        wrapper.__signature__ = inspect.Signature([*own, *generated])  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in wrapper.__signature__.parameters.values()}
        return wrapper  # type: ignore[return-value]

    return decorate
