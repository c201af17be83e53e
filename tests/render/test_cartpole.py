"""fnrec.render.cartpole against Gymnasium's pygame CartPole frames, and its jit/vmap contract."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _render_compare import assert_frames_close, centroid, frames_differ

import fnrec.render

phys2d = pytest.importorskip("gymnasium.envs.phys2d.cartpole")
pytest.importorskip("pygame")

POLE = (202, 152, 101)
RNG = np.random.default_rng(1234)
RANDOM = RNG.uniform([-2.4, -2, -0.2094, -2], [2.4, 2, 0.2094, 2], size=(20, 4))
EXTREME = np.array(
    [[0, 0, 0, 0], [2.4, 0, 0.2094, 0], [-2.4, 0, -0.2094, 0], [0, 0, np.pi, 0],
     [0, 0, np.pi / 2, 0], [1, 0, -np.pi / 2, 0], [-2.7, 0, 1, 0], [3.5, 0, -0.5, 0],
     [0.3, 0, 2.5, 0], [-1, 0, -3, 0]]
)  # fmt: skip
STATES = np.concatenate([RANDOM, EXTREME]).astype(np.float32)


@pytest.fixture(scope="module")
def gym_frames() -> np.ndarray:
    env = phys2d.CartPoleFunctional()
    render_state = env.render_init()
    frames = [env.render_image(s, render_state)[1].copy() for s in STATES]
    env.render_close(render_state)
    return np.stack(frames)


@pytest.fixture(scope="module")
def our_frames() -> np.ndarray:
    return np.asarray(jax.jit(jax.vmap(fnrec.render.cartpole))(jnp.asarray(STATES)))


def test_shape_and_dtype(our_frames: np.ndarray) -> None:
    assert our_frames.shape == (len(STATES), 400, 600, 3)
    assert our_frames.dtype == np.uint8


@pytest.mark.parametrize("i", range(len(STATES)))
def test_matches_gymnasium(i: int, gym_frames: np.ndarray, our_frames: np.ndarray) -> None:
    assert_frames_close(our_frames[i], gym_frames[i], f"state {STATES[i]}")


@pytest.mark.parametrize("i", range(len(RANDOM)))
def test_pole_centroid_matches(i: int, gym_frames: np.ndarray, our_frames: np.ndarray) -> None:
    ours, theirs = centroid(our_frames[i], POLE), centroid(gym_frames[i], POLE)
    np.testing.assert_allclose(ours, theirs, atol=0.5)


def test_sub_pixel_mode_matches_gymnasium(gym_frames: np.ndarray) -> None:
    frames = np.asarray(jax.vmap(lambda s: fnrec.render.cartpole(s, snap=False))(STATES))
    for i, state in enumerate(STATES):
        assert_frames_close(frames[i], gym_frames[i], f"snap=False, {state}", foreground=0.14)
        if i < len(RANDOM):  # pygame snaps down: sub-pixel shapes sit up to ~1.5 px off
            ours, theirs = centroid(frames[i], POLE), centroid(gym_frames[i], POLE)
            np.testing.assert_allclose(ours, theirs, atol=1.5)


@pytest.mark.parametrize(
    "delta", [(0, 0, 0.1, 0), (0, 0, -0.1, 0), (0.05, 0, 0, 0), (-0.05, 0, 0, 0)]
)
def test_comparison_rejects_a_wrong_frame(delta: tuple[float, ...], gym_frames: np.ndarray) -> None:
    states = STATES + np.asarray(delta, np.float32)
    wrong = np.asarray(jax.vmap(fnrec.render.cartpole)(states))
    assert all(frames_differ(wrong[i], gym_frames[i]) for i in range(len(RANDOM)))


def test_comparison_rejects_a_flipped_frame(our_frames: np.ndarray, gym_frames: np.ndarray) -> None:
    assert frames_differ(our_frames[0][::-1], gym_frames[0])


def test_jit_vmap_and_eager_agree(our_frames: np.ndarray) -> None:
    eager = np.asarray(fnrec.render.cartpole(STATES[3]))
    np.testing.assert_array_equal(eager, our_frames[3])
    np.testing.assert_array_equal(np.asarray(jax.jit(fnrec.render.cartpole)(STATES[3])), eager)


class GymnaxCartPoleState(NamedTuple):
    x: jax.Array
    x_dot: jax.Array
    theta: jax.Array
    theta_dot: jax.Array
    time: jax.Array


def test_gymnax_layout_state(our_frames: np.ndarray) -> None:
    states = GymnaxCartPoleState(*jnp.asarray(STATES).T, time=jnp.zeros(len(STATES), jnp.int32))
    frames = np.asarray(jax.jit(jax.vmap(fnrec.render.cartpole))(states))
    np.testing.assert_array_equal(frames, our_frames)


def test_params_change_scale() -> None:
    state = np.array([1.0, 0, 0.5, 0], np.float32)
    env = phys2d.CartPoleFunctional()
    params = env.get_default_params(x_threshold=3.0, length=0.8)
    render_state = env.render_init()
    theirs = env.render_image(state, render_state, params)[1]
    ours = np.asarray(fnrec.render.cartpole(state, x_threshold=3.0, length=0.8))
    assert_frames_close(ours, theirs, "x_threshold=3.0, length=0.8")


@pytest.mark.parametrize("shape", [(5,), (3,), (2, 4), ()])
def test_bad_state_shape_names_argument_and_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"cartpole: `state` must have shape \(4,\)") as err:
        jax.jit(fnrec.render.cartpole)(jnp.zeros(shape))
    assert f"got shape {shape}" in str(err.value)


def test_bad_field_shape_in_state_object() -> None:
    states = GymnaxCartPoleState(*jnp.zeros((5, 3)))
    with pytest.raises(ValueError, match=r"`state.x` must be a scalar.*got shape \(3,\)"):
        fnrec.render.cartpole(states)


def test_float64_state_with_x64(our_frames: np.ndarray) -> None:
    with jax.enable_x64(True):
        state = jnp.asarray(STATES[5], jnp.float64)
        assert state.dtype == jnp.float64
        frame = jax.jit(fnrec.render.cartpole)(state)
        assert frame.dtype == jnp.uint8
    np.testing.assert_array_equal(np.asarray(frame), our_frames[5])


def test_layout_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match=r"`x_threshold` and `length` must be > 0"):
        fnrec.render.cartpole(jnp.zeros(4), x_threshold=0.0)
    with pytest.raises(TypeError, match="static Python numbers"):
        jax.jit(lambda t: fnrec.render.cartpole(jnp.zeros(4), x_threshold=t))(2.4)
    with pytest.raises(TypeError, match=r"`state` must be an array of shape \(4,\).*got dict"):
        fnrec.render.cartpole({"x": 0.0})


INVALID = np.array(fnrec.render.raster.INVALID, np.uint8)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("field", range(4))
def test_a_non_finite_state_gives_a_visibly_invalid_frame(bad: float, field: int) -> None:
    state = np.zeros(4, np.float32)
    state[field] = bad
    good = jnp.zeros((2, 4))
    frames = np.asarray(jax.jit(jax.vmap(fnrec.render.cartpole))(good.at[1].set(state)))
    assert (frames[1] == INVALID).all()
    assert not (frames[0] == INVALID).all(axis=-1).any()  # a finite state never shows it


@pytest.mark.parametrize("x", [1e30, -1e30, 3e38, 10.0])
def test_a_cart_far_outside_the_frame_leaves_only_the_track(x: float) -> None:
    frame = np.asarray(fnrec.render.cartpole(jnp.array([x, 0.0, 0.3, 0.0])))
    empty = np.asarray(fnrec.render.cartpole(jnp.array([0.0, 0.0, 0.0, 0.0])))
    track = (empty == 0).all(axis=-1).sum(axis=1).argmax()  # the row of the black track line
    assert (frame[track] == 0).all() and (frame[: track - 5] == 255).all()


@pytest.mark.parametrize("kwargs", [{"length": 5.0}, {"x_threshold": 0.1}])
def test_a_pole_longer_than_the_frame_is_clipped(kwargs: dict[str, float]) -> None:
    frame = np.asarray(jax.jit(lambda s: fnrec.render.cartpole(s, **kwargs))(jnp.zeros(4)))
    assert frame.shape == (400, 600, 3)
    pole = (np.abs(frame.astype(int) - (202, 152, 101)).sum(-1) < 10).any(axis=1)
    assert pole[0] and pole[250]  # it reaches the top row
