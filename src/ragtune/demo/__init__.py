"""The bundled demo: six CUAD contracts (CC BY 4.0) and sample questions."""

from pathlib import Path

DEMO_DIR = Path(__file__).parent
CORPUS = DEMO_DIR / "corpus"
# human-labelled benchmark questions (``ragtune bench --questions``): CUAD's labels of the six contracts (each
# asked of its own contract) and questions written for them; see ATTRIBUTION.md
BENCH_QUESTIONS = DEMO_DIR / "questions.jsonl"
QUESTIONS = [
    "What is the term of the e-business hosting agreement with Bluefly?",
    "Who are the parties to the servicing agreement?",
    "Which state's law governs the endorsement agreement?",
    "What is the recipe for chocolate cake?",
]
