"""fnrec.utils.check_env: passes real functional envs, names the fix for broken ones."""

from __future__ import annotations

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fnrec
from fnrec.envs import CartPole
from fnrec.utils import EnvCheckError, check_env  # loaded lazily from fnrec.host

pytestmark = pytest.mark.gymnasium_api  # CI runs these again on Gymnasium 1.3


def test_fnrec_cartpole_and_its_recorders_pass(recwarn):
    check_env(CartPole())
    recording = fnrec.Recording(max_episode_steps=50)
    check_env(fnrec.adapters.funcenv.recorder(CartPole(), recording))
    check_env(fnrec.adapters.FuncEnvAdapter(CartPole(), recording, num_envs=3).recorder())
    assert not [w for w in recwarn if "observation" in str(w.message)]


@pytest.mark.parametrize(
    "make",
    [
        "gymnasium.envs.phys2d.cartpole:CartPoleFunctional",
        "gymnasium.envs.phys2d.pendulum:PendulumFunctional",
        "gymnasium.envs.tabular.blackjack:BlackjackFunctional",
    ],
)
def test_gymnasiums_jax_envs_pass(make):
    module, name = make.split(":")
    env = getattr(pytest.importorskip(module), name)()
    check_env(env, steps=10, x64_modes=(False,) if "phys2d.cartpole" in make else (False, True))


def test_what_check_env_finds_in_gymnasiums_own_envs():
    """Two real findings, pinned: fnrec works around both (fnrec.envs.CartPole has the first
    fixed; the adapters cast carries), and check_env says what is wrong."""
    cartpole = pytest.importorskip("gymnasium.envs.phys2d.cartpole").CartPoleFunctional()
    with pytest.raises(EnvCheckError, match=r"x64=True\): from \[float64\[4\]\] to \[float32"):
        check_env(cartpole, steps=3)  # its initial state follows x64, its steps are float32
    cliff = pytest.importorskip("gymnasium.envs.tabular.cliffwalking").CliffWalkingFunctional()
    with pytest.raises(EnvCheckError, match=r"bool\[\]\] to \[int32\[2\], int32\[\], bool\[1\]"):
        check_env(cliff, steps=3)  # a flag of shape () becomes shape (1,) after a step


class Broken(CartPole):
    """fnrec's CartPole with one thing broken, chosen by `kind`."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.calls = 0

    def initial(self, rng, params=None):
        state = super().initial(rng, params)
        if self.kind == "hidden state":
            self.calls += 1
            return state + self.calls
        return state

    def transition(self, state, action, rng, params=None):
        state = super().transition(state, action, rng, params)
        if self.kind == "python if" and state[0] > 0:
            return state
        if self.kind == "numpy random":
            return state + np.random.normal()
        if self.kind == "dtype drift":
            return state.astype(jnp.float16)
        return state

    def reward(self, state, action, next_state, rng, params=None):
        if self.kind == "vector reward":
            return jnp.ones(2)
        return super().reward(state, action, next_state, rng, params)

    def terminal(self, state, rng=None, params=None):
        done = super().terminal(state, rng, params)
        return done.astype(jnp.float32) if self.kind == "float terminal" else done

    def render_image(self, state, render_state, params=None):
        render_state, frame = super().render_image(state, render_state, params)
        return render_state, frame / 255.0 if self.kind == "float frame" else frame


@pytest.mark.parametrize(
    ("kind", "words"),
    [
        ("hidden state", ["`initial`", "different results", "hidden state"]),
        ("python if", ["cannot run under jax.jit", "jnp.where"]),
        ("numpy random", ["different results", "jax.random"]),
        ("dtype drift", ["changed its structure", "float16", "lax.scan carry"]),
        ("vector reward", ["`reward`", "shape ()", "shape (2,)"]),
        ("float terminal", ["`terminal`", "bool", "float32"]),
        ("float frame", ["`render_image`", "uint8 HxWx3", "float"]),
    ],
)
def test_a_broken_env_fails_with_the_fix(kind, words):
    with pytest.raises(EnvCheckError) as error:
        check_env(Broken(kind), steps=5)
    for word in words:
        assert word in str(error.value), (word, str(error.value))


def test_observation_outside_the_space_warns_as_gymnasium():
    class Narrow(CartPole):
        observation_space = gym.spaces.Box(-0.001, 0.001, shape=(4,), dtype=np.float32)

    with pytest.warns(UserWarning, match="not within observation_space"):
        check_env(Narrow(), steps=3)


def test_observation_of_the_wrong_shape_fails():
    class Wide(CartPole):
        observation_space = gym.spaces.Box(-1, 1, shape=(5,), dtype=np.float32)

    with pytest.raises(EnvCheckError, match=r"has shape \(4,\), but observation_space .* \(5,\)"):
        check_env(Wide(), steps=3)


def test_x64_setting_is_restored(x64):
    check_env(CartPole(), steps=2)
    assert jax.config.read("jax_enable_x64") == x64


def test_not_an_env_and_bad_steps():
    with pytest.raises(TypeError, match="lacks initial, transition"):
        check_env(object())
    with pytest.raises(ValueError, match="`steps` must be an int >= 1, got 0"):
        check_env(CartPole(), steps=0)
    for modes in [(), [], ("yes",), None]:  # a check that checks nothing is refused
        with pytest.raises(ValueError, match=r"`x64_modes` must be a non-empty tuple of bools"):
            check_env(CartPole(), x64_modes=modes)
