"""Calculations a question asks for, as an arithmetic expression over named operands (a line item in a fiscal
period). The definition a question states ("DPO is defined as: 365 * (average accounts payable between FY2016
and FY2017) / (FY2017 COGS + change in inventory between FY2016 and FY2017)") is read as it is written; a
question that names a common metric without defining it gets the metric's usual definition (``METRICS``), in the
same words; growth rates, CAGRs and averages over a range of years are read from the question's wording.
``ragtune.generation.arithmetic`` evaluates the expression once the operands are read from the filing's tables."""

from __future__ import annotations

import re

from ragtune.packs.base import Calculation, Cell, Operand
from ragtune.packs.finance.amounts import asked_scale, asks_percent, format_number, parse_cell
from ragtune.packs.finance.line_items import asked_items
from ragtune.packs.finance.periods import Period, header_period, question_periods
from ragtune.packs.finance.tables import SCALE_WORDS, Reading, answer_text, read_rows, rows_in

METRICS: tuple[tuple[str, str, bool], ...] = (
    # (how questions name it (a regex), its definition in the words of a question, a percentage)
    (r"unadjusted ebitda\s*(?:%|percent)?\s*margin|ebitda\s*%\s*margin",
     "(operating income + depreciation and amortization) / revenue", True),
    (r"unadjusted ebitda", "operating income + depreciation and amortization", False),
    (r"working capital ratio|current ratio", "total current assets / total current liabilities", False),
    (r"(?:net )?working capital", "total current assets - total current liabilities", False),
    (r"operating cash flow ratio", "cash from operations / total current liabilities", False),
    (r"(?:free cash ?flow|fcf) conversion", "(cash from operations - capital expenditure) / net income", False),
    (r"free cash ?flow|\bfcf\b", "cash from operations - capital expenditure", False),
    (r"retention ratio", "(net income - dividends paid) / net income", False),
    (r"inventory turnover", "cost of goods sold / average inventories between FY{prev} and FY{p}", False),
    (r"fixed asset turnover", "revenue / average net property plant and equipment between FY{prev} and FY{p}",
     False),
    (r"return on assets|\broa\b", "net income / average total assets between FY{prev} and FY{p}", False),
    (r"days payable outstanding|\bdpo\b", "365 * average accounts payable between FY{prev} and FY{p} / (cost of "
                                         "goods sold + change in inventories between FY{prev} and FY{p})", False),
    (r"(?:net profit|net income) (?:%\s*)?margin", "net income / revenue", True),
    (r"(?:unadjusted )?operating (?:income )?(?:%\s*)?margin", "operating income / revenue", True),
    (r"gross (?:profit )?(?:%\s*)?margin", "(revenue - cost of goods sold) / revenue", True),
    (r"capex as a % of revenue|capital expenditures? as a % of revenue", "capital expenditure / revenue", True),
    (r"cost of goods sold as a % of revenue|cogs as a % of revenue", "cost of goods sold / revenue", True),
)

THRESHOLDS: tuple[tuple[str, str, str, float], ...] = (
    # (how a yes/no question names the rule (a regex), the metric in the words of a question, comparison, bound):
    # conventional rules of thumb (docs/packs.md), not fitted to any question's label
    (r"quick ratio|acid[- ]test", "(total current assets - inventories) / total current liabilities", ">=", 1.0),
    (r"current ratio|working capital ratio", "total current assets / total current liabilities", ">=", 1.0),
    (r"negative (?:net )?working capital", "total current assets - total current liabilities", "<", 0.0),
    (r"working capital", "total current assets - total current liabilities", ">", 0.0),
)
"""Yes/no judgements read as a metric against a bound: "a healthy liquidity profile based on its quick ratio" is
a quick ratio of at least 1 (liquid assets cover the current liabilities), "positive working capital" current
assets above current liabilities."""
UP = re.compile(r"\b(?:increas\w*|grow|grew|growth|grown|growing|rise|rose|improv\w*|higher)\b", re.IGNORECASE)
DOWN = re.compile(r"\b(?:decreas\w*|declin\w*|fall|fell|drop\w*|lower|reduc\w*)\b", re.IGNORECASE)
_TREND = re.compile(r"\b(?:increas|grow|grew|rise|rose|improv|higher|decreas|declin|fall|fell|drop|lower|reduc)\w*",
                    re.I)
_CLAUSE = re.compile(r"[?.;]\s")
_EXISTENCE = re.compile(r"\bany\b", re.I)
_COMPARE = {">": lambda v, b: v > b, ">=": lambda v, b: v >= b, "<": lambda v, b: v < b}

_P = r"(?:FY\s*)?(?:19|20)\d\d"
_WORD_OPERATORS = [(re.compile(r"\bdivided by\b", re.I), " / "), (re.compile(r"\b(?:times|multiplied by)\b", re.I),
                    " * "), (re.compile(r"\bplus\b", re.I), " + "), (re.compile(r"\b(?:less|minus)\b", re.I), " - ")]
_TOKENS = re.compile(r"[()*/+]|(?<=\s)-(?=\s)|(?<=\))\s*-|-(?=\s*\()|[^()*/+\s][^()*/+]*?(?=\s+-\s|\s*[()*/+]|\s*$)")
_AVERAGE = re.compile(rf"^(?:the\s+)?average\s+(?:of\s+)?(?:the\s+)?(?P<item>.+?)\s+(?:between|from)\s+(?P<a>{_P})"
                      rf"\s+(?:and|to)\s+(?P<b>{_P})$", re.I)
_CHANGE = re.compile(rf"^(?:the\s+)?change\s+in\s+(?P<item>.+?)\s+(?:between|from)\s+(?P<a>{_P})\s+(?:and|to)\s+"
                     rf"(?P<b>{_P})$", re.I)
_DEFINITION = re.compile(r"(?P<name>\b[\w&%()' -]{2,60}?)\s+(?:here\s+)?(?:is|are)\s+defined\s+as:?\s*"
                         r"(?P<body>.+?)(?:\.(?:\s|$)|\?|$)", re.I)
_DEFINE = re.compile(r"\bdefine\s+(?P<name>[\w&%' -]{2,60}?)\s+as:?\s+(?P<body>.+?)(?:\.(?:\s|$)|\?|$)", re.I)
_GROWTH = [
    re.compile(rf"(?:year[- ]over[- ]year|yoy)\s+change\s+in\s+(?P<item>[\w\s&,]+?)\s+from\s+(?P<a>{_P})\s+to\s+"
               rf"(?P<b>{_P})", re.I),
    re.compile(rf"(?P<a>{_P})\s*-\s*(?P<b>{_P})\s+(?P<item>[\w\s&,]+?)\s+growth\s+rate", re.I),
    re.compile(rf"(?P<item>[\w\s&,]+?)\s+growth\s+(?:rate\s+)?from\s+(?P<a>{_P})\s+to\s+(?P<b>{_P})", re.I),
]
_CAGR = re.compile(rf"(?P<n>\d+|two|three|four|five)\s+year\s+(?P<item>[\w\s&,]+?)\s+cagr\s+from\s+(?P<a>{_P})\s+"
                   rf"to\s+(?P<b>{_P})", re.I)
_RANGE_AVERAGE = re.compile(rf"(?P<a>{_P})\s*-\s*(?P<b>{_P})\s+(?:\d+|two|three|four|five)\s+year\s+average\s+"
                            r"(?:of\s+)?(?P<metric>.+?)(?:\s+for\b|\?|\(|$)"
                            rf"|(?:\d+|two|three|four|five)\s+year\s+average\s+(?:of\s+)?(?P<metric2>.+?)\s+"
                            rf"(?:from|between)\s+(?P<a2>{_P})\s+(?:and|to)\s+(?P<b2>{_P})", re.I)
_ROUND = re.compile(r"\bround(?:ed)?\s+(?:your\s+|the\s+)?(?:answer\s+)?to\s+(?P<n>\d|one|two|three|four)\s+"
                    r"decimal", re.I)
_YES_NO = re.compile(r"(?:does|do|did|is|are|was|were|has|have|had|can|will|would|should)\b", re.I)
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_FILLER = re.compile(r"^(?:the|unadjusted|total amount of)\s+|\s*\((?:from|in|on)\b[^)]*\)$|\s+from the .+$", re.I)
_DERIVED = re.compile(r"\b(?:ratios?|margins?|turnover|growth|change[sd]?|average|cagr|yield|days|rate|percent\w*|"
                      r"proportion|share of|per cent)\b|%", re.I)
_PER_SHARE = re.compile(r"\bper (?:common |diluted |basic )?share\b|\beps\b", re.I)
_ASKS_VALUE = re.compile(r"\b(?:how much|how many|what (?:is|was|were|are)|amount)\b", re.I)


OPERAND_MATCH = 0.8
"""An operand is read from a row only when the row's label holds every word of the line item (``label_match``):
"Total current assets" is no operand "total current liabilities", though good enough for a question's lookup."""


class FormulaError(ValueError):
    """A definition that is not arithmetic over line items."""


def _year(text: str) -> int:
    return int(re.sub(r"\D", "", text))


def _identifier(item: str, period: Period) -> str:
    words = re.findall(r"[a-z0-9]+", item.lower().replace("&", " and "))
    return "_".join(words or ["value"]) + f"_{period.year}"


class _Reader:
    """Turns a definition in words into an expression, collecting its operands."""

    def __init__(self, default: Period, named: dict[str, str]) -> None:
        self.default = default
        self.named = named  # other metrics the question defines (CCC's DIO, DSO, DPO), lower-cased
        self.operands: dict[str, Operand] = {}

    def operand(self, item: str, period: Period) -> str:
        item = _FILLER.sub("", " ".join(item.split())).strip(" ,")
        if not re.search(r"[a-z]", item, re.I):
            raise FormulaError(f"no line item in {item!r}")
        name = _identifier(item, period)
        self.operands.setdefault(name, Operand(name, f"{item} {period}", f"What is the {period} {item}?"))
        return name

    def phrase(self, text: str) -> str:
        text = " ".join(text.split()).strip(" ,:")
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            return text
        if text.lower() in self.named:
            return f"({self.expression(self.named[text.lower()])})"
        if m := _AVERAGE.match(text):
            return f"avg({self.operand(m['item'], Period(_year(m['a'])))}, " \
                   f"{self.operand(m['item'], Period(_year(m['b'])))})"
        if m := _CHANGE.match(text):
            return f"({self.operand(m['item'], Period(_year(m['b'])))} - " \
                   f"{self.operand(m['item'], Period(_year(m['a'])))})"
        periods = question_periods(text)
        item = re.sub(rf"\b{_P}\b", " ", text, flags=re.I) if periods else text
        return self.operand(item, periods[0] if periods else self.default)

    def expression(self, body: str) -> str:
        for pattern, symbol in _WORD_OPERATORS:
            body = pattern.sub(symbol, body)
        parts = []
        for token in _TOKENS.findall(f" {body} "):
            token = token.strip()
            if not token:
                continue
            parts.append(token if token in "()*/+-" else self.phrase(token))
        return " ".join(parts).replace("( ", "(").replace(" )", ")")


def _decimals(question: str) -> int | None:
    m = _ROUND.search(question)
    return None if not m else int(m["n"]) if m["n"].isdigit() else _NUMBERS[m["n"].lower()]


def _metric(text: str) -> tuple[str, str, bool] | None:
    return next(((pattern, body, pct) for pattern, body, pct in METRICS if re.search(pattern, text, re.I)), None)


def _period_of(question: str) -> Period | None:
    periods = [p for p in question_periods(question) if p.quarter is None]
    return periods[0] if periods else None


def calculation(question: str) -> Calculation | None:
    """The calculation ``question`` asks for; None when it asks for none this module can read (a value to look
    up, a judgement, a calculation without a definition)."""
    if _YES_NO.match(question.split("question:")[-1].strip()):
        judged = judgement(question)
        return judged[0] if judged else None
    decimals, percent = _decimals(question), asks_percent(question)
    defined = {m["name"].strip(): m["body"] for m in (*_DEFINITION.finditer(question), *_DEFINE.finditer(question))}
    for pattern in (_CAGR, *_GROWTH):
        if m := pattern.search(question):
            a, b = Period(_year(m["a"])), Period(_year(m["b"]))
            reader = _Reader(b, {})
            start, end = reader.operand(m["item"], a), reader.operand(m["item"], b)
            if pattern is _CAGR:
                years = int(m["n"]) if m["n"].isdigit() else _NUMBERS[m["n"].lower()]
                expression = f"(({end} / {start}) ** (1 / {years}) - 1) * 100"
            else:
                expression = f"({end} - {start}) / {start} * 100"
            return Calculation(m.group(0), expression, tuple(reader.operands.values()), True, decimals)
    if m := _RANGE_AVERAGE.search(question):
        a, b = _year(m["a"] or m["a2"]), _year(m["b"] or m["b2"])
        metric = m["metric"] or m["metric2"]
        found = _metric(metric)
        if found is None or b < a or b - a > 10:
            return None
        terms, operands = [], {}
        for year in range(a, b + 1):
            reader = _Reader(Period(year), {})
            terms.append(reader.expression(found[1].format(p=year, prev=year - 1)))
            operands |= reader.operands
        scale = " * 100" if found[2] or percent else ""
        expression = f"avg({', '.join(f'({t})' for t in terms)}){scale}"
        return Calculation(metric.strip(), expression, tuple(operands.values()), found[2] or percent, decimals)
    period = _period_of(question)
    if period is None:
        return None
    # the metric asked for: the first definition, or a common metric the question names
    if defined:
        metric, body = next(iter(defined.items()))
        metric = re.sub(r"^.*?\b(?:the|a|an)\s+", "", metric) or metric
        pct = percent or "%" in metric or "margin" in metric.lower()
    elif found := _metric(question):
        metric, body, pct = re.search(found[0], question, re.I).group(0), found[1], found[2] or percent
    else:
        return lookup(question, period, decimals)
    short = {k.split()[-1].lower(): v for k, v in defined.items()}  # "dio" from "dio" or "the dio"
    reader = _Reader(period, short)
    try:
        expression = reader.expression(body.format(p=period.year, prev=period.year - 1))
    except (FormulaError, KeyError, IndexError):
        return None
    if pct:
        expression = f"({expression}) * 100"
    return Calculation(metric.strip(), expression, tuple(reader.operands.values()), pct, decimals)


def _subject(text: str) -> tuple[str, bool] | None:
    """(the metric's definition in words, a percentage) of the metric or line item ``text`` names."""
    if found := _metric(text):
        return found[1], found[2]
    items = asked_items(text)
    return (items[0].name, False) if items else None


def judgement(question: str) -> tuple[Calculation, str, float] | None:
    """A yes/no question read as a metric against a bound: (the calculation, comparison, bound). A trend ("an
    improving operating margin as of FY2022", "did it grow its PPNE between FY20 and FY21") is the metric's
    change from the earlier year to the later one (the year before, when one is named) against 0, up or down as
    asked; a rule of ``THRESHOLDS`` the metric against its bound. None when the question is neither, asks
    whether there was any event, or names no fiscal year."""
    years = [p for p in question_periods(question) if p.quarter is None]
    if not years or _EXISTENCE.search(question):
        return None
    trend, name = _TREND.search(question), ""
    if trend:  # the metric named in the clause after the direction word, else in the one before it
        after, before = _CLAUSE.split(question[trend.end():])[0], _CLAUSE.split(question[:trend.start()])[-1]
        name = after if _subject(after) else before
    subject = _subject(name) if trend else None
    if subject:
        body, pct = subject
        a, b = sorted(p.year for p in years[:2]) if len(years) > 1 else (years[0].year - 1, years[0].year)
        if a == b:
            return None
        terms, operands = [], {}
        for year in (b, a):
            reader = _Reader(Period(year), {})
            try:
                terms.append(reader.expression(body.format(p=year, prev=year - 1)))
            except FormulaError:
                return None
            operands |= reader.operands
        expression = f"(({terms[0]}) - ({terms[1]})){' * 100' if pct else ''}"
        found = _metric(name)
        label = re.search(found[0], name, re.I).group(0).lower() if found else asked_items(name)[0].name
        calc = Calculation(f"the change in {label} from FY{a} to FY{b}", expression, tuple(operands.values()), False,
                           None, verdict=True)
        return calc, ("<" if DOWN.search(trend.group(0)) else ">"), 0.0
    rule = next((r for r in THRESHOLDS if re.search(r[0], question, re.I)), None)
    if rule is None:
        return None
    pattern, body, op, bound = rule
    reader = _Reader(years[0], {})
    expression = reader.expression(body)
    label = re.search(pattern, question, re.I).group(0)
    return Calculation(f"{label} {years[0]}", expression, tuple(reader.operands.values()), verdict=True), op, bound


def _verdict(question: str, calc: Calculation, value: float) -> str:
    """"Yes"/"No" with the value and the rule it was judged by."""
    _, op, bound = judgement(question) or (calc, ">", 0.0)
    shown = f"{format_number(value / 1e6, 0)} million" if abs(value) >= 1e6 else format_number(value, 2)
    return f"{'Yes' if _COMPARE[op](value, bound) else 'No'}: {calc.label} is {shown} (Yes when {op} {bound:g})"


def lookup(question: str, period: Period, decimals: int | None = None) -> Calculation | None:
    """A question that asks for one line item's value in a period ("What is the FY2019 capital expenditure (in USD
    millions)?") as a calculation of one operand, so that the operand stages retrieve its row and the answer cites
    it; None when it names no known line item or asks for something derived from one (a ratio, a margin, a
    change, an average) or does not ask for a value."""
    items = asked_items(question)
    if not items or _DERIVED.search(question) or not _ASKS_VALUE.search(question):
        return None
    reader = _Reader(period, {})
    name = reader.operand(items[0].name, period)
    operand = reader.operands[name]
    scale = asked_scale(question)
    if scale:  # a table that states no scale is read in the unit asked (``read_rows``)
        operand = Operand(name, operand.label, f"{operand.query[:-1]} (in USD {SCALE_WORDS[scale].strip()}s)?")
    return Calculation(f"{items[0].name} {period}", name, (operand,), False, decimals)


_FLOW = re.compile(r"\bended\b|\bmonths\b|\bcash flows?\b", re.I)
"""A column or table of a period's flows ("Year Ended December 31, 2017", "Statements of Cash Flows")."""
STATEMENT = re.compile(r"\bstatements? of (?:consolidated )?(?:operations|income|earnings|cash flows?|financial "
                       r"position)|\bbalance sheets?\b|\bincome statements?\b", re.I)
"""A financial statement's title: its rows are the company's totals (a note or segment table may repeat a label)."""
_AS_OF = re.compile(r"\bas of\b", re.I)
"""A column of balances at a date ("As of December 31, 2015"), unless it also names a period (``_FLOW``)."""


def operand_readings(operand: Operand, text: str) -> list[Reading]:
    """The readings of ``operand`` in the table rows of ``text``: rows whose label holds its line item
    (``OPERAND_MATCH``), per-share rows only for a per-share operand; for a balance (``LineItem.balance``) no
    column or table of a period's flows (a cash flow statement's "Inventories" row is their change), for another
    line item (a period's flow: revenue, depreciation) no column of balances "as of" a date."""
    per_share = _PER_SHARE.search(operand.query) is not None
    items = asked_items(operand.query)
    balance = bool(items) and items[0].balance

    def fits(r: Reading) -> bool:
        flow = bool(_FLOW.search(r.header) or _FLOW.search(r.row.title))
        return not flow if balance else not (items and _AS_OF.search(r.header) and not flow)

    return [r for r in read_rows(operand.query, rows_in(text))
            if r.score >= OPERAND_MATCH and (_PER_SHARE.search(r.row.label) is not None) == per_share and fits(r)]


def operand_rank(reading: Reading) -> tuple[bool, bool, float]:
    """How good a reading of an operand is: first a row of a financial statement (``STATEMENT``, named in its
    table's title or column header) over a note's, a segment's or a summary's; then a table that states its scale
    (a row of a table without one is read in the unit asked, which may not be the table's); then the label's
    match."""
    statement = bool(STATEMENT.search(reading.row.title) or STATEMENT.search(reading.header))
    return statement, reading.row.scale > 1, reading.score


def _value(operand: Operand, reading: Reading) -> tuple[float, str]:
    items = asked_items(operand.query)
    value = abs(reading.amount.value) if items and items[0].outflow else reading.amount.value
    return value, f"{reading.row.label}, {reading.header}: {reading.text}"


def read_operand(operand: Operand, text: str) -> tuple[float, str] | None:
    """(value, the row and column it was read from) of ``operand`` in the table rows of ``text``: the best reading
    (``operand_rank``) in its period's column, with the table's scale; an outflow line item printed in
    parentheses (a capital expenditure, dividends paid) as a positive amount. None when no row holds it."""
    readings = operand_readings(operand, text)
    return _value(operand, max(readings, key=operand_rank)) if readings else None


def pick_operand(operand: Operand, texts: list[str]) -> tuple[int, float, str] | None:
    """(index in ``texts``, value, as printed) of the best reading of ``operand`` across the passages
    (``operand_rank``; the earlier passage on a tie), or None when none holds it."""
    found = [(operand_rank(r), -i, i, r) for i, text in enumerate(texts) for r in operand_readings(operand, text)]
    if not found:
        return None
    *_, i, reading = max(found, key=lambda f: f[:2])
    return (i, *_value(operand, reading))


def format_result(question: str, calc: Calculation, value: float) -> str:
    """A result in the unit and precision asked: a percentage to the decimals asked (one by default), an amount in
    the scale the question asks for ("$5,818.00 million" for "in USD millions"; millions when it asks none), a ratio
    to two decimals; a verdict as Yes or No with its value."""
    if calc.verdict:
        return _verdict(question, calc, value)
    if calc.percent:
        return f"{format_number(value, 1 if calc.decimals is None else calc.decimals)}%"
    digits = 2 if calc.decimals is None else calc.decimals
    scale = asked_scale(question)
    if scale:
        sign = "-" if value < 0 else ""
        return f"{sign}${format_number(abs(value) / scale, digits)}{SCALE_WORDS.get(scale, '')}"
    if abs(value) >= 1e6:  # no unit asked: millions, as statements print them (the unit is not known: no "$")
        return f"{format_number(value / 1e6, digits)} million"
    return format_number(value, digits)


MAX_DRAFT_YEARS = 4
"""A draft calculation offers the line items in at most this many fiscal years."""
_COMPUTE = re.compile(r"\b(?:calculat\w*|comput\w*)\b", re.I)
_PRIOR_YEAR = re.compile(r"\b(?:average|turnover|return on|days)\b", re.I)
_PERCENT_WORDS = re.compile(r"%|\bpercent|\bgrowth\b|\bmargin\b", re.I)


def draft(question: str) -> Calculation | None:
    """A calculation ``question`` asks for (a ratio, margin, change, average... or "calculate") whose formula
    ``calculation`` does not read: every line item the question names in every fiscal year from the first it
    names to the last (and the year before, for an average, a turnover or a return), with an empty expression;
    None when it asks for no calculation or names no line item or period."""
    if _YES_NO.match(question.split("question:")[-1].strip()):
        return None
    derived = _DERIVED.search(question) or _COMPUTE.search(question)
    items, periods = asked_items(question), question_periods(question)
    if derived is None or not items or not periods:
        return None
    years = sorted({p.year for p in periods})
    first = years[0] - 1 if _PRIOR_YEAR.search(question) else years[0]
    years = list(range(max(first, years[-1] - MAX_DRAFT_YEARS + 1), years[-1] + 1))
    quarter = periods[0] if periods[0].quarter and len(periods) == 1 else None
    reader = _Reader(periods[0], {})
    for item in items:
        for period in [quarter] if quarter else [Period(y) for y in years]:
            reader.operand(item.name, period)
    label = f"{' and '.join(i.name for i in items)} {derived.group(0).lower()}"
    percent = asks_percent(question) or bool(_PERCENT_WORDS.search(question))
    return Calculation(label, "", tuple(reader.operands.values()), percent, _decimals(question))


def cells(text: str) -> list[Cell]:
    """Every amount of a table row in ``text`` in a column that names a period, as ``read_operand`` prints it."""
    out = []
    for row in rows_in(text):
        for header, cell in row.cells:
            period, amount = header_period(header), parse_cell(cell, row.scale)
            if period is not None and amount is not None and not amount.percent:
                out.append(Cell(row.label, str(period), amount.value,
                                f"{row.label}, {header}: {answer_text('', amount, None)}"))
    return out
