# ecr-token-rotator — developer commands. `make help` lists them.
# Everything runs from a local virtualenv (.venv) with pinned dependencies; nothing is installed
# globally and no AWS account is needed.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
ZIP := dist/ecr-token-rotator.zip
PYTEST_ARGS ?=
BENCH_ARGS ?=
SHARED ?= ../shared
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed
# ../shared's validators run in their own virtualenv, from their own (unpinned) requirements, so
# that they never change the pinned .venv. Without ../shared there is nothing to install.
SHARED_TOOLS := $(SHARED)/tools
SHARED_VENV := .venv-shared
SHARED_STAMP := $(SHARED_VENV)/.installed
SHARED_PY := $(SHARED_VENV)/bin/python
SHARED_VENV_READY := $(if $(wildcard $(SHARED_TOOLS)/requirements.txt),$(SHARED_STAMP))

.PHONY: help venv shared-venv test lint package check-package demo moto moto-stop clean lock
.PHONY: lint-tf tf-fmt tf-validate checkov checkov-venv test-tf test-examples tf-offline
.PHONY: docs docs-check manifests manifests-check validate-examples
.PHONY: scan scan-iam scan-python bench FORCE

# The variables the target descriptions mention (e.g. $(ZIP)), passed to awk with the values make
# has for them, so that `make help` shows what a target really writes; names padded to the longest.
HELP_VARIABLES = $(sort $(shell sed -n 's/^[a-z][a-z-]*:.*\#\# //p' $(MAKEFILE_LIST) | grep -o '\$$([A-Z_]*)' | tr -d '$$()'))
HELP_AWK = /^[a-z][a-z-]*:.*\#\# / { \
	  text = $$2; \
	  while (match(text, /\$$\([A-Z_]+\)/)) \
	    text = substr(text, 1, RSTART - 1) ENVIRON[substr(text, RSTART + 2, RLENGTH - 3)] substr(text, RSTART + RLENGTH); \
	  names[++count] = $$1; texts[count] = text; \
	  if (length($$1) > width) width = length($$1) \
	} \
	END { for (i = 1; i <= count; i++) printf "  %-" width "s  %s\n", names[i], texts[i] }

help: ## list the targets
	@$(foreach name,$(HELP_VARIABLES),$(name)='$(subst ','\'',$($(name)))') awk -F':.*## ' '$(HELP_AWK)' $(MAKEFILE_LIST)

# Also rebuilt when an older .venv lacks the package's entry point.
$(STAMP): requirements-dev.txt lambda_src/pyproject.toml $(if $(wildcard $(VENV)/bin/ecr-token-rotator),,FORCE)
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required" if sys.version_info < (3, 11) else 0)'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e lambda_src
	touch $@

venv: $(STAMP) ## create .venv, install the pinned development dependencies and the package (editable: .venv/bin/ecr-token-rotator)

$(SHARED_STAMP): $(SHARED_TOOLS)/requirements.txt
	test -x $(SHARED_PY) || $(PYTHON) -m venv $(SHARED_VENV)
	$(SHARED_PY) -m pip install --quiet --disable-pip-version-check -r $(SHARED_TOOLS)/requirements.txt
	touch $@

shared-venv: $(SHARED_VENV_READY) ## create $(SHARED_VENV) for $(SHARED)'s validators (skipped without $(SHARED))
	@$(if $(SHARED_VENV_READY),:,echo "shared-venv skipped: $(SHARED_TOOLS)/requirements.txt is absent (the shared validators live beside the project)")

test: $(STAMP) ## run the test suite (with terraform and ../shared: terraform test and every example applied, offline)
	@rc=0; $(PY) -m pytest $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: test discovery is broken (exit code 5)" >&2; fi; \
	exit $$rc

lint: $(STAMP) ## ruff (lint + format check) and mypy on the Lambda package
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

lint-tf: tf-fmt tf-validate checkov ## all checks of the Terraform module (fmt, provider schema 5 and 6, checkov)

tf-fmt: ## terraform fmt -check on every .tf and .tftest.hcl file (the terraform on PATH)
	@command -v terraform >/dev/null || { echo "tf-fmt skipped: no terraform on PATH"; exit 0; }; \
	terraform fmt -check -recursive -diff .

tf-offline: $(STAMP) ## set up ../shared's offline hashicorp/aws for terraform (or say why not)
	$(PY) -m tools.terraform.harness setup

test-tf: $(STAMP) ## terraform init, validate and test of the module on hashicorp/aws 5.x and 6.x, offline
	$(PY) -m tools.terraform.harness module-tests

test-examples: $(STAMP) ## every example: init, validate, plan, apply, plan (no changes) on aws 5.x and 6.x, offline
	$(PY) -m tools.terraform.harness examples

tf-validate: $(SHARED_VENV_READY) ## the module against the hashicorp/aws 5.x and 6.x schemas (offline, ../shared)
	@if [ ! -f $(SHARED_TOOLS)/validate_tf_schema.py ]; then \
	  echo "tf-validate skipped: $(SHARED_TOOLS)/validate_tf_schema.py is absent (the shared validators live beside the project)"; \
	else \
	  $(SHARED_PY) $(SHARED_TOOLS)/validate_tf_schema.py --provider-version 5 . && \
	  $(SHARED_PY) $(SHARED_TOOLS)/validate_tf_schema.py --provider-version 6 .; \
	fi

$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

checkov-venv: $(CHECKOV_STAMP) ## create $(CHECKOV_VENV) (checkov pins a boto3 of its own)

checkov: $(CHECKOV_STAMP) ## checkov on the module (settings and reasoned skips in .checkov.yaml)
	$(CHECKOV_VENV)/bin/checkov -d .

EXAMPLES := $(sort $(dir $(wildcard examples/*/main.tf)))

validate-examples: $(SHARED_VENV_READY) $(CHECKOV_STAMP) ## examples: provider 5.x/6.x schema, ESO CRDs (--strict), checkov (fmt: tf-fmt)
	@if [ ! -f $(SHARED_TOOLS)/validate_tf_schema.py ] || [ ! -f $(SHARED_TOOLS)/validate_eso_manifests.py ]; then \
	  echo "validate-examples: schema and CRD checks skipped: $(SHARED_TOOLS) is absent (the shared validators live beside the project)"; \
	else \
	  $(SHARED_PY) $(SHARED_TOOLS)/validate_tf_schema.py --strict --provider-version 5 $(EXAMPLES) && \
	  $(SHARED_PY) $(SHARED_TOOLS)/validate_tf_schema.py --strict --provider-version 6 $(EXAMPLES) && \
	  $(SHARED_PY) $(SHARED_TOOLS)/validate_eso_manifests.py --strict examples; \
	fi
	@for example in $(EXAMPLES); do echo "checkov -d $$example"; $(CHECKOV_VENV)/bin/checkov -d $$example || exit 1; done

manifests: $(STAMP) ## write examples/*/manifests/rendered: what terraform apply of each example writes (offline, aws 6.x)
	$(PY) -m tools.terraform.harness examples --major 6 --update-rendered

manifests-check: $(STAMP) ## fail if examples/*/manifests/rendered differ from what terraform apply writes
	$(PY) -m tools.terraform.harness examples --major 6

docs: $(STAMP) ## regenerate the README's Resources/Inputs/Outputs tables from the module's HCL
	$(PY) -m tools.tf_docs README.md

docs-check: $(STAMP) ## fail if the README's Inputs/Outputs tables differ from variables.tf/outputs.tf
	$(PY) -m tools.tf_docs --check README.md

scan: checkov scan-iam scan-python ## security scans: checkov (module and examples), IAM policy report, ruff bandit rules

scan-iam: $(STAMP) ## cloudsplaining + parliament on every IAM policy Terraform renders (offline); accepted findings in tools/iam_report.py
	$(PY) -m tools.iam_report

scan-python: $(STAMP) ## ruff's bandit rules (S) on lambda_src, whatever pyproject selects; inline suppressions listed
	$(PY) -m ruff check --isolated --no-cache --target-version py311 --select S lambda_src
	@grep -rn 'noqa: S' lambda_src || echo "no inline suppressions of S rules"

bench: $(STAMP) ## benchmark (< 2 min): table and bench/results/latest.json; BENCH_ARGS=--write-readme also updates bench/README.md, --quick
	$(PY) -m bench.run $(BENCH_ARGS)

package: $(STAMP) ## build $(ZIP) (reproducible: same sources, same sha256)
	$(PY) lambda_src/build_zip.py $(ZIP)
	@sha256sum $(ZIP)

check-package: $(STAMP) ## fail if the committed zip differs from a fresh build
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(PY) lambda_src/build_zip.py "$$tmp/fresh.zip"; \
	if cmp -s "$$tmp/fresh.zip" $(ZIP); then echo "$(ZIP) is up to date"; \
	else echo "$(ZIP) differs from a fresh build of lambda_src: run 'make package' and commit the zip" >&2; exit 1; fi

demo: $(STAMP) ## refresh a secret with the packaged code against a local moto server
	$(PY) -m tools.demo

moto: $(STAMP) ## start a local AWS (moto, ECR issuing fresh tokens) on a free port, in the background; print the exports to eval
	@$(PY) -m tools.local_aws start

moto-stop: $(STAMP) ## stop the local AWS that make moto started (the one AWS_ENDPOINT_URL names, else every one)
	@$(PY) -m tools.local_aws stop

lock: ## re-pin requirements-dev.txt from requirements-dev.in (needs network)
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.in
	{ echo "# Generated by \`make lock\` from requirements-dev.in: every package pinned, so \`make venv\` installs the same set everywhere."; \
	  .venv-lock/bin/pip freeze --exclude pip; } > requirements-dev.txt
	rm -rf .venv-lock

clean: ## remove the virtualenvs and caches (keeps the committed zip)
	rm -rf $(VENV) .venv-* .pytest_cache .mypy_cache .ruff_cache .hypothesis lambda_src/build lambda_src/dist
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
