"""A safe evaluator of arithmetic over named operands: the expression is parsed with ``ast`` and walked, so only
numbers, the operands' names, ``+ - * / **`` (with a bounded exponent), unary signs, parentheses and the
functions in ``FUNCTIONS`` are evaluated. Nothing is passed to ``eval`` or ``exec``; anything else (attributes,
subscripts, other calls or names, comprehensions, strings) is refused with an ``ExpressionError``."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping

MAX_EXPONENT = 10
"""Largest absolute exponent of ``**`` (a bigger one is refused: ``9 ** 9 ** 9`` would never finish)."""
MAX_CHARS = 400
"""Longest expression accepted."""


class ExpressionError(ValueError):
    """An expression that is not plain arithmetic over the known operands, or that cannot be evaluated."""


def _mean(*values: float) -> float:
    if not values:
        raise ExpressionError("avg() needs at least one value")
    return sum(values) / len(values)


FUNCTIONS: dict[str, Callable[..., float]] = {"abs": abs, "min": min, "max": max, "round": round, "avg": _mean,
                                              "mean": _mean, "sum": lambda *values: sum(values)}
"""The functions an expression may call (``sum`` and ``avg`` take their values as arguments: ``avg(a, b)``)."""

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.Pow: operator.pow}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def names(expression: str) -> set[str]:
    """The operand names ``expression`` uses (function names left out); raises ExpressionError if it does not
    parse."""
    tree = _parse(expression)
    called = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in called}


def evaluate(expression: str, operands: Mapping[str, float] | None = None) -> float:
    """The value of ``expression`` with ``operands`` bound by name: ``evaluate("(b - a) / a * 100", {"a": 987,
    "b": 1204})``. Raises ExpressionError for anything but arithmetic, an unknown name, a division by zero, an
    exponent beyond ``MAX_EXPONENT`` or a result that is not a finite number."""
    bound = dict(operands or {})
    value = _walk(_parse(expression).body, bound)
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
        raise ExpressionError(f"{expression!r} does not evaluate to a finite number")
    return float(value)


def _parse(expression: str) -> ast.Expression:
    if len(expression) > MAX_CHARS:
        raise ExpressionError(f"expression longer than {MAX_CHARS} characters")
    try:
        return ast.parse(expression.strip(), mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"{expression!r} is not an arithmetic expression: {e.msg}") from None


def _walk(node: ast.AST, operands: dict[str, float]) -> float:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ExpressionError(f"{node.value!r} is not a number")
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in operands:
            raise ExpressionError(f"unknown name {node.id!r} (operands: {', '.join(sorted(operands)) or 'none'})")
        return operands[node.id]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_walk(node.operand, operands))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _walk(node.left, operands), _walk(node.right, operands)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise ExpressionError(f"exponent {right} is beyond {MAX_EXPONENT}")
        if isinstance(node.op, ast.Div) and right == 0:
            raise ExpressionError("division by zero")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS \
            and not node.keywords:
        args = [_walk(a, operands) for a in node.args]
        if node.func.id == "round":
            if not 1 <= len(args) <= 2:
                raise ExpressionError("round() takes a value and at most a number of digits")
            return round(args[0], int(args[1])) if len(args) == 2 else round(args[0])
        if node.func.id in ("min", "max") and not args:
            raise ExpressionError(f"{node.func.id}() needs at least one value")
        try:
            return FUNCTIONS[node.func.id](*args)
        except TypeError as e:
            raise ExpressionError(f"{ast.unparse(node)!r}: {e}") from None
    raise ExpressionError(f"{ast.unparse(node)!r} is not allowed: only numbers, operand names, + - * / **, and "
                          f"the functions {', '.join(FUNCTIONS)}")
