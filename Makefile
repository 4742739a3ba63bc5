# The two commands of the README:
#   make app    set everything up and serve the apps on the bundled sample data
#   make test   install everything the tests need and run the whole suite (what CI runs)
# Both are idempotent and work in a clean clone.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PORT   ?= 8866
HOST   ?= 127.0.0.1
DATASET ?= data_samples/university

.PHONY: app test setup system postgres lint bench samples validate clean

app: setup
	$(BIN)/workbench validate $(DATASET)
	$(BIN)/workbench serve $(DATASET) --port $(PORT) --host $(HOST)

test: system postgres setup
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): pyproject.toml
	bash .ci/python-venv.sh "$(PYTHON)" "$(VENV)"
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-*
	touch $@

system:
	bash .ci/system-packages.sh

# the PostgreSQL server the workshop store's tests also run against (Debian's postgresql)
postgres:
	bash .ci/postgres.sh

lint: setup
	$(BIN)/ruff check .

bench: setup
	$(BIN)/python benchmarks/run.py

samples: setup
	$(BIN)/workbench samples

validate: setup
	$(BIN)/workbench validate data_samples/university
	$(BIN)/workbench validate data_samples/municipality

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis artifacts
