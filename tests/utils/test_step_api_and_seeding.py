"""fnrec.utils: Gymnasium's step-API conversion (pure, jittable) and seeding."""

from __future__ import annotations

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.utils import step_api_compatibility as gym_api

from fnrec import utils

pytestmark = pytest.mark.gymnasium_api  # CI runs these again on Gymnasium 1.3


def _host(step: tuple) -> tuple:
    return tuple(
        {k: np.asarray(v) for k, v in x.items()} if isinstance(x, dict) else np.asarray(x)
        for x in step
    )


@pytest.mark.parametrize("done", [False, True])
@pytest.mark.parametrize("truncated", [None, False, True])
def test_to_terminated_truncated_equals_gymnasium_single_env(done, truncated):
    info = {} if truncated is None else {"TimeLimit.truncated": truncated}
    step = (np.zeros(3), 1.0, done, {"x": 1, **info})
    ours = jax.jit(utils.convert_to_terminated_truncated_step_api)(step)
    theirs = gym_api.convert_to_terminated_truncated_step_api((*step[:3], dict(step[3])))
    for a, b in zip(_host(ours)[:4], theirs[:4], strict=True):
        np.testing.assert_array_equal(a, b)
    assert set(ours[4]) == set(theirs[4]) == {"x"}
    assert "TimeLimit.truncated" in step[3] or truncated is None  # the input is not changed


def test_vector_and_jit_and_vmap():
    done = jnp.array([True, True, False, False])
    cut = jnp.array([True, False, True, False])
    step = (jnp.zeros((4, 2)), jnp.ones(4), done, {"TimeLimit.truncated": cut})
    theirs = gym_api.convert_to_terminated_truncated_step_api(
        (*_host(step)[:3], {"TimeLimit.truncated": np.asarray(cut)}), is_vector_env=True
    )
    ours = jax.jit(lambda s: utils.convert_to_terminated_truncated_step_api(s, True))(step)
    np.testing.assert_array_equal(ours[2], theirs[2])
    np.testing.assert_array_equal(ours[3], theirs[3])
    vmapped = jax.vmap(utils.convert_to_terminated_truncated_step_api)(step)
    np.testing.assert_array_equal(vmapped[2], ours[2])
    back = jax.jit(lambda s: utils.convert_to_done_step_api(s, True))(ours)
    np.testing.assert_array_equal(back[2], done)
    # Gymnasium marks truncation only where the episode was cut off, not terminated
    np.testing.assert_array_equal(back[3]["TimeLimit.truncated"], done & cut)


@pytest.mark.parametrize("terminated", [False, True])
@pytest.mark.parametrize("truncated", [False, True])
def test_to_done_equals_gymnasium_where_an_episode_ended(terminated, truncated):
    step = (np.zeros(2), 0.5, terminated, truncated, {})
    ours = utils.convert_to_done_step_api(step)
    theirs = gym_api.convert_to_done_step_api((*step[:4], {}))
    assert bool(ours[2]) == theirs[2]
    assert bool(ours[3]["TimeLimit.truncated"]) == theirs[3].get("TimeLimit.truncated", False)
    assert step[4] == {}


def test_list_infos_as_gymnasium():
    step = (np.zeros(2), np.ones(2), np.array([True, True]), [{"TimeLimit.truncated": True}, {}])
    ours = utils.convert_to_terminated_truncated_step_api(step, True)
    theirs = gym_api.convert_to_terminated_truncated_step_api(
        (*step[:3], [dict(i) for i in step[3]]), True
    )
    np.testing.assert_array_equal(ours[2], theirs[2])
    np.testing.assert_array_equal(ours[3], theirs[3])
    assert ours[4] == [{}, {}]


def test_gymnax_layouts_with_the_state_second():
    state = {"time": jnp.array(3)}
    old = (jnp.zeros(4), state, 1.0, True, {"TimeLimit.truncated": True, "discount": 0.0})
    new = utils.step_api_compatibility(old, has_state=True)
    assert len(new) == 6 and new[1] is state
    assert (bool(new[3]), bool(new[4])) == (False, True) and new[5] == {"discount": 0.0}
    assert utils.step_api_compatibility(new, True, has_state=True) is new
    again = utils.step_api_compatibility(new, False, has_state=True)
    assert len(again) == 5 and bool(again[3])


@pytest.mark.parametrize(
    ("step", "kwargs", "error", "message"),
    [
        ([1, 2, 3, {}], {}, TypeError, "`step_returns` must be a tuple, got list"),
        ((1, 2, {}), {}, ValueError, r"\(obs, reward, done, info\) .* got a tuple of 3"),
        ((1, 2, 3, {}), {"has_state": True}, ValueError, r"\(obs, state, reward, done, info\)"),
        ((1, 2, 3, 4), {}, TypeError, "info .* must be a dict or a list of dicts, got int"),
    ],
)
def test_bad_step_results_raise_naming_the_argument(step, kwargs, error, message):
    with pytest.raises(error, match=message):
        utils.convert_to_terminated_truncated_step_api(step, **kwargs)
    with pytest.raises(error, match=message):
        utils.convert_to_done_step_api(step, **kwargs)


@pytest.mark.parametrize("seed", [0, 1, 7, 2**31 - 1, 2**32 - 1])
def test_key_from_seed_equals_prng_key(seed):
    np.testing.assert_array_equal(utils.key_from_seed(seed), jax.random.PRNGKey(seed))
    np.testing.assert_array_equal(utils.key_from_seed(np.int64(seed)), jax.random.PRNGKey(seed))


def test_key_from_seed_takes_every_gymnasium_seed_with_x64_off_and_on(x64):
    big = utils.key_from_seed(2**64 - 1)
    assert big.dtype == jnp.uint32 and big.tolist() == [2**32 - 1, 2**32 - 1]
    assert utils.key_from_seed(2**40).tolist() == [2**8, 0]
    assert jax.random.uniform(big).shape == ()
    fresh = [utils.key_from_seed(None).tolist() for _ in range(3)]
    assert len({tuple(k) for k in fresh}) == 3


@pytest.mark.parametrize(
    ("seed", "error", "message"),
    [
        (-1, gym.error.Error, "greater or equal to zero"),
        (1.5, gym.error.Error, "must be a python integer"),
        (True, gym.error.Error, "must be a python integer"),
        (2**64, ValueError, r"`seed` must be at most 2\*\*64 - 1, got 18446744073709551616"),
    ],
)
def test_key_from_seed_rejects_what_gymnasium_rejects(seed, error, message):
    with pytest.raises(error, match=message):
        utils.key_from_seed(seed)
