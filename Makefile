# pylme4 — the two commands a newcomer needs:
#   make demo   set up, then run the lecture example on bundled data
#   make test   set up, then run the whole test suite
# `make setup` alone installs R + R packages (when missing) and the .venv; it
# is idempotent and is what CI and the Dockerfile run.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
R_PACKAGES := lme4 lmerTest boot pbkrtest optimx dfoptim \
              emmeans car performance insight broom.mixed
R_DEBS := r-base-core r-base-dev r-cran-lme4 r-cran-lmertest r-cran-boot \
          r-cran-pbkrtest r-cran-optimx r-cran-dfoptim \
          r-cran-emmeans r-cran-car r-cran-performance r-cran-insight r-cran-broom.mixed
R_CHECK := quit(status = !all(vapply(strsplit("$(R_PACKAGES)", " ")[[1]], \
           requireNamespace, TRUE, quietly = TRUE)))

.PHONY: setup r-packages demo test lint bench clean FORCE

setup: r-packages $(VENV)/.installed

# R and the R packages: Debian packages when we are root on Debian/Ubuntu
# (CRAN may be unreachable there), CRAN through r_requirements.R elsewhere.
r-packages:
	@if command -v Rscript >/dev/null 2>&1 && Rscript -e '$(R_CHECK)' >/dev/null 2>&1; then \
	  echo "setup: R and the R packages are present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "setup: installing R and R packages from Debian"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends $(R_DEBS) >/dev/null; \
	elif command -v Rscript >/dev/null 2>&1; then \
	  echo "setup: installing R packages from CRAN"; Rscript r_requirements.R; \
	else \
	  echo "setup: R is not installed. Install R (>= 4.2) and run 'Rscript r_requirements.R'," \
	       "or run 'make setup' as root on Debian/Ubuntu." >&2; exit 1; \
	fi

# The virtual environment, rebuilt when pyproject.toml changes or the rpy2
# requirement for the installed R does.  rpy2 compiles against the installed R,
# so R must come first (order-only prerequisite), and which rpy2 release fits
# depends on R's version: pylme4/rversions.py (standard library only, so the
# system Python runs it before anything is installed) holds that table and
# writes the row for this R as a pip constraint.
$(VENV)/rpy2-constraint.txt: FORCE | r-packages
	@mkdir -p $(VENV)
	@$(PYTHON) pylme4/rversions.py > $@.new
	@if cmp -s $@.new $@; then rm $@.new; else mv $@.new $@; fi
	@echo "setup: R $$(Rscript --vanilla -e 'cat(format(getRversion()))') needs $$(cat $@)"

$(VENV)/.installed: pyproject.toml pylme4/rversions.py $(VENV)/rpy2-constraint.txt | r-packages
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check \
	  -c $(VENV)/rpy2-constraint.txt -e '.[test]'
	@touch $@

FORCE:

demo: setup
	$(PY) examples/lecture.py

# The lint first: a broken import contract fails fast, before the long suite.
test: setup lint
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check pylme4 tests
	$(VENV)/bin/mypy pylme4
	$(VENV)/bin/lint-imports

bench: setup
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
