# Siyu: `make run` serves the demo shop, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
PLUGIN_DIRS := $(sort $(dir $(wildcard plugins/*/setup.cfg)))
export SIYU_INSTANCE_PATH ?= $(CURDIR)/instance

.PHONY: run test test-alone wheels test-sqlite test-postgres install install-test lint typecheck constraints i18n-extract i18n-compile hooks-doc bench bench-scale clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Every install takes the versions CI tested from constraints.txt (`make constraints` renews them).
# dev: localstripe, the fake Stripe server of the demo (a real shop installs siyu[postgres,server]).
install: $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt -e ".[postgres,server,dev]" $(foreach d,$(PLUGIN_DIRS),-e $(d))

TEST_INSTALL := -e ".[test,postgres,server,dev]" $(foreach d,$(PLUGIN_DIRS),-e "$(d)[test]")

install-test: $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt $(TEST_INSTALL)

# constraints.txt: the newest releases setup.cfg's bounds allow, resolved in a fresh virtualenv and
# frozen (the siyu distributions left out). Run `make test` with them before committing the file.
constraints:
	rm -rf build/constraints-venv
	$(PYTHON) -m venv build/constraints-venv
	build/constraints-venv/bin/pip install --quiet --upgrade pip
	build/constraints-venv/bin/pip install --quiet $(TEST_INSTALL)
	{ printf '# The versions CI installs and tests (pip install -c constraints.txt ...).\n'; \
	  printf '# Regenerate with `make constraints`, then run `make test`; do not edit by hand.\n'; \
	  printf '# Resolved on Python %s.\n' "$$(build/constraints-venv/bin/python -c 'import sys; print(sys.version[:4])')"; \
	  build/constraints-venv/bin/pip freeze --all --exclude-editable | grep -v -E '^(pip|setuptools)=='; \
	} > constraints.txt
	rm -rf build/constraints-venv

# Lint first, fast: ruff (rules in pyproject.toml), then mypy on the public plugin API.
lint: $(BIN)/ruff
	$(BIN)/ruff check .
	@$(MAKE) --no-print-directory typecheck

# siyu.plugin is plugin_api/ in the source tree: links under build/typecheck give mypy the import
# names it is installed under (pyproject.toml's mypy_path).
typecheck: $(BIN)/mypy
	@mkdir -p build/typecheck/siyu
	@for pair in plugin:plugin_api core:core storefront:storefront; do \
		ln -sfn ../../../$${pair#*:} build/typecheck/siyu/$${pair%%:*}; done
	$(BIN)/mypy

$(BIN)/ruff $(BIN)/mypy: | $(BIN)/python
	$(BIN)/pip install --quiet -c constraints.txt $(notdir $@)

instance/siyu.cfg:
	mkdir -p instance
	printf '# Local shop settings (not in the repo).\nPLUGINS = "*"\n' > instance/siyu.cfg

# `flask siyu demo` also runs the queued and scheduled jobs in a thread (a shop runs `flask siyu worker`).
run: install instance/siyu.cfg
	$(BIN)/flask --app siyu.storefront siyu db upgrade
	$(BIN)/flask --app siyu.storefront siyu seed --demo
	PORT=$(PORT) $(BIN)/flask --app siyu.storefront siyu demo

# Each plugin's tests run in a session of their own, on top of the core alone: their conftest.py
# and models never leak into the core's tests or another plugin's.
test: install-test
	@$(MAKE) --no-print-directory lint
	$(BIN)/python -m pytest -q -p no:cacheprovider tests
	SIYU_TEST_DATABASE=postgresql $(BIN)/python -m pytest -q -p no:cacheprovider -m "not stripe" tests
	@set -e; for d in $(PLUGIN_DIRS); do \
		$(BIN)/python -m pytest -q -p no:cacheprovider $${d}tests; \
		SIYU_TEST_DATABASE=postgresql $(BIN)/python -m pytest -q -p no:cacheprovider -m "not stripe" $${d}tests; \
	done

# Separation proven: the core's tests with no plugin installed, then each plugins/*/ alone on
# top of the core, each in a fresh virtualenv (.ci/test-alone). `make -j2 test-alone` runs two
# at a time.
PLUGIN_NAMES := $(notdir $(patsubst %/,%,$(PLUGIN_DIRS)))

test-alone: test-alone-core $(addprefix test-alone-,$(PLUGIN_NAMES))

test-alone-%: wheels
	PYTHON=$(PYTHON) .ci/test-alone $*

# The wheels of the core and every plugin, as `pip install` would get them (dist/).
wheels: $(BIN)/python
	rm -rf dist && $(BIN)/pip wheel --quiet --no-deps -w dist . $(PLUGIN_DIRS)

hooks-doc: $(BIN)/python
	$(BIN)/flask --app siyu.storefront siyu hooks-doc

# Translations: storefront/translations/<locale>/LC_MESSAGES/messages.po (+ .mo, shipped).
# `make i18n-extract` collects every marked string, creates a missing locale's catalog and
# merges new strings into the existing ones; translate the empty msgstr, then `make i18n-compile`.
# The template gets a new POT-Creation-Date only when its content changed; catalogs keep theirs.
# The shop's zh_CN is zh_Hans_CN to Babel, and that is the directory Flask-Babel reads.
I18N_DIR := storefront/translations
I18N_POT := $(I18N_DIR)/messages.pot
I18N_LOCALES := zh_Hans_CN en
I18N_VERSION := $(shell sed -n 's/^version = //p' setup.cfg)

i18n-extract: $(BIN)/python
	@mkdir -p $(I18N_DIR)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --project=Siyu \
		--version=$(I18N_VERSION) --copyright-holder="Siyu contributors" -o $(I18N_POT).new core storefront
	@if [ -f $(I18N_POT) ] && [ "$$(grep -v '^"POT-Creation-Date:' $(I18N_POT))" = \
		"$$(grep -v '^"POT-Creation-Date:' $(I18N_POT).new)" ]; then \
		rm $(I18N_POT).new; else mv $(I18N_POT).new $(I18N_POT); fi
	@for locale in $(I18N_LOCALES); do \
		if [ ! -f $(I18N_DIR)/$$locale/LC_MESSAGES/messages.po ]; then \
			$(BIN)/pybabel init -i $(I18N_POT) -d $(I18N_DIR) -l $$locale || exit 1; \
		fi; \
	done
	$(BIN)/pybabel update -i $(I18N_POT) -d $(I18N_DIR) --no-fuzzy-matching \
		--ignore-obsolete --ignore-pot-creation-date

i18n-compile: $(BIN)/python
	$(BIN)/pybabel compile -d $(I18N_DIR) --statistics

bench: install
	$(BIN)/python bench/run.py --peer

bench-scale: install
	$(BIN)/python bench/scale.py --scale 1 --write

clean:
	rm -rf $(VENV) instance build *.egg-info .ruff_cache
