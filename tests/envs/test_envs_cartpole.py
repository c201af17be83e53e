"""fnrec.envs.CartPole: step for step Gymnasium's phys2d CartPole, without flax."""

from __future__ import annotations

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fnrec
from fnrec.envs import CartPole, CartPoleParams

phys2d = pytest.importorskip("gymnasium.envs.phys2d.cartpole")


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), actions=st.lists(st.integers(0, 1), min_size=1, max_size=80))
def test_identical_to_phys2d_state_by_state(seed, actions):
    ours, theirs = CartPole(), phys2d.CartPoleFunctional()
    key = jax.random.key(seed)
    a, b = ours.initial(key), theirs.initial(key)
    np.testing.assert_array_equal(a, b)
    for action in actions:
        na, nb = ours.transition(a, action), theirs.transition(b, action)
        np.testing.assert_array_equal(na, nb)
        assert float(ours.reward(a, action, na, None)) == float(theirs.reward(b, action, nb, None))
        assert bool(ours.terminal(na, None)) == bool(theirs.terminal(nb, None))
        a, b = na, nb


def test_through_the_adapter_equals_phys2d():
    def run(env):
        recording = fnrec.Recording(max_episode_steps=50)
        adapter = fnrec.adapters.FuncEnvAdapter(env, recording, num_envs=8)
        state = adapter.initial(jax.random.key(0))

        def body(state, key):
            out = adapter.step(state, jax.random.randint(key, (8,), 0, 2), key)
            return out.state, (out.obs, out.reward, out.terminated, out.truncated)

        return jax.jit(lambda s: jax.lax.scan(body, s, jax.random.split(jax.random.key(1), 300)))(
            state
        )

    (sa, a), (sb, b) = run(CartPole()), run(phys2d.CartPoleFunctional())
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
    assert fnrec.stats.episode_count(sa.stats) == fnrec.stats.episode_count(sb.stats) > 20


def test_renders_without_pygame_and_classic_params():
    env = CartPole()
    _, frame = env.render_image(jnp.array([0.5, 0.0, 0.1, 0.0]), env.render_init())
    assert frame.shape == (400, 600, 3) and frame.dtype == np.uint8
    np.testing.assert_array_equal(
        frame, np.asarray(fnrec.render.cartpole(jnp.array([0.5, 0, 0.1, 0])))
    )
    classic = CartPoleParams(polemass_length=0.05)
    s = env.transition(jnp.array([0.0, 0.0, 0.1, 0.0]), 1, None, classic)
    assert not np.array_equal(s, env.transition(jnp.array([0.0, 0.0, 0.1, 0.0]), 1))
    assert float(env.reward(s, 1, s, None, CartPoleParams(sutton_barto_reward=True))) == 0.0


def test_importing_the_demo_env_needs_no_flax_or_pygame():
    code = (
        "import sys, fnrec.demo, fnrec.demo.ppo; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'flax', 'pygame'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
