"""Line items: the names a question uses for a financial statement's line and the labels filings print for it.
Each entry is one concept: the phrases a question may use, the row labels that report it, whether filings
print it as an outflow (in parentheses) that a question asks for as a positive amount, and whether it is a
balance (a balance sheet's amount at a date, not a period's flow)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache


@dataclass(frozen=True)
class LineItem:
    """A concept: ``asked`` (how questions name it), ``labels`` (how statements print it), ``outflow``,
    ``balance`` (read at a date: a cash flow statement's row of the same label is its change)."""

    name: str
    asked: tuple[str, ...]
    labels: tuple[str, ...]
    outflow: bool = False
    balance: bool = False


LINE_ITEMS: tuple[LineItem, ...] = (
    LineItem("capital expenditure", ("capital expenditure", "capital expenditures", "capex", "capital spending"),
             ("purchases of property plant and equipment", "purchases of property and equipment",
              "payments for property plant and equipment", "payments for acquisition of property plant and equipment",
              "additions to property plant and equipment", "additions to property and equipment",
              "acquisitions of property plant and equipment", "capital expenditures", "capital spending",
              "expenditures for property plant and equipment", "purchases of property equipment and software",
              "property plant and equipment additions", "purchases of land buildings and equipment"), outflow=True),
    LineItem("cost of goods sold", ("cogs", "cost of goods sold", "cost of sales", "cost of revenue",
                                    "cost of revenues", "cost of products sold"),
             ("cost of revenue", "total cost of revenue", "cost of sales", "cost of goods sold",
              "cost of products sold", "cost of revenues", "total cost of revenues", "cost of merchandise sold")),
    LineItem("net income", ("net income attributable to shareholders", "net income", "net earnings", "net profit"),
             ("net income attributable to", "net income", "net earnings attributable to", "net earnings")),
    LineItem("operating cash flow", ("cash flow from operating activities", "cash from operations",
                                     "cash flows from operating activities", "operating cash flow",
                                     "net cash from operating activities", "cash provided by operating activities"),
             ("net cash provided by operating activities", "net cash provided by used in operating activities",
              "net cash from operating activities", "cash provided by operations", "net cash provided by operations",
              "cash flows from operating activities", "net cash flows from operating activities")),
    LineItem("dividends paid", ("cash dividends", "dividends paid", "paid out in cash dividends", "dividends"),
             ("dividends paid", "cash dividends paid", "dividends paid to shareholders", "dividends",
              "cash dividends paid to common shareholders", "dividends paid on common stock"), outflow=True),
    LineItem("net property, plant and equipment",
             ("net property plant and equipment", "property plant and equipment net", "net ppe", "ppne", "net pp e",
              "pp and e", "ppe"),
             ("property plant and equipment net", "property and equipment net", "net property plant and equipment",
              "total property plant and equipment net", "property plant and equipment less accumulated depreciation",
              "property plant and equipment"),
             balance=True),
    LineItem("total assets", ("total assets",), ("total assets",), balance=True),
    LineItem("total current assets", ("total current assets", "current assets"), ("total current assets",),
             balance=True),
    LineItem("total current liabilities", ("total current liabilities", "current liabilities"),
             ("total current liabilities",), balance=True),
    LineItem("accounts payable", ("accounts payable",), ("accounts payable", "accounts payable trade",
                                                          "trade accounts payable", "accounts payable and accrued"),
             balance=True),
    LineItem("accounts receivable", ("accounts receivable", "receivables", "trade receivables"),
             ("accounts receivable", "accounts receivable net", "receivables net", "trade receivables",
              "trade accounts receivable", "receivables"), balance=True),
    LineItem("inventories", ("inventories", "inventory", "total amount of inventories"),
             ("inventories", "merchandise inventories", "inventory", "total inventories", "inventories net"),
             balance=True),
    LineItem("revenue", ("revenue", "revenues", "net sales", "total revenue", "sales"),
             ("total revenues", "total revenue", "net sales", "revenues", "revenue", "total net sales",
              "net revenues", "total net revenue")),
    LineItem("operating income", ("operating income", "income from operations", "operating profit"),
             ("operating income", "income from operations", "operating profit", "total operating income")),
    LineItem("depreciation and amortization", ("depreciation and amortization", "d a"),
             ("depreciation and amortization", "depreciation amortization", "depreciation")),
    LineItem("total debt", ("debt",), ("long term debt", "total debt", "long term debt excluding current portion"),
             balance=True),
)

_PARENS = re.compile(r"\([^()]*\)")


def normalize_label(text: str) -> str:
    """Lower-case words of a label or question, "&" as "and", parentheses and punctuation dropped:
    "Purchases of property, plant and equipment (PP&E)" is "purchases of property plant and equipment"."""
    t = _PARENS.sub(" ", text.lower()).replace("&", " and ")
    return " ".join(re.findall(r"[a-z0-9]+", t))


def asked_items(question: str) -> list[LineItem]:
    """The line items a question names (by ``LineItem.asked``), longest phrase first."""
    return list(_asked_items(question))


@lru_cache(maxsize=1024)
def _asked_items(question: str) -> tuple[LineItem, ...]:
    q = f" {normalize_label(question)} "
    found = []
    for item in LINE_ITEMS:
        hits = [len(p) for p in item.asked if f" {p} " in q]
        if hits:
            found.append((max(hits), item))
    return tuple(item for _, item in sorted(found, key=lambda f: -f[0]))
