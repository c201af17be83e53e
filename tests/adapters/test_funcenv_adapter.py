"""fnrec.adapters.FuncEnvAdapter over Gymnasium's four JAX FuncEnvs (jit/vmap/scan)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conformance import Rollout, assert_matches_reference
from gymnasium.envs.phys2d.cartpole import CartPoleFunctional
from gymnasium.envs.phys2d.pendulum import PendulumFunctional
from gymnasium.envs.tabular.blackjack import BlackjackFunctional
from gymnasium.envs.tabular.cliffwalking import CliffWalkingFunctional
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fnrec
from fnrec.adapters import FuncEnvAdapter

ENVS = {
    "cartpole": (CartPoleFunctional, lambda k, s: jax.random.randint(k, s, 0, 2)),
    "pendulum": (
        PendulumFunctional,
        lambda k, s: jax.random.uniform(k, (*s, 1), minval=-2, maxval=2),
    ),
    "blackjack": (BlackjackFunctional, lambda k, s: jax.random.randint(k, s, 0, 2)),
    "cliffwalking": (CliffWalkingFunctional, lambda k, s: jax.random.randint(k, (*s, 1), 0, 4)),
}
MODES = ["same_step", "next_step"]


def make(env, max_episode_steps=None, buffer_length=100, autoreset_mode="same_step", num_envs=None):
    statistics = fnrec.stats.episode_statistics(buffer_length, autoreset_mode)
    recording = fnrec.Recording(statistics, max_episode_steps=max_episode_steps)
    return FuncEnvAdapter(env, recording, num_envs=num_envs)


def vmapped_rollout(env, sample, num_envs, num_steps, seed=0):
    """A vmapped rollout in one jitted lax.scan; returns the final state and per-step outputs."""
    state = jax.vmap(env.initial)(jax.random.split(jax.random.key(seed), num_envs))

    def body(state, key):
        action_key, step_key = jax.random.split(key)
        out = jax.vmap(env.step)(
            state, sample(action_key, (num_envs,)), jax.random.split(step_key, num_envs)
        )
        return out.state, (out.reward, out.terminated, out.truncated, out.info, out.obs)

    keys = jax.random.split(jax.random.key(seed + 1), num_steps)
    return jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", sorted(ENVS))
def test_vmapped_rollout_matches_reference(name, mode, x64):
    cls, sample = ENVS[name]
    env = make(cls(), max_episode_steps=15, buffer_length=8, autoreset_mode=mode)
    num_envs, num_steps = 3, 120
    state, (reward, term, trunc, info, _) = vmapped_rollout(env, sample, num_envs, num_steps)
    ended = fnrec.EpisodeEnded(
        info["_episode"], info["episode"]["r"], info["episode"]["l"],
        np.asarray(term) & info["_episode"], np.asarray(trunc) & info["_episode"],
    )  # fmt: skip
    assert_matches_reference(Rollout(reward, term, trunc, ended, state.stats), mode, 8)
    # Time limit: no episode is longer than 15 steps, and one that long is truncated.
    assert info["episode"]["l"].max() <= 15
    long = info["_episode"] & (info["episode"]["l"] == 15)
    assert (np.asarray(trunc)[long] | np.asarray(term)[long]).all()
    assert fnrec.stats.episode_count(state.stats).sum() > 0


@pytest.mark.gymnasium_api
@pytest.mark.parametrize("mode", MODES)
def test_autoreset_semantics_on_cartpole(mode):
    env = make(CartPoleFunctional(), max_episode_steps=40, autoreset_mode=mode)
    _, sample = ENVS["cartpole"]
    _, (reward, term, trunc, info, obs) = vmapped_rollout(env, sample, 4, 200)
    done = np.asarray(term | trunc)
    assert done.any()
    obs = np.asarray(obs)
    if mode == "same_step":
        # The observation is the next episode's first one; the final one is in info.
        assert (np.abs(obs[done]) <= 0.05).all()
        assert not np.allclose(np.asarray(info["final_obs"])[done], obs[done])
        np.testing.assert_array_equal(np.asarray(reward), 1.0)
    else:
        # The step after a done is a reset step: first observation, reward 0, not done.
        after = np.zeros_like(done)
        after[1:] = done[:-1]
        assert (np.abs(obs[after]) <= 0.05).all()
        np.testing.assert_array_equal(np.asarray(reward)[after], 0.0)
        np.testing.assert_array_equal(np.asarray(reward)[~after], 1.0)
        assert not done[after].any()


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    limit=st.integers(1, 12),
    num_envs=st.integers(1, 5),
    mode=st.sampled_from(MODES),
    batched=st.booleans(),
)
def test_time_limit_on_pendulum(limit, num_envs, mode, batched):
    """Pendulum never terminates: every episode is truncated after exactly `limit` steps."""
    num_steps = 30
    _, sample = ENVS["pendulum"]
    if batched:
        env = make(PendulumFunctional(), limit, 100, autoreset_mode=mode, num_envs=num_envs)
        state = env.initial(jax.random.key(0))
        step = jax.jit(env.step)
        for t in range(num_steps):
            out = step(state, sample(jax.random.key(t), (num_envs,)), jax.random.key(t + 100))
            state = out.state
            assert not np.asarray(out.terminated).any()
    else:
        env = make(PendulumFunctional(), limit, 100, autoreset_mode=mode)
        state, _ = vmapped_rollout(env, sample, num_envs, num_steps)
    period = limit if mode == "same_step" else limit + 1
    per_env = (num_steps + (mode == "next_step")) // period
    count = fnrec.stats.episode_count(state.stats)
    assert int(np.sum(count)) == per_env * num_envs
    queues = fnrec.stats.queues(state.stats)
    for queue in queues if isinstance(queues, list) else [queues]:
        np.testing.assert_array_equal(queue["length_queue"], limit)
        assert not queue["terminated_queue"].any()


@pytest.mark.parametrize("name", sorted(ENVS))
def test_batched_shared_queue_in_env_index_order(name, x64):
    cls, sample = ENVS[name]
    num_envs = 5
    env = make(
        cls(),
        max_episode_steps=10,
        buffer_length=1000,
        autoreset_mode="next_step",
        num_envs=num_envs,
    )
    state = env.initial(jax.random.key(0))

    def body(state, key):
        a_key, s_key = jax.random.split(key)
        out = env.step(state, sample(a_key, (num_envs,)), s_key)
        return out.state, out.info

    state, info = jax.jit(lambda s: jax.lax.scan(body, s, jax.random.split(jax.random.key(1), 60)))(
        state
    )
    mask = np.asarray(info["_episode"])
    queues = fnrec.stats.queues(state.stats)
    np.testing.assert_array_equal(queues["length_queue"], np.asarray(info["episode"]["l"])[mask])
    np.testing.assert_allclose(queues["return_queue"], np.asarray(info["episode"]["r"])[mask])
    assert fnrec.stats.episode_count(state.stats) == mask.sum() > 0


@pytest.mark.gymnasium_api
def test_funcenv_protocol_transition_and_reset_keep_statistics():
    env = make(CartPoleFunctional(), max_episode_steps=5)
    key = jax.random.key(0)
    state = env.initial(key)
    for _ in range(5):
        nxt = env.transition(state, jnp.asarray(1), key)
        assert env.reward(state, jnp.asarray(1), nxt, key) == 1.0
        state = nxt
    assert bool(env.truncation(state)) and not bool(env.terminal(state, key))
    assert fnrec.stats.episode_count(state.stats) == 1
    state, obs = env.reset(state, key)
    assert fnrec.stats.episode_count(state.stats) == 1 and int(state.steps) == 0
    np.testing.assert_array_equal(obs, env.observation(state, key))
    assert env.observation_space == CartPoleFunctional.observation_space


@pytest.mark.gymnasium_api
def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"max_episode_steps.*got 0"):
        make(CartPoleFunctional(), max_episode_steps=0)
    with pytest.raises(ValueError, match=r"autoreset_mode.*got 'later'"):
        make(CartPoleFunctional(), autoreset_mode="later")
    with pytest.raises(ValueError, match="num_envs"):
        make(CartPoleFunctional(), num_envs=0)
    with pytest.raises(TypeError, match="`env` must be a FuncEnv"):
        make(object())
    env = make(CartPoleFunctional(), num_envs=3)
    state = env.initial(jax.random.key(0))
    with pytest.raises(ValueError, match=r"`action` must have shape \(3,\).*got shape \(4,\)"):
        jax.jit(env.step)(state, jnp.zeros(4, jnp.int32), jax.random.key(1))
    for action in ("left", None, b"0"):
        with pytest.raises(TypeError, match=rf"`action` must be an array or number, got "
                           rf"{type(action).__name__}: "):  # fmt: skip
            env.step(state, action, jax.random.key(1))
    for key in (None, 7, jnp.zeros(2, jnp.float32), "k"):
        with pytest.raises(TypeError, match=r"`rng` must be a PRNG key .*got "):
            env.step(state, jnp.zeros(3, jnp.int32), key)
        with pytest.raises(TypeError, match=r"`rng` must be a PRNG key .*got "):
            env.initial(key)
    with pytest.raises(TypeError, match=r"`action` must have a bool, integer or float dtype"):
        env.step(state, jnp.zeros(3, jnp.complex64), jax.random.key(1))
    if not jax.config.jax_enable_x64:
        with pytest.raises(ValueError, match=r"`action` must fit int32 .*1099511627776"):
            env.step(state, np.array([2**40, 0, 0]), jax.random.key(1))  # JAX would wrap it to 0
    listed = env.step(state, [1, 0, 1], jax.random.key(1))  # a list is an array of actions
    arrayed = env.step(state, jnp.array([1, 0, 1]), jax.random.key(1))
    np.testing.assert_array_equal(listed.obs, arrayed.obs)
    for other in (make(CartPoleFunctional(), num_envs=4), make(CartPoleFunctional())):
        with pytest.raises(ValueError, match=r"`state` must hold num_envs=3 envs"):
            jax.jit(env.step)(other.initial(jax.random.key(0)), jnp.zeros(3, jnp.int32),
                              jax.random.key(1))  # fmt: skip


def test_core_errors_name_the_argument():
    import fnrec.adapters.core as core

    step = core.EnvStep(None, None, jnp.ones(3), jnp.zeros((3, 1), bool), False, {})
    reset = core.EnvReset(jnp.zeros((3, 4)), None)
    # An env that resets itself: its steps are recorded as they come (shapes checked).
    fns = core.EnvFns(lambda x, a, k: step, lambda k: reset, num_envs=3, resets_itself=True)
    rec = fnrec.recorder(fns, core.Recording(fnrec.stats.episode_statistics()))
    state, _ = rec.init(jax.random.key(0))
    with pytest.raises(ValueError, match=r"`terminated` must have shape \(3,\).*\(3, 1\)"):
        rec.step(state, jnp.zeros(3), jax.random.key(1))
    with pytest.raises(TypeError, match="`statistics` must be an EpisodeStatistics"):
        FuncEnvAdapter(CartPoleFunctional(), fnrec.Recording(statistics=100))
    with pytest.raises(TypeError, match="`capture` must be None or an EpisodeCapture"):
        FuncEnvAdapter(CartPoleFunctional(), fnrec.Recording(capture=lambda x: x))
    env = make(CartPoleFunctional())
    with pytest.raises(TypeError, match="`state` must be the Recorded state"):
        env.step(jnp.zeros(4), 0, jax.random.key(0))


def test_removed_names_are_gone():
    # Deprecated and replaced names are removed, not kept as aliases.
    import fnrec.adapters.core as core

    assert not hasattr(fnrec.adapters, "RecordEpisodeStatistics")
    assert not hasattr(FuncEnvAdapter, "functions")
    for name in ("AdapterFns", "Wrapper", "check_env", "RecordingView"):
        assert not hasattr(core, name), name
    assert not hasattr(core.Recording, "record")
    # The recording settings are one Recording now, not keyword arguments.
    with pytest.raises(TypeError):
        FuncEnvAdapter(CartPoleFunctional(), max_episode_steps=7)
    env = FuncEnvAdapter(
        CartPoleFunctional(),
        fnrec.Recording(fnrec.stats.episode_statistics(3, "next_step"), max_episode_steps=7),
    )
    recording = env.recording
    assert recording.statistics.buffer_length == 3 and recording.autoreset_mode == "next_step"
    assert recording.max_episode_steps == 7


def test_layout_mistakes_name_the_fix():
    shared = make(CartPoleFunctional(), num_envs=3)
    with pytest.raises(ValueError, match=r"ONE PRNG key .* num_envs=3 .* shape \(3,\)"):
        shared.initial(jax.random.split(jax.random.key(0), 3))
    with pytest.raises(ValueError, match=r"do not jax\.vmap it"):
        jax.vmap(shared.initial)(jax.random.split(jax.random.key(0), 2))
    state = shared.initial(jax.random.key(0))
    with pytest.raises(ValueError, match=r"do not jax\.vmap it"):
        jax.vmap(lambda k: shared.step(state, jnp.zeros(3, jnp.int32), k))(
            jax.random.split(jax.random.key(1), 2)
        )
    with pytest.raises(ValueError, match=r"`action` must have shape \(3,\)"):
        shared.step(state, 0, jax.random.key(1))  # a scalar action for a batch
