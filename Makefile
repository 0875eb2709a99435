# `make demo` and `make test` work on a fresh machine: they create .venv and install everything first.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
# llama.cpp (llama-cpp-python) is compiled for this CPU, but without AMX: where a VM does not grant the AMX tile
# state, its kernels die with a general protection fault in libggml-cpu.
ifeq ($(shell uname -m),x86_64)
LLAMA_CFLAGS := -mno-amx-tile -mno-amx-int8 -mno-amx-bf16
endif

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install torch==2.13.0           # CPU wheel; must come before anything that depends on torch
	CFLAGS="$(LLAMA_CFLAGS)" CXXFLAGS="$(LLAMA_CFLAGS)" $(BIN)/pip install "llama-cpp-python>=0.3.0"
	$(BIN)/pip install -e ".[train,serve,dev,scale]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/ragtune demo demo-project

test: install
	$(BIN)/lint-imports
	$(BIN)/pytest -q; rc=$$?; [ $$rc -eq 5 ] && rc=0; exit $$rc

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) demo-project
