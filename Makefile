# swarmops.cluster: one entry point for the lab, the tests and the benchmark.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(abspath $(VENV))/bin
export PATH := $(BIN):$(PATH)
export ANSIBLE_CONFIG := $(abspath ansible.cfg)
LAB := $(PYTHON) tests/lab/lab.py
LAB_INVENTORY := .lab/lab/inventory
SANITY_ROOT := build/sanity/ansible_collections/swarmops/cluster
# The molecule scenarios of `make test`, as parallel streams (see tests/molecule_streams.py);
# three: measured with two on a 2-core machine, default+bookworm+first-manager alone ran
# past an hour while lifecycle+workers took 45 minutes.
# the scenarios joined by + run one after another, the streams at the same time.
# default: Debian 13, bare nodes (the install path), onboarding; bookworm: Debian 12, bare
# nodes, the core suite; lifecycle: the day-2 playbooks in order on a 5-node lab; workers:
# DNS names and an arbiter; first-manager: the first manager dies, is replaced, and the next
# one is removed (4-6 nodes); one-node: one manager with swarmops_storage local and the
# stacks. One scenario alone: make molecule MOLECULE_STREAMS=workers
MOLECULE_STREAMS ?= default lifecycle+workers bookworm+first-manager+one-node
# make test fails once it has run this long (CI stops a run at 90 minutes).
TEST_LIMIT_MINUTES ?= 75

.PHONY: help venv cluster cluster-down site test unit oracles sanity lint molecule test-vm vm-image bench build changelog clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

venv: $(VENV)/.installed  ## make .venv with the pinned tools

cluster: venv  ## bring up the three-node lab and provision it with site.yml
	$(LAB) up --managers $${MANAGERS:-3} --workers $${WORKERS:-0}
	$(BIN)/ansible-playbook -i $(LAB_INVENTORY) site.yml

cluster-down:  ## remove the lab (and the host dockerd if the lab started it)
	$(LAB) down --engine

site: venv  ## re-run site.yml against the running lab
	$(BIN)/ansible-playbook -i $(LAB_INVENTORY) site.yml

TEST_STAGES := unit sanity lint molecule
# Each stage in turn, and the time each took at the end (also when one fails), so a slow
# stage shows before it pushes a fresh run past CI's limit. SWARMOPS_TEST_DEADLINE stops the
# molecule streams at TEST_LIMIT_MINUTES; a stage that ends past it fails the run.
test: venv  ## every test: unit, sanity, lint, molecule (leaves no lab running); stage times at the end
	@times=""; begin=$$(date +%s); \
	export SWARMOPS_TEST_DEADLINE=$$(( begin + $(TEST_LIMIT_MINUTES) * 60 )); \
	for stage in $(TEST_STAGES); do start=$$(date +%s); \
	  if ! $(MAKE) --no-print-directory $$stage; then \
	    printf 'make test: %s FAILED after %ss%b\n' $$stage $$(( $$(date +%s) - start )) "$$times"; \
	    exit 1; fi; \
	  times="$$times\n  $$stage: $$(( $$(date +%s) - start ))s"; \
	  if (( $$(date +%s) > SWARMOPS_TEST_DEADLINE )); then \
	    printf 'make test: FAILED: the run passed %s minutes after %s (CI stops at 90): make the suite faster%b\n' \
	      $(TEST_LIMIT_MINUTES) $$stage "$$times"; exit 1; fi; done; \
	printf 'make test: stage times%b\n  total: %ss\n' "$$times" $$(( $$(date +%s) - begin ))

unit: venv oracles  ## unit tests of the parsers and planners, on recorded engine responses
	$(BIN)/pytest -q tests/unit

# Debian 13's docker CLI (26.1), unpacked into .cache as an oracle for the compose renderer's
# tests next to Debian 12's (docker.io, /usr/bin/docker) and any newer `docker` on PATH;
# and Debian 13's restic, which the backup runner's tests drive for real.
# apt-get with a private state dir and sources list: the system's apt state stays untouched.
# Without apt or the mirror the tests that need it skip and say so.
ORACLE_SUITE := trixie
ORACLE_DIR := .cache/docker-cli-$(ORACLE_SUITE)
APT_PRIVATE = -o Dir::Etc::sourcelist=$(abspath .cache/apt)/sources.list -o Dir::Etc::sourceparts=- \
  -o Dir::State=$(abspath .cache/apt) -o Dir::State::Lists=$(abspath .cache/apt)/lists \
  -o Dir::Cache=$(abspath .cache/apt) -o Dir::State::status=/dev/null
oracles:  ## fetch Debian 13's docker CLI and restic into .cache (oracles for the unit tests)
	@[ -x $(ORACLE_DIR)/usr/bin/docker ] && [ -x .cache/restic/usr/bin/restic ] || { command -v apt-get >/dev/null && \
	  mkdir -p .cache/apt/lists/partial .cache/apt/archives/partial && \
	  mirror=$$(cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | grep -om1 'https\?://[^ ]*/debian$$' || true) && \
	  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s %s main\n' \
	    "$${mirror:-http://deb.debian.org/debian}" $(ORACLE_SUITE) > .cache/apt/sources.list && \
	  apt-get -qq $(APT_PRIVATE) update && \
	  (cd .cache/apt/archives && apt-get -qq $(APT_PRIVATE) download docker-cli restic) && \
	  dpkg-deb -x .cache/apt/archives/docker-cli_*.deb $(ORACLE_DIR) && \
	  dpkg-deb -x .cache/apt/archives/restic_*.deb .cache/restic; } \
	  || echo "make oracles: no Debian 13 docker CLI or restic; their oracle tests will skip"

# ansible-test --venv bootstraps pip from a host outside the package registries, so sanity
# runs --local in a venv of its own: its pinned linters stay out of .venv.
SANITY_VENV := .venv-sanity
$(SANITY_VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(SANITY_VENV)
	$(SANITY_VENV)/bin/pip install -q --upgrade pip
	$(SANITY_VENV)/bin/pip install -q "$$(grep '^ansible-core==' requirements-dev.txt)"
	pipver=$$(grep -oP "pip='\K[0-9.]+" $(SANITY_VENV)/lib/python3*/site-packages/ansible_test/_internal/python_requirements.py); \
	  mkdir -p ~/.ansible/test/cache && \
	  cp tests/sanity/get_pip_offline.py ~/.ansible/test/cache/get_pip_$${pipver//./_}.py
	touch $@

sanity: venv $(SANITY_VENV)/.installed  ## ansible-test sanity on a copy laid out as ansible_collections/swarmops/cluster
	rm -rf build/sanity && mkdir -p $(SANITY_ROOT)
	git ls-files -z --cached --others --exclude-standard | grep -zv '^collections/' \
	  | xargs -0 cp --parents -t $(SANITY_ROOT)
	# Its own git index: ansible-test lists files with git, and build/ is ignored here.
	cd $(SANITY_ROOT) && git init -q && git add -A && \
	  PATH=$(abspath $(SANITY_VENV))/bin:$$PATH ansible-test sanity --python 3.11 --local --requirements \
	  --color no

lint: venv  ## ansible-lint, production profile; the changelog fragments' format
	$(BIN)/ansible-lint
	$(BIN)/antsibull-changelog lint

molecule: venv  ## the molecule scenarios against fresh labs, in parallel streams; times at the end
	$(LAB) engine
	$(BIN)/python tests/molecule_streams.py $(MOLECULE_STREAMS)

# The vm scenario's test_sequence (molecule's create also prepares), one molecule call each so
# that each step's time is printed at the end (also when one fails; the guests are then removed).
VM_ACTIONS := destroy syntax create converge idempotence verify side-effect idempotence destroy
vm-image: venv  ## build (or reuse) the QEMU guest image of the vm scenario
	$(BIN)/python tests/vm/vm.py image

test-vm: venv  ## molecule on three QEMU guests: converge, idempotence, verify, a reboot (~45 min; not in make test)
	@times=""; start=$$(date +%s); $(MAKE) --no-print-directory vm-image; \
	  times="\n  image: $$(( $$(date +%s) - start ))s"; \
	  for action in $(VM_ACTIONS); do start=$$(date +%s); \
	  if ! $(BIN)/molecule $$action -s vm; then \
	    printf 'make test-vm: %s FAILED after %ss%b\n' $$action $$(( $$(date +%s) - start )) "$$times"; \
	    $(BIN)/molecule destroy -s vm || true; exit 1; fi; \
	  times="$$times\n  $$action: $$(( $$(date +%s) - start ))s"; done; \
	printf 'make test-vm: step times%b\n' "$$times"

BENCH_ARGS ?=
bench: venv  ## re-run time of site.yml vs the floor (ansible -m ping) and a community.docker baseline, on 3 and 5 nodes
	$(BIN)/python benchmarks/bench.py $(BENCH_ARGS)

build: venv  ## build the collection artifact
	$(BIN)/ansible-galaxy collection build --force --output-path build/

# A release (antsibull-changelog release) merges the fragments into changelogs/changelog.yaml and
# deletes them. Until then CHANGELOG.md shows them as galaxy.yml's coming version: the release
# runs on a copy laid out as ansible_collections/swarmops/cluster (antsibull-changelog finds the
# new modules and plugins there by their version_added), and only its CHANGELOG.md comes back.
CHANGELOG_ROOT := build/changelog/ansible_collections/swarmops/cluster
changelog: venv  ## CHANGELOG.md from changelogs/ and the fragments (which stay)
	$(BIN)/antsibull-changelog lint
	rm -rf build/changelog && mkdir -p $(CHANGELOG_ROOT)
	git ls-files -z --cached --others --exclude-standard | grep -zv '^collections/' \
	  | xargs -0 cp --parents -t $(CHANGELOG_ROOT)
	version=$$(sed -n 's/^version: *//p' galaxy.yml); \
	  cd $(CHANGELOG_ROOT) && $(BIN)/antsibull-changelog release --version "$$version"
	cp $(CHANGELOG_ROOT)/CHANGELOG.md CHANGELOG.md

clean:  ## remove what the targets made (not the lab: make cluster-down)
	rm -rf build $(VENV) $(SANITY_VENV) .cache
