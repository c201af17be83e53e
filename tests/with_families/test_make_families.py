"""fnrec.make / make_vec / make_recorder over every family this venv installs, by its ids."""

from __future__ import annotations

import jax
import numpy as np
import pytest

import fnrec


def run_episode_steps(env, steps=30):
    obs, _ = env.reset(seed=0)
    for _ in range(steps):
        obs, _reward, terminated, truncated, info = env.step(env.action_space.sample())
        if terminated or truncated:
            assert info["episode"]["l"] >= 1
            obs, _ = env.reset()
    return obs


@pytest.mark.parametrize(
    ("id", "shape"),
    [
        ("gymnax/CartPole-v1", (400, 600, 3)),
        ("navix/Navix-Empty-5x5-v0", None),
        ("xminigrid/MiniGrid-Empty-5x5", None),
    ],
)
def test_make_steps_and_renders(id, shape):
    pytest.importorskip(id.split("/")[0])
    env = fnrec.make(id, render_mode="rgb_array")
    obs = run_episode_steps(env)
    assert env.observation_space.shape == np.shape(obs)
    frame = env.render()
    assert frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8
    if shape is not None:
        assert frame.shape == shape
    assert env.spec.id == id


@pytest.mark.parametrize(
    "id", ["gymnax/Breakout-MinAtar", "jumanji/Snake-v1", "navix/Navix-Empty-8x8-v0"]
)
def test_make_vec_steps(id):
    pytest.importorskip(id.split("/")[0])
    envs = fnrec.make_vec(id, 3)
    obs, _ = envs.reset(seed=1)
    assert all(np.shape(x)[0] == 3 for x in jax.tree.leaves(obs))  # jumanji: a NamedTuple
    for _ in range(20):
        envs.step(envs.action_space.sample())


def test_gymnax_resets_on_the_done_step():
    pytest.importorskip("gymnax")
    envs = fnrec.make_vec("gymnax/CartPole-v1", 2)
    assert envs.recorder.spec.autoreset_mode == "same_step"
    with pytest.raises(ValueError, match="records in 'same_step'"):
        fnrec.make_vec("gymnax/CartPole-v1", 2, autoreset_mode="next_step")


def test_no_renderer_says_to_pass_one():
    pytest.importorskip("jumanji")
    with pytest.raises(ValueError, match="pass `render=`"):
        fnrec.make("jumanji/Snake-v1", render_mode="rgb_array")


def test_craftax_ids_make_recorders():
    pytest.importorskip("craftax")
    rec = fnrec.make_recorder("craftax/Craftax-Classic-Symbolic-v1", num_envs=2)
    assert rec.spec.num_envs == 2 and rec.spec.autoreset_mode == "same_step"


def test_a_family_name_near_a_known_one():
    pytest.importorskip("navix")
    with pytest.raises(ValueError, match=r"did you mean .*'Navix-Empty-5x5-v0'"):
        fnrec.make("navix/Navix-Empty-5x6-v0")
