"""fnrec.demo.ppo: the demo's learner learns CartPole, deterministically, in one jitted program."""

from __future__ import annotations

import jax
import numpy as np

import fnrec
from fnrec.demo.ppo import PPOConfig, greedy_action, make_train
from fnrec.envs import CartPole


def test_learns_cartpole_and_is_deterministic():
    config = PPOConfig(num_envs=16, num_steps=64, num_updates=25)
    rec = fnrec.adapters.funcenv.recorder(
        CartPole(), fnrec.Recording(max_episode_steps=500), num_envs=16
    )
    seen = []
    train = jax.jit(
        make_train(
            config, rec.init, rec.step, 4, 2,
            metrics_fn=lambda s: fnrec.stats.summary(s.stats),
            on_update=lambda i, m: seen.append(int(i)),
        )
    )  # fmt: skip
    a = train(jax.random.key(0))
    jax.effects_barrier()
    b = train(jax.random.key(0))
    for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params), strict=True):
        np.testing.assert_array_equal(x, y)
    returns = np.asarray(a.metrics["return_mean"])
    assert returns[:3].mean() < 40 and returns[-3:].mean() > 2 * returns[:3].mean()
    assert seen[:25] == list(range(25))  # the progress callback, once per update
    assert greedy_action(a.params, np.zeros((3, 4), np.float32)).shape == (3,)
