"""Long runs through the family recorders: counters past 2**32, million-step episodes.

Counters: every env ends an episode every 3 steps (time limits of 3, actions that end nothing
earlier), both layouts. Not craftax, whose compile dominates: craftax's recorder counts through
gymnax's, whose counters tests/with_gymnax/test_gymnax_long_runs.py checks.

Million-step episodes (x64 off: each takes 6-13 s on a 2-core CPU), time limits raised to 10**6
with actions that never end them: jumanji's Sokoban pushing into a wall (its dense reward, -0.1
a step; fnrec's time limit, since Sokoban's own ends with discount 0, a termination), navix's
Empty turning with navix's time cost (-0.01 a step), XLand-MiniGrid's Empty turning (xminigrid
rewards only the goal: the return is 0, the length and the truncation tell). craftax has none:
its classic player starves within thousands of steps (no god mode) and 10**6 steps of it take
about 155 s on a 2-core CPU.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fnrec
from fnrec.counter import Counter64

# Compensated sums over millions of steps, as users compile them.
pytestmark = pytest.mark.xla_optimized

N, LENGTH, STEPS, BUFFER = 4, 3, 30, 8


def sokoban():
    """Sokoban's own time limit ends with discount 0 (a termination); fnrec's truncates."""
    from jumanji.environments import Sokoban
    from jumanji.environments.routing.sokoban.generator import ToyGenerator

    return Sokoban(generator=ToyGenerator(), time_limit=2**31 - 1)


def recorder_for(family, per_env, time_limit=LENGTH, statistics=None):
    """(init(key) -> state, step(state, key) -> (state, reward)) with a fixed action."""
    num_envs = None if per_env else N
    # None: the family's default statistics (navix's: "next_step")
    recording = None if statistics is None else fnrec.Recording(statistics)
    if family == "jumanji":
        recording = (recording or fnrec.Recording())._replace(max_episode_steps=time_limit)
        rec = fnrec.adapters.jumanji.recorder(sokoban(), recording, num_envs)
    elif family == "navix":
        import navix

        navix_env = navix.make(
            "Navix-Empty-5x5-v0", max_steps=time_limit, reward_fn=navix.rewards.time_cost
        )
        rec = fnrec.adapters.navix.recorder(navix_env, recording, num_envs)
    else:
        import xminigrid

        xminigrid_env, params = xminigrid.make("MiniGrid-Empty-5x5")
        params = params.replace(max_steps=time_limit)
        rec = fnrec.adapters.xminigrid.recorder(xminigrid_env, recording, num_envs, params)
    init = lambda key: rec.init(key)[0]  # noqa: E731
    action = {"jumanji": 0, "navix": 0, "xminigrid": 1}[family]  # up (into a wall), turns

    def fixed_step(state, key):
        out = rec.step(state, jnp.full(() if per_env else (N,), action, jnp.int32), key)
        return out.state, out.reward

    if per_env:
        return jax.vmap(init), jax.vmap(fixed_step)
    return init, fixed_step


def near_limit(stats, below: int):
    """`stats` with episode_count and env_steps `below` short of 2**32."""
    near = Counter64(jnp.uint32(0), jnp.uint32(2**32 - below))
    return stats._replace(episode_count=near, env_steps=near)


# navix's own step mixes int32 and int64 with jax_enable_x64 on: x64 off only.
CASES = [
    (family, per_env, x64)
    for family, x64s in (
        ("jumanji", (False, True)),
        ("navix", (False,)),
        ("xminigrid", (False, True)),
    )
    for per_env in (False, True)
    for x64 in x64s
]


@pytest.mark.parametrize(
    ("family", "per_env", "x64"),
    CASES,
    ids=[f"{f}-{'per_env' if p else 'shared'}-x64{'on' if x else 'off'}" for f, p, x in CASES],
    indirect=["x64"],
)
def test_counters_pass_2_to_the_32_exactly(family, per_env, x64):
    pytest.importorskip(family)
    init, step = recorder_for(family, per_env, statistics=fnrec.stats.episode_statistics(BUFFER))

    def keys(seed):
        split = jax.random.split(jax.random.key(seed), STEPS)
        return jax.vmap(lambda k: jax.random.split(k, N))(split) if per_env else split

    run = jax.jit(lambda s, k: jax.lax.scan(lambda s, k: (step(s, k)[0], None), s, k)[0])
    start = jax.random.split(jax.random.key(0), N) if per_env else jax.random.key(0)
    state = run(jax.jit(init)(start), keys(1))  # the queues are full
    limit = jax.vmap(lambda s: near_limit(s, 5)) if per_env else lambda s: near_limit(s, 5)
    state = run(state._replace(stats=limit(state.stats)), keys(2))
    episodes = STEPS // LENGTH
    if per_env:
        assert fnrec.stats.episode_count(state.stats).tolist() == [2**32 - 5 + episodes] * N
        done = state.stats.env_steps
        totals = [(int(h) << 32) + int(lo) for h, lo in zip(done.hi, done.lo, strict=True)]
        assert totals == [2**32 - 5 + STEPS] * N
        queues = fnrec.stats.queues(state.stats)
        assert all(q["length_queue"].tolist() == [LENGTH] * BUFFER for q in queues)
    else:
        assert fnrec.stats.episode_count(state.stats) == 2**32 - 5 + N * episodes
        assert fnrec.counter.to_int(state.stats.env_steps) == 2**32 - 5 + N * STEPS
        queue = fnrec.stats.queues(state.stats)
        assert queue["length_queue"].tolist() == [LENGTH] * BUFFER
        assert not queue["terminated_queue"].any()  # every one ended by its time limit
    assert float(fnrec.stats.summary(state.stats)["length_mean"]) == LENGTH


@pytest.mark.parametrize("family", ["jumanji", "navix", "xminigrid"])
def test_a_million_step_episode_keeps_its_return_within_1e_6(family):
    pytest.importorskip(family)
    steps = 1_000_000
    init, step = recorder_for(family, per_env=True, time_limit=steps)  # one env, vmapped
    state = jax.jit(init)(jax.random.split(jax.random.key(0), 1))
    keys = jax.random.split(jax.random.key(1), (steps, 1))
    state, rewards = jax.jit(lambda s: jax.lax.scan(step, s, keys))(state)
    (queue,) = fnrec.stats.queues(state.stats)
    assert queue["length_queue"].tolist() == [steps]
    assert queue["terminated_queue"].tolist() == [False]  # the raised time limit: truncated
    exact = math.fsum(np.asarray(rewards, np.float32).astype(np.float64).ravel().tolist())
    (episode_return,) = queue["return_queue"].tolist()
    assert abs(episode_return - exact) <= 1e-6 * abs(exact), (episode_return, exact)
    if family != "xminigrid":  # dense rewards, where a plain float32 sum drifts
        naive = np.cumsum(np.asarray(rewards, np.float32).ravel(), dtype=np.float32)[-1]
        assert abs(naive - exact) > 1e-6 * abs(exact)
