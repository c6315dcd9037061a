# mediajobs: `make run` (the main job) and `make test` (the tests) on a fresh
# machine; both install what they need first (hack/install-deps.sh,
# hack/build-binaries.sh), and a second run reuses what is there.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
VENV := .venv
PY := $(VENV)/bin/python
BIN_PATH = $(shell python3 hack/cluster.py bin-path)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help deps binaries crds manifests images lint unit worker integration test e2e bench run down cluster-up cluster-down

help:
	@echo "make run           the local cluster with a real node, the chart, a demo set of jobs (live table)"
	@echo "                   CLUSTER=external: the chart and the demo on \$$KUBECONFIG (VALUES=files, MEDIA_DIR=dir)"
	@echo "make down          stop the local cluster and remove the demo's media"
	@echo "make test          lint + unit + integration tests (real local control plane)"
	@echo "make bench         performance figures (operator, kubectl mediajobs, worker, watermark, a Job per MediaJob on the real node)"
	@echo "make crds          regenerate crds/ (and the chart's CRD templates) from the pydantic models"
	@echo "make manifests     regenerate manifests/base, the example overlay and README's values reference from the chart"
	@echo "make images        build the operator, FFmpeg worker and Redis images (hack/images.py)"
	@echo "make e2e           end-to-end tests: real pods on a real node (needs root; not in make test)"
	@echo "make cluster-up    start the local cluster (hack/cluster.py; REAL_NODE=1 adds a real node)"
	@echo "make cluster-down  stop it"

deps:
	@bash hack/install-deps.sh

binaries:
	@bash hack/build-binaries.sh

crds: deps
	$(VENV)/bin/mediajobs crds --out crds --chart-templates charts/mediajobs/templates

manifests: deps binaries
	$(PY) hack/generate.py manifests
	$(PY) hack/generate.py docs

# A private dockerd for the build only (stopped at the end); tarballs in ~/.cache/mediajobs/images.
images: deps
	python3 hack/images.py

lint: deps
	$(VENV)/bin/ruff check operator tests hack bench
	$(VENV)/bin/ruff format --check operator tests hack bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

unit: deps
	$(PY) -m pytest tests/unit -q

worker: deps
	$(PY) -m pytest tests/unit/worker tests/worker -q

integration: deps binaries
	PATH="$(BIN_PATH):$$PATH" $(PY) -m pytest tests/integration -q

test: deps binaries lint
	PATH="$(BIN_PATH):$$PATH" $(PY) -m pytest tests -q

# Real pods on a real node (hack/node.py): the images are imported into its containerd.
# pyproject's addopts leave these out of every other run; `-m e2e` here takes precedence.
e2e: deps binaries images
	PATH="$(BIN_PATH):$$PATH" $(PY) -m pytest tests/e2e -m e2e -q

cluster-up: deps binaries $(if $(REAL_NODE),images)
	python3 hack/cluster.py up $(if $(REAL_NODE),--real-node)

cluster-down:
	python3 hack/cluster.py down

# Figures and ratios measured in one run (not a timed test): the operator against
# the local control plane (and `kubectl mediajobs list` over 2,000 MediaJobs), the worker against bare FFmpeg, the invisible watermark,
# the media library (scan rate; compile_mega against one bare FFmpeg concat), and what
# a Job per MediaJob costs on the real node (bench/jobcost.py: root and the images;
# without root the images are not built and the phase says why it skips).
bench: deps binaries $(if $(filter 0,$(shell id -u)),images)
	$(PY) -m bench.operator_bench
	$(PY) bench/worker.py --runs 3
	$(PY) bench/stego.py
	$(PY) bench/library.py
	$(PY) -m bench.jobcost

# The whole product on a real node (hack/demo.py: each step and how long it took); with
# CLUSTER=external, on $$KUBECONFIG's cluster with the chart values in VALUES.
run: deps binaries
	PATH="$(BIN_PATH):$$PATH" $(PY) hack/demo.py \
	  $(if $(filter external,$(CLUSTER)),--cluster=external $(foreach v,$(VALUES),--values=$(v)) $(if $(MEDIA_DIR),--media=$(MEDIA_DIR)))

down: cluster-down
	rm -rf .cluster/media
