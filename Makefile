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

.PHONY: help venv test lint package check-package demo clean lock
.PHONY: lint-tf tf-fmt tf-validate checkov test-tf test-examples tf-offline
.PHONY: docs docs-check manifests manifests-check validate-examples
.PHONY: scan scan-iam scan-python bench FORCE

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-14s %s\n", $$1, $$2}'

# Also rebuilt when an older .venv lacks the package's entry point.
$(STAMP): requirements-dev.txt lambda_src/pyproject.toml $(if $(wildcard $(VENV)/bin/ecr-token-rotator),,FORCE)
	$(PYTHON) -c 'import sys; sys.exit("Python 3.11 or newer is required" if sys.version_info < (3, 11) else 0)'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(PY) -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e lambda_src
	touch $@

venv: $(STAMP) ## create .venv, install the pinned development dependencies and the package (editable: .venv/bin/ecr-token-rotator)

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

tf-validate: $(STAMP) ## the module against the hashicorp/aws 5.x and 6.x schemas (offline, ../shared)
	@if [ ! -f $(SHARED)/tools/validate_tf_schema.py ]; then \
	  echo "tf-validate skipped: $(SHARED)/tools/validate_tf_schema.py is absent (the shared validators live beside the project)"; \
	else \
	  $(PY) $(SHARED)/tools/validate_tf_schema.py --provider-version 5 . && \
	  $(PY) $(SHARED)/tools/validate_tf_schema.py --provider-version 6 .; \
	fi

$(CHECKOV_STAMP): requirements-checkov.txt
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	touch $@

checkov: $(CHECKOV_STAMP) ## checkov on the module (settings and reasoned skips in .checkov.yaml)
	$(CHECKOV_VENV)/bin/checkov -d .

EXAMPLES := $(sort $(dir $(wildcard examples/*/main.tf)))

validate-examples: $(STAMP) $(CHECKOV_STAMP) ## examples: provider 5.x/6.x schema, ESO CRDs (--strict), checkov (fmt: tf-fmt)
	@if [ ! -f $(SHARED)/tools/validate_tf_schema.py ] || [ ! -f $(SHARED)/tools/validate_eso_manifests.py ]; then \
	  echo "validate-examples: schema and CRD checks skipped: $(SHARED)/tools is absent (the shared validators live beside the project)"; \
	else \
	  for example in $(EXAMPLES); do \
	    $(PY) $(SHARED)/tools/validate_tf_schema.py --strict --provider-version 5 $$example && \
	    $(PY) $(SHARED)/tools/validate_tf_schema.py --strict --provider-version 6 $$example || exit 1; \
	  done; \
	  $(PY) $(SHARED)/tools/validate_eso_manifests.py --strict examples; \
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

bench: $(STAMP) ## benchmark (< 2 min): table and bench/results/latest.json; BENCH_ARGS=--write-readme also updates README.md, --quick
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
