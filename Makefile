# Siyu: `make run` serves the demo shop, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
PLUGIN_DIRS := $(sort $(dir $(wildcard plugins/*/setup.cfg)))
export SIYU_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test test-sqlite test-postgres install install-test i18n-extract i18n-compile hooks-doc bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[postgres,server]" $(foreach d,$(PLUGIN_DIRS),-e $(d))

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test,postgres,server]" $(foreach d,$(PLUGIN_DIRS),-e "$(d)[test]")

instance/siyu.cfg:
	mkdir -p instance
	printf '# Local shop settings (not in the repo).\nPLUGINS = "*"\n' > instance/siyu.cfg

run: install instance/siyu.cfg
	$(BIN)/flask --app siyu.storefront siyu db upgrade
	$(BIN)/flask --app siyu.storefront siyu seed --demo
	PORT=$(PORT) $(BIN)/flask --app siyu.storefront siyu demo

test: install-test
	$(BIN)/python -m pytest -q -p no:cacheprovider tests $(foreach d,$(PLUGIN_DIRS),$(d)tests)
	SIYU_TEST_DATABASE=postgresql $(BIN)/python -m pytest -q -p no:cacheprovider -m "not stripe" tests $(foreach d,$(PLUGIN_DIRS),$(d)tests)

hooks-doc: $(BIN)/python
	$(BIN)/flask --app siyu.storefront siyu hooks-doc

i18n-extract: $(BIN)/python
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o storefront/translations/messages.pot core storefront
	$(BIN)/pybabel update -i storefront/translations/messages.pot -d storefront/translations --no-fuzzy-matching

i18n-compile: $(BIN)/python
	$(BIN)/pybabel compile -d storefront/translations

bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) instance build *.egg-info
