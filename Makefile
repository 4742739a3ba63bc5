# The two commands of the README:
#   make app    set everything up and serve the apps on the bundled sample data
#   make test   install everything the tests need and run the whole suite (what CI runs)
# Both are idempotent and work in a clean clone.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# pinned versions (constraints.txt) for everything make installs; pyproject.toml keeps ranges
CONSTRAINTS := constraints.txt
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml $(CONSTRAINTS) | cksum | cut -d' ' -f1)
PORT   ?= 8866
HOST   ?= 127.0.0.1
DATASET ?= data_samples/university

.PHONY: app test setup system postgres lint bench samples validate clean constraints \
	check-constraints

app: setup
	$(BIN)/workbench validate $(DATASET)
	$(BIN)/workbench serve $(DATASET) --port $(PORT) --host $(HOST)

test: system postgres setup check-constraints
	$(BIN)/python -m pytest $(PYTEST_ARGS)

setup: $(STAMP)

$(STAMP): pyproject.toml $(CONSTRAINTS)
	bash .ci/python-venv.sh "$(PYTHON)" "$(VENV)"
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[test]'
	$(BIN)/python .ci/check-constraints.py $(CONSTRAINTS)
	rm -f $(VENV)/.installed-*
	touch $@

# every installed version must be the pinned one (CI runs this through make test)
check-constraints: setup
	$(BIN)/python .ci/check-constraints.py $(CONSTRAINTS)

# re-pin from the current venv after a dependency change (review the diff before committing)
constraints: setup
	{ sed -n '1,3p' $(CONSTRAINTS); $(BIN)/python -m pip freeze --all --exclude-editable \
	  | grep -viE '^setuptools==' | sort -f; } > $(CONSTRAINTS).new && mv $(CONSTRAINTS).new $(CONSTRAINTS)

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
