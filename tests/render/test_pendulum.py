"""fnrec.render.pendulum against Gymnasium's pygame Pendulum frames, and its jit/vmap contract."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _render_compare import assert_frames_close, centroid, frames_differ

import fnrec.render

classic = pytest.importorskip("gymnasium.envs.classic_control.pendulum")
phys2d = pytest.importorskip("gymnasium.envs.phys2d.pendulum")
pytest.importorskip("pygame")

ROD = (204, 77, 77)
RNG = np.random.default_rng(99)
THETAS = np.concatenate([RNG.uniform(-np.pi, np.pi, 20), [0, np.pi, -np.pi, np.pi / 2, 7.0]])
STATES = np.stack([THETAS, RNG.uniform(-8, 8, len(THETAS))], 1).astype(np.float32)
TORQUES = np.array([2.0, -2.0, 1.0, -0.7, 0.3, 0.0, 0.004, -1.5], np.float32)


def classic_frame(state: np.ndarray, last_u: float | None) -> np.ndarray:
    """Gymnasium's Pendulum-v1 frame (500x500) for a state and last torque."""
    env = classic.PendulumEnv(render_mode="rgb_array")
    env.reset(seed=0)
    env.state, env.last_u = np.asarray(state, np.float64), last_u
    frame = env.render()
    env.close()
    return frame


@pytest.fixture(scope="module")
def our_frames() -> np.ndarray:
    return np.asarray(jax.jit(jax.vmap(fnrec.render.pendulum))(jnp.asarray(STATES)))


def test_shape_and_dtype(our_frames: np.ndarray) -> None:
    assert our_frames.shape == (len(STATES), 500, 500, 3)
    assert our_frames.dtype == np.uint8


@pytest.mark.parametrize("i", range(len(STATES)))
def test_matches_gymnasium_pendulum_v1(i: int, our_frames: np.ndarray) -> None:
    theirs = classic_frame(STATES[i], None)
    assert_frames_close(our_frames[i], theirs, f"state {STATES[i]}")
    np.testing.assert_allclose(centroid(our_frames[i], ROD), centroid(theirs, ROD), atol=0.5)


def test_matches_phys2d_render_image_where_it_draws(our_frames: np.ndarray) -> None:
    # phys2d's render_image draws the 500x500 scene onto a 600x400 screen: the bottom 100 rows
    # are cut off and the right 100 columns stay black. Compare the part it shows.
    env = phys2d.PendulumFunctional()
    render_state = env.render_init()
    for i in range(5):
        theirs = env.render_image(STATES[i], render_state)[1]
        assert theirs.shape == (400, 600, 3)
        assert_frames_close(our_frames[i][:400], theirs[:, :500], f"state {STATES[i]}")
    env.render_close(render_state)


@pytest.mark.parametrize("u", TORQUES)
def test_torque_arrow_matches(u: float) -> None:
    state = STATES[1]
    ours = np.asarray(jax.jit(lambda s, u: fnrec.render.pendulum(s, last_u=u))(state, u))
    assert_frames_close(ours, classic_frame(state, float(u)), f"last_u {u}")


def test_arrow_is_drawn_and_mirrored() -> None:
    state = STATES[1]
    plain = np.asarray(fnrec.render.pendulum(state))
    left = np.asarray(fnrec.render.pendulum(state, last_u=-2.0))
    right = np.asarray(fnrec.render.pendulum(state, last_u=2.0))
    np.testing.assert_array_equal(np.asarray(fnrec.render.pendulum(state, last_u=0.0)), plain)
    assert frames_differ(left, plain)
    assert frames_differ(left, right)
    small = np.asarray(fnrec.render.pendulum(state, last_u=-0.5))
    assert (np.abs(small.astype(int) - plain).max(-1) > 32).sum() > 50


@pytest.mark.parametrize("delta", [0.1, -0.1])
def test_comparison_rejects_a_wrong_frame(delta: float, our_frames: np.ndarray) -> None:
    for i in range(5):
        assert frames_differ(our_frames[i], classic_frame(STATES[i] + np.float32([delta, 0]), None))


def test_comparison_rejects_a_flipped_frame(our_frames: np.ndarray) -> None:
    assert frames_differ(our_frames[0][::-1], classic_frame(STATES[0], None))


def test_sub_pixel_mode_matches_gymnasium() -> None:
    frames = np.asarray(jax.vmap(lambda s: fnrec.render.pendulum(s, snap=False))(STATES[:5]))
    for i in range(5):
        theirs = classic_frame(STATES[i], None)
        assert_frames_close(frames[i], theirs, f"snap=False, {STATES[i]}", foreground=0.14)
        np.testing.assert_allclose(centroid(frames[i], ROD), centroid(theirs, ROD), atol=1.5)


class GymnaxPendulumState(NamedTuple):
    theta: jax.Array
    theta_dot: jax.Array
    last_u: jax.Array
    time: jax.Array


def test_gymnax_layout_state_uses_last_u() -> None:
    n = len(TORQUES)
    states = GymnaxPendulumState(
        jnp.asarray(STATES[:n, 0]), jnp.asarray(STATES[:n, 1]), jnp.asarray(TORQUES), jnp.zeros(n)
    )
    frames = np.asarray(jax.jit(jax.vmap(fnrec.render.pendulum))(states))
    expected = jax.jit(jax.vmap(lambda s, u: fnrec.render.pendulum(s, last_u=u)))(
        STATES[:n], TORQUES
    )
    np.testing.assert_array_equal(frames, np.asarray(expected))


def test_jit_vmap_and_eager_agree(our_frames: np.ndarray) -> None:
    np.testing.assert_array_equal(np.asarray(fnrec.render.pendulum(STATES[2])), our_frames[2])


@pytest.mark.parametrize("shape", [(3,), (4,), (2, 2), ()])
def test_bad_state_shape_names_argument_and_shapes(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match=r"pendulum: `state` must have shape \(2,\)") as err:
        jax.jit(fnrec.render.pendulum)(jnp.zeros(shape))
    assert f"got shape {shape}" in str(err.value)


def test_float64_state_with_x64(our_frames: np.ndarray) -> None:
    with jax.enable_x64(True):
        frame = jax.jit(lambda s: fnrec.render.pendulum(s, last_u=jnp.float64(1.0)))(
            jnp.asarray(STATES[4], jnp.float64)
        )
        assert frame.dtype == jnp.uint8
    expected = fnrec.render.pendulum(STATES[4], last_u=1.0)
    np.testing.assert_array_equal(np.asarray(frame), np.asarray(expected))


def test_last_u_must_be_one_torque() -> None:
    with pytest.raises(ValueError, match=r"`last_u` must be one torque.*\(2,\)"):
        fnrec.render.pendulum(jnp.zeros(2), last_u=jnp.ones(2))


INVALID = np.array(fnrec.render.raster.INVALID, np.uint8)


@pytest.mark.parametrize("state, last_u", [
    ([np.nan, 0.0], None), ([0.0, np.inf], None), ([-np.inf, 0.0], 1.0), ([0.5, 0.0], np.nan),
])  # fmt: skip
def test_a_non_finite_state_gives_a_visibly_invalid_frame(state, last_u) -> None:
    render = jax.jit(lambda s: fnrec.render.pendulum(s, last_u=last_u))
    assert (np.asarray(render(jnp.array(state))) == INVALID).all()
    fine = (
        np.asarray(render(jnp.array([0.5, 0.0]))) if last_u is None or np.isfinite(last_u) else None
    )
    if fine is not None:
        assert not (fine == INVALID).all(axis=-1).any()


def test_a_huge_angle_still_draws_the_rod() -> None:
    frame = np.asarray(fnrec.render.pendulum(jnp.array([1e30, 0.0])))
    rod = (np.abs(frame.astype(int) - (204, 77, 77)).sum(-1) < 10).sum()
    assert rod > 1000
