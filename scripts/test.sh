#!/usr/bin/env bash
# Installs everything the tests need into fresh virtual environments and runs the whole suite.
#
# Six environments, because gymnax 1.0.1 pins gymnasium<1.4 while the Gymnasium parity tests
# need gymnasium>=1.4 (1.3 mis-counts same-step autoreset), and a plain install must work:
#   .venv-plain   `pip install fnrec` with no extras (+ pytest, hypothesis): the demo, the
#                 examples and every README snippet on the runtime dependencies alone
#   .venv         gymnasium>=1.4: the core, Gymnasium adapters, video, renderers, parity tests
#   .venv-gymnax  the newest gymnax (1.0.1) + gymnasium 1.3: the gymnax adapter, and everything
#                 that touches Gymnasium again on 1.3 (the parity tests skip there)
#   .venv-gymnax-0-0  gymnax 0.0.9: the 5-value step API, truncation read off state.time
#   .venv-families  jumanji, navix, xminigrid, craftax (+ gymnax): tests/with_families
#   .venv-brax    brax + MuJoCo Playground (optional extras): the brax adapter and capture, and
#                 streaming inside brax's own ppo.train, which calls jax.device_put_replicated
#                 (removed in jax 0.10): this venv pins jax<0.10
# FNREC_REQUIRE lists modules that must import in that run, so that no test that needs them is
# skipped quietly (tests/conftest.py fails the session otherwise).
# Set FNREC_SKIP_BRAX=1 to leave out the brax environment (about 900 MB with mujoco).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}

make_venv() {  # make_venv DIR EXTRAS [MORE PIP REQUIREMENTS...]; EXTRAS "" installs none
  local venv=$1 extras=$2; shift 2
  [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
  "$venv/bin/python" -m pip install -q --upgrade pip
  "$venv/bin/python" -m pip install -q -e ".${extras:+[$extras]}" "$@"
}

run_pytest() {  # run_pytest VENV ARGS...; pytest's exit code 5 (no tests ran) fails too
  local venv=$1; shift
  echo "== $venv: pytest $*"
  "$venv/bin/python" -m pytest -q -p no:cacheprovider "$@"
}

export SDL_VIDEODRIVER=dummy

make_venv .venv test
echo "== ruff format --check, ruff check"
.venv/bin/ruff format --check -q fnrec tests examples benchmarks
.venv/bin/ruff check -q fnrec tests examples benchmarks
FNREC_REQUIRE_GYMNASIUM_PARITY=1 FNREC_REQUIRE=pygame,flax,gymnasium.envs.phys2d,matplotlib,tensorboardX,av,orbax.checkpoint \
  run_pytest .venv tests --ignore=tests/with_gymnax --ignore=tests/with_brax \
  --ignore=tests/with_gymnax_0_0 --ignore=tests/with_families

# A plain install: FNREC_PLAIN makes tests/conftest.py check that no optional package is there.
make_venv .venv-plain "" pytest hypothesis
FNREC_PLAIN=1 run_pytest .venv-plain tests/test_demo.py tests/test_examples.py \
  tests/test_readme.py tests/test_optional.py

# Everything that touches Gymnasium runs again on 1.3; the pure-JAX tests (statistics, capture,
# the bad-input property test of fnrec.stats, sharding, raster, PPO) ran in .venv already.
make_venv .venv-gymnax "test,gymnax"
FNREC_REQUIRE=gymnax,matplotlib,tensorboardX run_pytest .venv-gymnax tests --ignore=tests/with_brax \
  --ignore=tests/with_gymnax_0_0 --ignore=tests/with_families --ignore=tests/test_stats.py \
  --ignore=tests/test_capture.py --ignore=tests/test_bad_inputs.py \
  --ignore=tests/test_stats_sharded.py --ignore=tests/render/test_raster.py \
  --ignore=tests/demo/test_ppo.py

# gymnax 0.0.x (5-value step API, time limit inside `done`): the adapter on the real thing.
make_venv .venv-gymnax-0-0 "test,gymnax" "gymnax==0.0.9"
FNREC_REQUIRE=gymnax run_pytest .venv-gymnax-0-0 tests/with_gymnax_0_0

# Functional JAX env families (jumanji, navix, XLand-MiniGrid, craftax) on the real libraries;
# gymnax is there for craftax (its gymnax API).
make_venv .venv-families "test,gymnax,jumanji,navix,xminigrid,craftax"
FNREC_REQUIRE=jumanji,navix,xminigrid,craftax run_pytest .venv-families tests/with_families

if [ "${FNREC_SKIP_BRAX:-0}" != 1 ]; then
  make_venv .venv-brax "test,brax,playground" "jax<0.10" "jaxlib<0.10"
  FNREC_REQUIRE=brax.envs,mujoco_playground run_pytest .venv-brax tests/with_brax
fi
echo "all test environments passed"
