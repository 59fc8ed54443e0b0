# xlcrm — `make demo` and `make test` do all the set-up on a fresh machine.
PY     ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
SAMPLE  = sample_workbooks/xlcrm_sample_zh.xlsx
OUT     = out

.PHONY: install demo test lint templates samples bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: install
	@mkdir -p $(OUT)
	@cp $(SAMPLE) $(OUT)/demo_crm.xlsx
	$(BIN)/xlcrm info $(OUT)/demo_crm.xlsx
	@echo "Result: $(OUT)/demo_crm.xlsx"

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check xlcrm tests benchmarks

templates: install
	$(BIN)/xlcrm template build --out templates

samples: install
	$(BIN)/python -m xlcrm.samples --out sample_workbooks

bench: install
	$(BIN)/python -m pip install -q -e ".[dev,bench]"
	$(BIN)/python benchmarks/read_bench.py

clean:
	rm -rf $(OUT) .pytest_cache
