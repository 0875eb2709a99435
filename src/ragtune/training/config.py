"""Configuration of fine-tuning (SFT, preference tuning, the continuous loop, the embedder and reranker, the
reader's verdicts)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class LoRAConfig(_Strict):
    """The low-rank adapter trained on top of the frozen base model (PEFT ``LoraConfig``)."""

    r: int = Field(16, ge=1, description="Rank of the adapter matrices.")
    alpha: int = Field(32, ge=1, description="Scale of the adapter's update (alpha / r).")
    dropout: float = Field(0.05, ge=0, lt=1, description="Dropout on the adapter's input.")
    target_modules: str | list[str] = Field(
        "all-linear", description="Module names to adapt, or 'all-linear' (every linear layer but the LM head).")


class RAFTConfig(_Strict):
    """Retrieval-augmented fine-tuning (``--rag``): each prompt is the grounded RAG prompt holding the gold
    chunk(s) among ``distractors`` other chunks retrieved for the question, so the model learns to find and cite
    the right passage and to ignore the rest."""

    distractors: int = Field(3, ge=0, description="Retrieved non-gold chunks per prompt.")
    p_gold: float = Field(1.0, ge=0, le=1, description="Share of prompts that hold the gold chunks (RAFT's P); "
                          "the others keep the answer but only distractors, which trains recall of the facts.")
    cite: bool = Field(True, description="Append the gold passages' [n] markers to the target answer.")
    quote: bool = Field(False, description="Targets first quote the gold passage's sentence that best supports the "
                        "answer, cited, then give the answer (RAFT's quote-then-answer), as the extract strategy "
                        "answers.")


class SFTConfig(_Strict):
    """LoRA supervised fine-tuning (``ragtune tune sft``) on a dataset's train split; validation split for the
    eval loss, test split for the held-out token F1 / ROUGE-L of base and tuned model."""

    base_model: str | None = Field(None, description="Profile, GGUF file, model directory or hub id; default: "
                                   "the project's llm.model.")
    dataset: str = Field("synth", description="A dataset name under .ragtune/datasets/ or a folder with "
                         "train/validation/test.jsonl.")
    epochs: float = Field(2.0, gt=0, description="Passes over the train split.")
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimizer steps (beats epochs).")
    learning_rate: float = Field(2e-4, gt=0, description="Peak learning rate.")
    lr_scheduler: str = Field(
        "cosine", description="Learning-rate schedule (a transformers name: cosine, linear, constant, ...).")
    warmup_ratio: float = Field(0.05, ge=0, lt=1, description="Share of the steps that warm the learning rate up.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    batch_size: int = Field(8, ge=1, description="Examples per device and step, flattened padding-free.")
    grad_accum: int = Field(1, ge=1, description="Steps whose gradients add up to one optimizer step.")
    batch_tokens: int | None = Field(
        4096, ge=64, description="Most tokens a device batch may hold, counted as examples x the longest train "
        "example: a larger batch is cut to a divisor of batch_size x grad_accum and accumulation raised to match, "
        "so each optimizer step still sees as many examples (8 RAFT prompts of three passages took a 135M model "
        "past 14 GB). None: no cap.")
    max_length: int = Field(2048, ge=64, description="Longer examples (in tokens) are left out and counted.")
    lora: LoRAConfig = Field(default_factory=LoRAConfig)
    rag: bool = Field(False, description="Train on RAG prompts with distractor chunks (see raft).")
    raft: RAFTConfig = Field(default_factory=RAFTConfig)
    system_prompt: str = Field(
        "You are an assistant for questions about the user's documents. Answer briefly and precisely.",
        description="System message of closed-book (non-RAG) training and evaluation prompts.")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="auto: bf16 on GPUs that support it and on CPUs with native bf16 (AVX512-BF16/AMX), "
        "else fp32.")
    threads: int | None = Field(None, ge=1, description="CPU threads (default: the cores available).")
    seed: int = Field(0, description="Seed of shuffling, dropout and RAFT sampling.")
    save_steps: int = Field(10, ge=1, description="Checkpoint every N steps (for --resume).")
    merge: bool = Field(True, description="Also save the adapter merged into the base weights (merged/).")
    export_gguf: bool = Field(True, description="Convert the adapter to a GGUF LoRA so llama_cpp serves it.")
    evaluate: bool = Field(True, description="Score base and tuned model on the test split after training.")
    eval_limit: int | None = Field(None, ge=1, description="Score at most this many test questions.")


class PreferenceConfig(_Strict):
    """Preference tuning on the feedback store's exports: LoRA on the LLM champion (the base model when there is
    none). Prompts get ``sft.system_prompt``, so every version answers in the same closed-book format."""

    source: Literal["human", "ai"] | None = Field(None, description="Train on human or on AI feedback only; "
                                                 "None: both.")
    with_context: bool = Field(False, description="Prompts hold the passages each answer was generated from.")
    epochs: float = Field(1.0, gt=0, description="Passes over the training rows.")
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimizer steps (beats epochs).")
    learning_rate: float = Field(5e-5, gt=0, description="Peak learning rate.")
    lr_scheduler: str = Field(
        "cosine", description="Learning-rate schedule (a transformers name: cosine, linear, constant, ...).")
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="Share of the steps that warm the learning rate up.")
    beta: float = Field(0.1, gt=0, description="How strongly the model is held near the model it starts from.")
    batch_size: int = Field(4, ge=2, description="Examples per step (KTO estimates its KL term within a batch).")
    grad_accum: int = Field(1, ge=1, description="Steps whose gradients add up to one optimizer step.")
    max_length: int = Field(1024, ge=64, description="Prompt + answer tokens; longer examples are truncated.")
    lora: LoRAConfig = Field(default_factory=LoRAConfig)
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="auto: bf16 where the hardware has native bf16, else fp32.")
    threads: int | None = Field(None, ge=1, description="CPU threads (default: the cores available).")
    seed: int = Field(0, description="Seed of shuffling and dropout.")
    save_steps: int = Field(10, ge=1, description="Checkpoint every N steps (for --resume).")
    evaluate: bool = Field(True, description="Score base and tuned model on the test split of `sft.dataset` "
                           "(when it exists) after training.")


class DPOConfig(PreferenceConfig):
    """``ragtune tune dpo``: Direct Preference Optimization on chosen/rejected pairs (TRL DPOTrainer)."""

    loss_type: str = Field("sigmoid", description="TRL's DPO loss: sigmoid (DPO), ipo, hinge, robust, ...")


class KTOConfig(PreferenceConfig):
    """``ragtune tune kto``: Kahneman-Tversky Optimization on answers labelled good or bad (TRL KTOTrainer)."""

    desirable_weight: float = Field(1.0, gt=0, description="Loss weight of good answers (raise it when they are "
                                    "fewer than the bad ones).")
    undesirable_weight: float = Field(1.0, gt=0, description="Loss weight of bad answers.")


class LoopConfig(_Strict):
    """``ragtune tune loop``: each round trains a candidate from the champion on the feedback gathered since the
    last round and promotes it only when it beats the champion on a frozen held-out set by more than the noise."""

    stages: list[Literal["reader", "sft", "dpo"]] = Field(
        default_factory=lambda: ["reader", "sft", "dpo"],
        description="What a round trains, in order: the reader's models (`tune reader`) on the yes/no verdicts and "
        "quoted clauses of rated and corrected answers (with training.reader.questions, if set), SFT on corrected "
        "and accepted answers, DPO on preferences.")
    dataset: str | None = Field(None, description="The LLM's held-out set: this dataset's test split (default: "
                                "sft.dataset); the reader's models are judged on held-out labelled documents.")
    eval_limit: int | None = Field(None, ge=1, description="Score at most this many held-out questions.")
    metric: Literal["token_f1", "rouge_l", "exact_match"] = Field(
        "token_f1", description="The held-out metric the gate compares.")
    level: float = Field(0.95, gt=0, lt=1, description="Confidence level of the paired bootstrap interval.")
    bootstrap_samples: int = Field(2000, ge=100, description="Resamples of the paired bootstrap interval.")
    seed: int = Field(0, description="Seed of the bootstrap.")
    min_feedback: int = Field(1, ge=1, description="New feedback records a round needs to train.")
    wait_s: float = Field(0.0, ge=0, description="How long a round waits for enough new feedback (0: it stops).")


class RetrievalTuneConfig(_Strict):
    """Shared settings of the retrieval models' training: (question, relevant passage) pairs from a QA dataset's
    train split (its rows' ``chunk_ids``, passages from the project's index) or a BEIR folder's
    ``qrels/train.tsv``, with hard negatives mined by BM25 and/or the dense embedder."""

    dataset: str = Field("synth", description="A QA dataset name under .ragtune/datasets/, a folder with "
                         "train.jsonl, or a BEIR folder (corpus.jsonl, queries.jsonl, qrels/train.tsv).")
    base_model: str | None = Field(None, description="Model to start from: a package name, folder, or registry "
                                   "version id / champion; default: the project's embedder.model.")
    epochs: float = Field(2.0, gt=0, description="Passes over the training pairs.")
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimizer steps (beats epochs).")
    learning_rate: float = Field(3e-5, gt=0, description="Peak learning rate.")
    warmup_ratio: float = Field(0.1, ge=0, lt=1, description="Share of the steps that warm the learning rate up.")
    batch_size: int = Field(32, ge=2, description="Questions per step (the others' passages are in-batch negatives).")
    max_length: int = Field(256, ge=16, description="Tokens per text (embedder) or question+passage pair "
                            "(reranker); longer ones are truncated.")
    mine: list[Literal["bm25", "dense", "random"]] = Field(
        default_factory=lambda: ["bm25"], description="Where negatives come from, taken in turn: BM25's and the "
        "project embedder's top ranks (hard negatives), random passages of the pool (easy ones).")
    negatives: int = Field(1, ge=0, description="Hard negatives per (question, passage) pair.")
    precision: Literal["auto", "fp32", "bf16", "fp16"] = Field(
        "auto", description="auto: bf16 where the hardware has native bf16, else fp32.")
    threads: int | None = Field(None, ge=1, description="CPU threads (default: the cores available).")
    seed: int = Field(0, description="Seed of mining and shuffling.")
    evaluate: bool = Field(True, description="nDCG@10 before and after training on the validation split, when "
                           "the dataset has one.")


class EmbedderTuneConfig(RetrievalTuneConfig):
    """``ragtune tune embedder``: domain adaptation of the sentence-transformers embedder with
    MultipleNegativesRankingLoss (in-batch negatives plus the mined hard negatives)."""


class RerankerTuneConfig(RetrievalTuneConfig):
    """``ragtune tune reranker``: a cross-encoder (one relevance logit) initialised from the base model's
    weights, trained with binary cross-entropy on positives and mined negatives."""

    epochs: float = Field(1.0, gt=0, description="Passes over the training pairs.")
    learning_rate: float = Field(5e-5, gt=0, description="Peak learning rate.")
    batch_size: int = Field(16, ge=2, description="Question-passage pairs per step.")
    mine: list[Literal["bm25", "dense", "random"]] = Field(
        default_factory=lambda: ["bm25", "dense", "random"], min_length=1,
        description="Where negatives come from, taken in turn: BM25, the embedder, random passages.")
    negatives: int = Field(4, ge=1, description="Mined negatives per (question, passage) pair.")
    loss: Literal["bce", "listwise"] = Field("bce", description="bce: binary cross-entropy on (question, passage, "
                                             "label) pairs; listwise: softmax over each question's positive, its "
                                             "hard negatives and other questions' passages in the batch.")
    candidates: int = Field(30, ge=1, description="BM25 candidates reranked by the before/after evaluation.")


class VerdictTuneConfig(_Strict):
    """``ragtune tune verdicts``: yes/no verdict models from human-labelled questions about the project's
    documents. For each question, a logistic regression over the tf-idf words of a passage learns which passages
    hold the clause it asks about; the threshold on a document's best passage comes from cross-validation over
    documents."""

    questions: str | None = Field(None, description="The labelled questions (CSV, JSONL or JSON, as `ragtune bench "
                                  "--questions` reads them): each row names its `document` and has `label` (or "
                                  "`answer`) Yes or No and, for Yes, the clause as `contexts`.")
    inverse_regularization: float = Field(10.0, gt=0, description="C of each logistic regression (larger: fits "
                                          "the labels more closely).")
    question_weight: float = Field(0.05, ge=0, description="The question's own words count as one more passage "
                                   "that holds the clause, with this share of the labelled passages' weight, so a "
                                   "question with few labelled clauses leans toward its words.")
    min_df: int = Field(2, ge=1, description="Words found in fewer passages are left out of the vocabulary.")
    folds: int = Field(15, ge=2, description="Cross-validation folds over documents (one per document when there "
                       "are fewer): the threshold and the reported accuracy come from documents a fold did not "
                       "train on.")


class ReaderTuneConfig(_Strict):
    """``ragtune tune reader``: the reader's models trained from labelled questions and kept only when they beat
    the champion (the untuned reader when there is none) on labelled documents held out of their training; the
    verdict model's own settings are ``training.verdicts``', the sentence scorer's ``training.reranker``'."""

    questions: str | None = Field(None, description="The labelled questions (as `tune verdicts --questions` reads "
                                  "them): rows with a `document` and a Yes or No `label` train the verdict model, "
                                  "the Yes clauses (`contexts`) the sentence scorer.")
    test_share: float = Field(0.3, gt=0, lt=1, description="Share of the labelled documents held out to judge "
                              "each candidate (at least one); their labels are in no training.")
    level: float = Field(0.95, gt=0, lt=1, description="Confidence level of the gate's paired bootstrap interval.")
    bootstrap_samples: int = Field(2000, ge=100, description="Resamples of the gate's paired bootstrap interval.")
    seed: int = Field(0, description="Seed of the held-out split and the bootstrap.")


class ExpressionTuneConfig(_Strict):
    """``ragtune tune expressions``: LoRA SFT of the expression writer (``answer.expressions``) on synthetic
    examples from the indexed table rows, promoted only when it beats the champion (the untuned LLM when there is
    none) on examples of held-out documents. Other training settings are ``training.sft``'s."""

    base_model: str | None = Field(None, description="The LLM to tune (profile, GGUF, folder or hub id); default: "
                                   "the project's llm.model, which also writes before tuning.")
    per_document: int = Field(40, ge=1, description="Synthetic examples made from each document's rows at most.")
    distractors: int = Field(2, ge=0, description="Other values of the passage offered beside the two needed.")
    test_share: float = Field(0.3, gt=0, lt=1, description="Share of the documents held out to judge the version.")
    test_examples: int = Field(60, ge=1, description="Held-out examples scored at most.")
    max_tokens: int = Field(48, ge=4, description="Length of an expression written when scoring (as "
                            "answer.expressions.max_tokens).")
    metric: Literal["right", "valid"] = Field("right", description="The gate's metric: right-result rate, or "
                                              "valid-expression rate.")
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimizer steps (beats epochs).")
    epochs: float = Field(2.0, gt=0, description="Passes over the training examples.")
    learning_rate: float = Field(2e-4, gt=0, description="Peak learning rate.")
    batch_size: int = Field(8, ge=1, description="Examples per step.")
    level: float = Field(0.95, gt=0, lt=1, description="Confidence level of the gate's paired bootstrap interval.")
    bootstrap_samples: int = Field(2000, ge=100, description="Resamples of the gate's paired bootstrap interval.")
    seed: int = Field(0, description="Seed of the examples, the held-out split, training and the bootstrap.")


class TrainingConfig(_Strict):
    """``training:`` in ragtune.yaml."""

    sft: SFTConfig = Field(default_factory=SFTConfig)
    dpo: DPOConfig = Field(default_factory=DPOConfig)
    kto: KTOConfig = Field(default_factory=KTOConfig)
    loop: LoopConfig = Field(default_factory=LoopConfig)
    embedder: EmbedderTuneConfig = Field(default_factory=EmbedderTuneConfig)
    reranker: RerankerTuneConfig = Field(default_factory=RerankerTuneConfig)
    verdicts: VerdictTuneConfig = Field(default_factory=VerdictTuneConfig)
    reader: ReaderTuneConfig = Field(default_factory=ReaderTuneConfig)
    expressions: ExpressionTuneConfig = Field(default_factory=ExpressionTuneConfig)
