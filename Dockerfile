# pylme4 in a container: Debian bookworm, R and the R packages from Debian,
# installed by the same `make setup` the README and CI use, so the image runs
# what CI tests.  Debian bookworm pins the R and R package versions; every
# results.json records them.
#
#   docker build -t pylme4 .
#   docker run --rm -v "$PWD":/work pylme4 run /work/analysis.yaml --out /work/results
#   docker run --rm -v "$PWD":/work pylme4 verify /work/results --with-r
#   docker run --rm pylme4 doctor
FROM debian:bookworm-slim

ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8

# Only what `make setup` needs to start: make and Python (rpy2 is compiled
# against R).  R and the R packages are installed by `make setup` itself.
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends make python3 python3-venv python3-dev gcc \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/pylme4
COPY . .
# The install step is the README's: `make setup` (R + R packages from Debian
# as root, then .venv with pylme4).  `pylme4 doctor` fails the build if
# anything is missing.
RUN make setup \
 && rm -rf /var/lib/apt/lists/* \
 && .venv/bin/pylme4 doctor

ENV PATH=/opt/pylme4/.venv/bin:$PATH
WORKDIR /work
ENTRYPOINT ["pylme4"]
CMD ["--help"]
