#!/usr/bin/env bash
# Installs everything the tests need into fresh virtual environments and runs the whole suite.
#
# Four environments, each running only what depends on what differs in it (CONTRIBUTING.md says
# which test lives where and why):
#   .venv           fnrec[test,trackers], gymnasium>=1.4: everything but tests/with_* and the
#                   plain-install checks (marker `plain`); Gymnasium parity tests required; the
#                   trackers' tests against TensorBoard, W&B (offline) and an MLflow server
#   .venv-plain     `pip install fnrec` with no extras (+ pytest): the tests marked `plain` (the
#                   demo, the examples, the README snippets that need no extra), once
#   .venv-families  gymnax 1.x (which pins gymnasium<1.4), jumanji, navix, XLand-MiniGrid, craftax:
#                   tests/with_gymnax, tests/with_families, and the tests marked `gymnasium_api`
#                   again on Gymnasium 1.3 (the oldest Gymnasium the host side is tested on)
#   .venv-brax      brax + MuJoCo Playground with jax<0.10 (brax's trainers call
#                   jax.device_put_replicated, removed in jax 0.10), and gymnax 0.0.9 (the 5-value
#                   step API): tests/with_brax and tests/with_gymnax_0_0
# The main environment is installed first; the others install in the background (one after the
# other, with uv, sharing one package cache) while its tests run. pytest runs FNREC_TEST_WORKERS
# processes (pytest-xdist, default 2: the machine's cores) and prints each environment's time and
# its 15 slowest tests.
# FNREC_REQUIRE lists modules that must import in that run, so that no test that needs them is
# skipped quietly (tests/conftest.py fails the session otherwise).
# Set FNREC_SKIP_BRAX=1 to leave out the brax environment (about 900 MB with mujoco).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
WORKERS=${FNREC_TEST_WORKERS:-2}
# uv installs the venvs: one package cache for all of them, linked into each venv rather than
# unpacked and byte-compiled four times (pip took 5 minutes of the two cores for the four).
export UV_CACHE_DIR=${UV_CACHE_DIR:-$HOME/.cache/fnrec-uv} SDL_VIDEODRIVER=dummy
LOGS=$(mktemp -d)
INSTALLS=
cleanup() {  # a failed run stops the background installs too
  if [ -n "$INSTALLS" ]; then
    pkill -P "$INSTALLS" 2>/dev/null || true
    kill "$INSTALLS" 2>/dev/null || true
  fi
  rm -rf "$LOGS"
}
trap cleanup EXIT
START=$SECONDS

make_venv() {  # make_venv DIR EXTRAS [MORE REQUIREMENTS...]; EXTRAS "" installs none
  local venv=$1 extras=$2 began=$SECONDS; shift 2
  [ -x "$venv/bin/python" ] || "$UV" venv -q -p "$PYTHON" "$venv"
  "$UV" pip install -q --python "$venv/bin/python" -e ".${extras:+[$extras]}" "$@"
  echo "== $venv installed in $((SECONDS - began)) s"
}

run_pytest() {  # run_pytest VENV ARGS...; pytest's exit code 5 (no tests ran) fails too
  local venv=$1 began=$SECONDS; shift
  echo "== $venv: pytest $*"
  # One JAX compilation cache for the whole run, new each run: a program that several tests
  # (or a test and the subprocess it starts, or the Gymnasium 1.3 rerun of a test) compile
  # identically is compiled once. Its keys hold the jax version and the program itself.
  JAX_COMPILATION_CACHE_DIR="$LOGS/jax-cache" JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 \
    JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=-1 "$venv/bin/python" -m pytest -q \
    -p no:cacheprovider -n "$WORKERS" --dist loadscope --durations=15 "$@"
  echo "== $venv: pytest took $((SECONDS - began)) s"
}

install_the_others() {
  make_venv .venv-plain "" pytest hypothesis pytest-xdist
  # gymnax 1.x pins gymnasium<1.4; without the floor a resolver may keep gymnasium 1.4 and pick
  # gymnax 0.0.9 instead (uv does); gymnax 0.0.9 is the brax venv's
  make_venv .venv-families "test,gymnax,jumanji,navix,xminigrid,craftax" "gymnax>=1"
  if [ "${FNREC_SKIP_BRAX:-0}" != 1 ]; then
    make_venv .venv-brax "test,brax,playground,gymnax" "jax<0.10" "jaxlib<0.10" "gymnax==0.0.9"
  fi
}

wait_for_installs() {  # shows the background installs' output, fails if they failed
  local status=0
  wait "$INSTALLS" || status=$?
  INSTALLS=
  cat "$LOGS/installs.log"
  [ "$status" = 0 ] || { echo "== the background installs failed (exit $status)"; exit "$status"; }
}

echo "== uv: installing the installer"
"$PYTHON" -m pip install -q --disable-pip-version-check --target "$LOGS/uv" uv
UV="$LOGS/uv/bin/uv"
make_venv .venv test,trackers
install_the_others >"$LOGS/installs.log" 2>&1 &
INSTALLS=$!

echo "== ruff format --check, ruff check"
.venv/bin/ruff format --check -q fnrec tests examples benchmarks scripts
.venv/bin/ruff check -q fnrec tests examples benchmarks scripts
FNREC_REQUIRE_GYMNASIUM_PARITY=1 FNREC_REQUIRE=pygame,flax,gymnasium.envs.phys2d,matplotlib,tensorboardX,av,orbax.checkpoint,tensorboard,wandb,mlflow \
  FNREC_KIT=template,funcenv run_pytest .venv tests -m "not plain" --ignore=tests/with_gymnax \
  --ignore=tests/with_brax --ignore=tests/with_gymnax_0_0 --ignore=tests/with_families
wait_for_installs

# A plain install: FNREC_PLAIN makes tests/conftest.py check that no optional package is there.
FNREC_PLAIN=1 run_pytest .venv-plain -m plain tests/test_demo.py tests/test_examples.py \
  tests/test_readme.py tests/test_optional.py

# gymnax 1.x and the other functional JAX env families on the real libraries; the host side's
# Gymnasium-facing tests again on Gymnasium 1.3 (the parity tests skip there: 1.3 mis-counts
# same-step autoreset).
FNREC_REQUIRE=gymnax,jumanji,navix,xminigrid,craftax,matplotlib,tensorboardX \
  FNREC_KIT=gymnax,craftax,jumanji,navix,xminigrid \
  run_pytest .venv-families tests/with_gymnax tests/with_families tests/conformance
run_pytest .venv-families tests -m gymnasium_api --ignore=tests/with_gymnax \
  --ignore=tests/with_brax --ignore=tests/with_gymnax_0_0 --ignore=tests/with_families

if [ "${FNREC_SKIP_BRAX:-0}" != 1 ]; then
  FNREC_REQUIRE=brax.envs,mujoco_playground,gymnax FNREC_KIT=brax run_pytest .venv-brax \
    tests/with_brax tests/with_gymnax_0_0 tests/conformance
fi
echo "all test environments passed in $((SECONDS - START)) s"
