"""fnrec.adapters.core on its own: a 20-line toy env family, all three autoreset modes, capture."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from capture_reference import ReferenceCapture
from conformance import Rollout, assert_matches_reference

import fnrec
from fnrec.adapters import core
from fnrec.host.captured import read_capture

MODES = ["same_step", "next_step", "disabled"]


class Walk:
    """A random walk that terminates past +-3 and truncates itself after 7 steps (its own limit).

    A toy family driven through the core directly: two functions, and reset/step.
    """

    def __init__(self, recording: core.Recording, num_envs: int | None) -> None:
        self.recording = recording.check()
        fns = core.EnvFns(self.env_step, self.env_reset)
        self.fns = fns if num_envs is None else core.vmapped(fns, num_envs)
        self.num_envs = num_envs

    def env_step(self, state, action, key):
        x, t = state
        x = x + action + jax.random.normal(key) * 0.5
        return core.EnvStep((x, t + 1), x, jnp.abs(x), jnp.abs(x) > 3, t + 1 >= 7, {})

    def env_reset(self, key):
        x = jax.random.uniform(key, minval=-1, maxval=1)
        return core.EnvReset((x, jnp.int32(0)), x)

    def reset(self, key):
        fresh = self.fns.reset(key)
        return self.recording.init(fresh.env_state, self.num_envs), fresh.obs

    def step(self, state, action, key):
        return self.recording.step(self.fns, state, action, key)


def rollout(adapter, num_envs, steps, mode, vmapped, seed=0):
    """A jitted scan; with "disabled" autoreset the loop resets finished envs itself."""
    if vmapped:
        state, _ = jax.vmap(adapter.reset)(jax.random.split(jax.random.key(seed), num_envs))
        step = lambda s, a, k: jax.vmap(adapter.step)(s, a, jax.random.split(k, num_envs))  # noqa: E731
        reset = lambda s, k, m: jax.vmap(  # noqa: E731
            lambda s, k, m: adapter.recording.reset(adapter.fns, s, k, m)[0]
        )(s, jax.random.split(k, num_envs), m)
    else:
        state, _ = adapter.reset(jax.random.key(seed))
        step = adapter.step
        reset = lambda s, k, m: adapter.recording.reset(adapter.fns, s, k, m)[0]  # noqa: E731

    def body(state, key):
        act_key, step_key, reset_key = jax.random.split(key, 3)
        action = jax.random.uniform(act_key, (num_envs,), minval=-1, maxval=1)
        out = step(state, action, step_key)
        state = out.state
        if mode == "disabled":  # the caller resets where an episode ended
            state = reset(state, reset_key, out.ended.mask)
        final = out.info.get("final_state", out.state.env_state)
        return state, (out.reward, out.terminated, out.truncated, out.ended, final, state.env_state)

    keys = jax.random.split(jax.random.key(seed + 1), steps)
    return jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)


@pytest.mark.parametrize("vmapped", [False, True], ids=["shared", "vmapped"])
@pytest.mark.parametrize("mode", MODES)
def test_toy_family_matches_reference(mode, vmapped, x64):
    recording = core.Recording(
        fnrec.stats.episode_statistics(16, mode), max_episode_steps=5
    )  # fnrec's limit (5) on top of the env's own (7): truncations come from fnrec here
    adapter = Walk(recording, None if vmapped else 4)
    state, (reward, term, trunc, ended, _, _) = rollout(adapter, 4, 60, mode, vmapped)
    resets = ended.mask if mode == "disabled" else None  # the loop reset what ended
    count = assert_matches_reference(
        Rollout(reward, term, trunc, ended, state.stats, resets), mode, 16
    )
    assert count > 10
    lengths = np.asarray(ended.length)[np.asarray(ended.mask)]
    assert lengths.max() <= 5 and np.asarray(trunc).any() and np.asarray(term).any()


def test_the_envs_own_truncation_travels_in_the_step_result():
    adapter = Walk(core.Recording(fnrec.stats.episode_statistics(64)), 3)
    state, (reward, term, trunc, ended, _, _) = rollout(adapter, 3, 40, "same_step", False)
    assert_matches_reference(Rollout(reward, term, trunc, ended, state.stats), "same_step", 64)
    lengths = np.asarray(ended.length)[np.asarray(ended.mask) & np.asarray(trunc)]
    assert (lengths == 7).all() and len(lengths) > 0  # the env's own limit, 7 steps


def test_an_env_its_library_batched_is_used_as_it_is():
    """A pre-batched env (one key, [N] arrays, as craftax or purejaxrl's VecEnv): no vmapped."""
    num_envs = 5

    def env_step(state, action, key):
        x, t = state
        x = x + action + 0.5 * jax.random.normal(key, x.shape)
        return core.EnvStep((x, t + 1), x, jnp.abs(x), jnp.abs(x) > 3, t + 1 >= 7, {})

    def env_reset(key):
        x = jax.random.uniform(key, (num_envs,), minval=-1, maxval=1)
        return core.EnvReset((x, jnp.zeros(num_envs, jnp.int32)), x)

    fns = core.EnvFns(env_step, env_reset)
    recording = core.Recording(fnrec.stats.episode_statistics(64))
    state = recording.init(fns.reset(jax.random.key(0)).env_state, num_envs)

    def body(state, key):
        act_key, step_key = jax.random.split(key)
        out = recording.step(fns, state, jax.random.uniform(act_key, (num_envs,)) - 0.5, step_key)
        return out.state, (out.reward, out.terminated, out.truncated, out.ended)

    keys = jax.random.split(jax.random.key(1), 50)
    state, (reward, term, trunc, ended) = jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)
    rollout_ = Rollout(reward, term, trunc, ended, state.stats)
    assert isinstance(fnrec.stats.queues(state.stats), dict)  # one shared queue
    assert assert_matches_reference(rollout_, "same_step", 64) > 10


@pytest.mark.parametrize("mode", MODES)
def test_capture_through_the_core(mode):
    trigger = fnrec.schedules.every(2)
    capture = fnrec.capture.episode_capture(5, 32, watch=None, trigger=trigger)
    adapter = Walk(
        core.Recording(fnrec.stats.episode_statistics(64, mode), capture, max_episode_steps=5), 3
    )
    first, _ = adapter.reset(jax.random.key(0))
    state, (_, _, _, ended, finals, afters) = rollout(adapter, 3, 40, mode, False)
    reference = ReferenceCapture(3, 5, 32, None, trigger)
    reference.init([float(x) for x in first.env_state[0]])
    host = jax.device_get((ended, finals, afters))
    for t in range(40):
        step_ended = [tuple(np.asarray(f)[t, e].item() for f in host[0]) for e in range(3)]
        if mode == "disabled" and t > 0:
            prev = np.asarray(host[0].mask)[t - 1]
            reference.reset([float(x) for x in host[2][0][t - 1]], prev)
        reference.step(
            step_ended, [float(x) for x in host[1][0][t]], [float(x) for x in host[2][0][t]], mode
        )
    episodes = read_capture(state.capture).episodes
    assert len(episodes) == len(reference.stored) > 3
    for got, want in zip(episodes, reference.stored, strict=True):
        assert (got.episode_id, got.env, got.length) == (
            want["episode_id"],
            want["env"],
            want["length"],
        )
        np.testing.assert_allclose(got.items[0], want["frames"], rtol=1e-6)


def test_core_errors_name_the_argument():
    recording = core.Recording(fnrec.stats.episode_statistics())
    with pytest.raises(TypeError, match=r"`fns.step` must return an EnvStep"):
        bad = core.EnvFns(
            lambda s, a, k: (s, s), lambda k: core.EnvReset(jnp.zeros(()), jnp.zeros(()))
        )
        recording.step(bad, recording.init(jnp.zeros(())), 0, jax.random.key(0))
    with pytest.raises(TypeError, match="`state` must be the Recorded state"):
        recording.step(None, jnp.zeros(()), 0, jax.random.key(0))
    resets_itself = core.EnvFns(None, None, resets_itself=True)
    next_step = core.Recording(fnrec.stats.episode_statistics(autoreset_mode="next_step"))
    with pytest.raises(ValueError, match="resets on the done step"):
        fnrec.recorder(resets_itself, next_step)
    with pytest.raises(ValueError, match="`max_episode_steps` needs fnrec to reset the env"):
        fnrec.recorder(resets_itself, fnrec.Recording(max_episode_steps=5))
    with pytest.raises(ValueError, match="`num_envs` must be None"):
        core.vmapped(core.EnvFns(None, None), 0)


@pytest.mark.parametrize("made_for", [None, 3, 5])
def test_a_state_of_another_batch_names_both_batches(made_for):
    recording = core.Recording(fnrec.stats.episode_statistics())
    one = core.EnvFns(
        lambda s, a, k: core.EnvStep(s + a, s, 1.0, False, False, {}),
        lambda k: core.EnvReset(jnp.zeros(()), jnp.zeros(())),
    )
    fns = core.vmapped(one, 4)
    other = one if made_for is None else core.vmapped(one, made_for)
    state = recording.init(other.reset(jax.random.key(0)).env_state, made_for)
    made = "one env" if made_for is None else f"num_envs={made_for}"
    with pytest.raises(ValueError, match=rf"`state` must hold num_envs=4 envs .* made for {made}"):
        jax.jit(lambda s: recording.step(fns, s, jnp.ones(4), jax.random.key(1)))(state)
    with pytest.raises(ValueError, match=r"`state` must hold num_envs=4 envs"):
        recording.reset(fns, state, jax.random.key(1), None)


@pytest.mark.parametrize("mode", MODES)
def test_shared_and_per_env_layouts_see_the_same_trajectories(mode):
    """num_envs=N steps each env as jax.vmap of the unbatched adapter over split(key, N)."""
    statistics = fnrec.stats.episode_statistics(16, mode)
    shared = Walk(core.Recording(statistics, max_episode_steps=5), 4)
    per_env = Walk(core.Recording(statistics, max_episode_steps=5), None)
    key = jax.random.key(3)
    a, _ = shared.reset(key)
    b, _ = jax.vmap(per_env.reset)(jax.random.split(key, 4))
    for t in range(30):
        action = jnp.linspace(-1, 1, 4) * (t % 3 - 1)
        key = jax.random.fold_in(key, t)
        out_a = shared.step(a, action, key)
        out_b = jax.vmap(per_env.step)(b, action, jax.random.split(key, 4))
        a, b = out_a.state, out_b.state
        for x, y in zip(jax.tree.leaves(a.env_state), jax.tree.leaves(b.env_state), strict=True):
            np.testing.assert_array_equal(x, y)
        np.testing.assert_array_equal(out_a.ended.mask, out_b.ended.mask)
        np.testing.assert_array_equal(out_a.reward, out_b.reward)


def _keyed_env(step_key=None):
    """A toy env whose state holds a PRNG key (as jumanji, navix, xminigrid and craftax do)."""

    def env_step(s, a, k):
        x, key = s
        key = jax.random.split(key)[0] if step_key is None else step_key
        return core.EnvStep((x + 1, key), (x + 1).astype(float), 1.0, x + 1 >= 3, False, {})

    def env_reset(k):
        return core.EnvReset((jnp.zeros((), jnp.int32), k), jnp.zeros(()))

    return core.EnvFns(env_step, env_reset)


def test_an_env_state_holding_a_typed_key_steps_eagerly_and_under_jit():
    recording = core.Recording(fnrec.stats.episode_statistics(), fnrec.capture.episode_capture(5))
    fns = core.vmapped(_keyed_env(), 2)
    start = recording.init(fns.reset(jax.random.key(0)).env_state, 2)
    eager, jitted = start, start
    step = jax.jit(lambda s, k: recording.step(fns, s, jnp.zeros(2), k).state)
    for t in range(7):
        eager = recording.step(fns, eager, jnp.zeros(2), jax.random.key(t)).state
        jitted = step(jitted, jax.random.key(t))
    assert fnrec.stats.episode_count(eager.stats) == fnrec.stats.episode_count(jitted.stats) == 4
    np.testing.assert_array_equal(
        jax.random.key_data(eager.env_state[1]), jax.random.key_data(jitted.env_state[1])
    )


def test_mixing_typed_and_raw_keys_in_the_env_state_names_the_fix():
    recording = core.Recording(fnrec.stats.episode_statistics())
    fns = core.vmapped(_keyed_env(step_key=jax.random.key(1)), 2)
    state = recording.init(fns.reset(jax.random.PRNGKey(0)).env_state, 2)  # raw uint32 keys
    with pytest.raises(TypeError, match=r"use one kind of key for reset and step"):
        recording.step(fns, state, jnp.zeros(2), jax.random.key(0))
