"""The cost model: measured usage (tokens, seconds, training time) x a price sheet -> cost per query, monthly
total cost of ownership (TCO) by query volume, break-even volumes and retraining-cadence scenarios.

Monthly TCO is linear in the query volume V:  TCO(V) = F + v * V, where

- v, the cost of one query = generation + retrieval:
  generation = (prompt_tokens * input_per_mtok + completion_tokens * output_per_mtok) / 1e6
               + hourly_usd * llm_seconds / 3600 / utilization
  (llm_seconds = the measured LLM time, or prompt/prompt_tokens_per_s + completion/completion_tokens_per_s
  when the sheet gives the model's throughput);
  retrieval = query_tokens * embedding.per_mtok_usd / 1e6 + embedding.hourly_usd * retrieval_seconds / 3600
  (retrieval_seconds = measured latency minus LLM time), for arms that retrieve;
- F, the fixed monthly cost = model fixed_monthly_usd + (retrieving arms) vector_store.monthly_usd
  + changes_per_month(cadence) * refresh, where a refresh after the documents change is
  re-embedding the corpus for retrieving arms (corpus_tokens / 1e6 * embedding.per_mtok_usd
  + embedding.hourly_usd * corpus_tokens / embedding_tokens_per_s / 3600) and retraining for fine-tuned
  arms (training_hours * training.hourly_usd + training_tokens / 1e6 * training.per_mtok_usd
  + labelling.per_item_usd * review_share * training_examples).

The break-even volume of arms a and b solves F_a + v_a V = F_b + v_b V:  V* = (F_b - F_a) / (v_a - v_b),
meaningful when positive; below it the arm with the smaller F is cheaper, above it the one with smaller v.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ragtune.config import Price, format_validation_error
from ragtune.errors import ConfigError
from ragtune.evaluation.config import CHANGES_PER_MONTH

PRESETS = ("laptop-cpu", "cloud-gpu", "openai-api")
HOURS_PER_MONTH = 730.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class ModelPrice(Price):
    """Serving price of a model: per-token (API) and/or per hour of compute (self-hosted)."""

    prompt_tokens_per_s: float | None = Field(None, gt=0, description="None: use the measured LLM time.")
    completion_tokens_per_s: float | None = Field(None, gt=0)
    utilization: float = Field(1.0, gt=0, le=1, description="Share of paid hours spent serving queries.")
    fixed_monthly_usd: float = Field(0.0, ge=0, description="Reserved capacity, licences.")


class EmbeddingPrice(_Strict):
    per_mtok_usd: float = Field(0.0, ge=0)
    hourly_usd: float = Field(0.0, ge=0)
    tokens_per_s: float | None = Field(None, gt=0, description="None: the throughput measured by the bench.")


class VectorStorePrice(_Strict):
    monthly_usd: float = Field(0.0, ge=0)


class TrainingPrice(_Strict):
    hourly_usd: float = Field(0.0, ge=0)
    per_mtok_usd: float = Field(0.0, ge=0, description="Hosted fine-tuning: USD per million training tokens.")
    hours: float | None = Field(None, ge=0, description="None: the measured training time of the version.")


class LabellingPrice(_Strict):
    per_item_usd: float = Field(0.0, ge=0)
    review_share: float = Field(0.0, ge=0, le=1, description="Share of training examples a person checks "
                                                             "per retraining.")


class PriceSheet(_Strict):
    """A price sheet (YAML). ``models`` maps model names to prices; ``default`` prices any other model and
    ``fine_tuned`` (when given) any fine-tuned version."""

    name: str
    description: str = ""
    sources: list[str] = Field(default_factory=list)
    models: dict[str, ModelPrice]
    embedding: EmbeddingPrice = Field(default_factory=EmbeddingPrice)
    vector_store: VectorStorePrice = Field(default_factory=VectorStorePrice)
    training: TrainingPrice = Field(default_factory=TrainingPrice)
    labelling: LabellingPrice = Field(default_factory=LabellingPrice)

    @model_validator(mode="after")
    def _has_default(self) -> PriceSheet:
        if "default" not in self.models:
            raise ValueError("models needs a 'default' entry")
        return self

    def model_price(self, key: str, fine_tuned: bool) -> ModelPrice:
        if key in self.models:
            return self.models[key]
        if fine_tuned and "fine_tuned" in self.models:
            return self.models["fine_tuned"]
        return self.models["default"]


def load_price_sheet(spec: str, root: Path | None = None) -> PriceSheet:
    """A shipped preset by name, or a YAML file (relative paths from ``root``)."""
    if spec in PRESETS:
        text = resources.files("ragtune.evaluation").joinpath(f"price_sheets/{spec}.yaml").read_text("utf-8")
        where = f"price sheet preset {spec}"
    else:
        path = Path(spec) if root is None or Path(spec).is_absolute() else root / spec
        if not path.is_file():
            raise ConfigError(f"price sheet {spec!r}: not a preset ({', '.join(PRESETS)}) nor a file")
        text, where = path.read_text(encoding="utf-8"), str(path)
    try:
        return PriceSheet.model_validate(yaml.safe_load(text) or {})
    except yaml.YAMLError as e:
        raise ConfigError(f"{where}: not valid YAML: {e}") from None
    except ValidationError as e:
        raise ConfigError(format_validation_error(e, where)) from None


@dataclass
class ArmUsage:
    """What an arm measurably used per query (means over the benchmark) and to be trained."""

    name: str
    price_key: str
    retrieves: bool
    fine_tuned: bool
    prompt_tokens: float
    completion_tokens: float
    latency_s: float
    llm_s: float
    query_tokens: float
    accuracy: float
    training_hours: float | None = None
    training_examples: int | None = None
    training_tokens: int | None = None


@dataclass
class Deployment:
    """Measured facts about the documents: their size and how fast the embedder reads them."""

    corpus_tokens: int
    embedding_tokens_per_s: float | None


@dataclass
class ArmCost:
    name: str
    generation_usd: float
    retrieval_usd: float
    cost_per_query_usd: float
    cost_per_correct_usd: float | None
    refresh_usd: float
    fixed_monthly_usd: float
    training_hours: float | None

    def to_dict(self) -> dict:
        return asdict(self)

    def tco(self, volume: float) -> float:
        return self.fixed_monthly_usd + self.cost_per_query_usd * volume


class CostModel:
    """Applies a price sheet to measured usage (see the module docstring for the formulas)."""

    def __init__(self, sheet: PriceSheet, deployment: Deployment) -> None:
        self.sheet = sheet
        self.deployment = deployment

    def llm_seconds(self, u: ArmUsage, price: ModelPrice) -> float:
        if price.prompt_tokens_per_s and price.completion_tokens_per_s:
            return u.prompt_tokens / price.prompt_tokens_per_s + u.completion_tokens / price.completion_tokens_per_s
        return u.llm_s

    def generation(self, u: ArmUsage) -> float:
        p = self.sheet.model_price(u.price_key, u.fine_tuned)
        tokens = (u.prompt_tokens * p.input_per_mtok + u.completion_tokens * p.output_per_mtok) / 1e6
        return tokens + p.hourly_usd * self.llm_seconds(u, p) / 3600 / p.utilization

    def retrieval(self, u: ArmUsage) -> float:
        if not u.retrieves:
            return 0.0
        e = self.sheet.embedding
        return u.query_tokens * e.per_mtok_usd / 1e6 + e.hourly_usd * max(u.latency_s - u.llm_s, 0.0) / 3600

    def training_hours(self, u: ArmUsage) -> float | None:
        if not u.fine_tuned:
            return None
        return self.sheet.training.hours if self.sheet.training.hours is not None else u.training_hours

    def reindex(self) -> float:
        """Re-embedding the whole corpus (an upper bound: ingest re-embeds only changed documents)."""
        e, d = self.sheet.embedding, self.deployment
        tps = e.tokens_per_s or d.embedding_tokens_per_s
        compute = e.hourly_usd * d.corpus_tokens / tps / 3600 if tps else 0.0
        return d.corpus_tokens * e.per_mtok_usd / 1e6 + compute

    def retrain(self, u: ArmUsage) -> float:
        s = self.sheet
        labelling = s.labelling.per_item_usd * s.labelling.review_share * (u.training_examples or 0)
        tokens = (u.training_tokens or 0) * s.training.per_mtok_usd / 1e6
        return (self.training_hours(u) or 0.0) * s.training.hourly_usd + tokens + labelling

    def refresh(self, u: ArmUsage) -> float:
        """What one change of the documents costs the arm: re-indexing and/or retraining."""
        return (self.reindex() if u.retrieves else 0.0) + (self.retrain(u) if u.fine_tuned else 0.0)

    def fixed_monthly(self, u: ArmUsage, cadence: str) -> float:
        p = self.sheet.model_price(u.price_key, u.fine_tuned)
        store = self.sheet.vector_store.monthly_usd if u.retrieves else 0.0
        return p.fixed_monthly_usd + store + CHANGES_PER_MONTH[cadence] * self.refresh(u)

    def arm(self, u: ArmUsage, cadence: str) -> ArmCost:
        gen, ret = self.generation(u), self.retrieval(u)
        per_query = gen + ret
        return ArmCost(u.name, gen, ret, per_query, per_query / u.accuracy if u.accuracy > 0 else None,
                       self.refresh(u), self.fixed_monthly(u, cadence), self.training_hours(u))


def break_even(a: ArmCost, b: ArmCost) -> float | None:
    """The monthly query volume at which a and b cost the same; None when one is cheaper at every volume."""
    dv = a.cost_per_query_usd - b.cost_per_query_usd
    if abs(dv) < 1e-15:
        return None
    volume = (b.fixed_monthly_usd - a.fixed_monthly_usd) / dv
    return volume if volume > 0 else None
