# pylme4 in a container: Debian bookworm, R and the R packages from Debian,
# installed by the same `make setup` the README and CI use.
#
#   docker build -t pylme4 .
#   docker run --rm -v "$PWD":/work pylme4 python -c "import pylme4; print(pylme4.__version__)"
FROM debian:bookworm-slim

ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 LC_ALL=C.UTF-8
RUN apt-get update -qq \
 && apt-get install -y -qq --no-install-recommends make python3 python3-venv python3-dev gcc \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/pylme4
COPY . .
RUN make setup && rm -rf /var/lib/apt/lists/*

ENV PATH=/opt/pylme4/.venv/bin:$PATH
WORKDIR /work
CMD ["python"]
