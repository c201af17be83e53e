"""fnrec.FunctionalEnv / FunctionalVectorEnv: Gymnasium parity, reset, pytrees, render."""

from __future__ import annotations

import gymnasium as gym
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.envs.functional_jax_env import FunctionalJaxEnv, FunctionalJaxVectorEnv
from gymnasium.envs.phys2d.cartpole import CartPoleFunctional
from gymnasium.envs.tabular.blackjack import BlackjackFunctional
from gymnasium.experimental.functional import FuncEnv
from gymnasium.wrappers import RecordEpisodeStatistics
from gymnasium.wrappers.vector import RecordEpisodeStatistics as VectorRecordEpisodeStatistics

import fnrec
from fnrec import FunctionalEnv, FunctionalVectorEnv

pytestmark = pytest.mark.gymnasium_api  # CI runs these again on Gymnasium 1.3


class ZeroStartCartPole(CartPoleFunctional):
    """CartPole whose episodes all start at the zero state: trajectories depend on actions only."""

    def initial(self, rng, params=None):
        return jnp.zeros(4, jnp.float32)


def recording(mode, max_episode_steps=None, buffer_length=100):
    """A Recording: `buffer_length` episodes, autoreset `mode`, an optional time limit."""
    statistics = fnrec.stats.episode_statistics(buffer_length, mode)
    return fnrec.Recording(statistics, max_episode_steps=max_episode_steps)


def test_vector_parity_with_gymnasium_functional_jax_vector_env():
    """Same seeds and actions: returns, lengths, masks and queues equal Gymnasium's.

    Gymnasium draws a reset step's initial states from keys that depend on how many envs reset
    together, which a vmapped step cannot reproduce; here every episode starts at zero, so
    trajectories depend on the actions only. Gymnasium's own rewards differ on reset
    steps (it returns the transition's reward there; its statistics wrapper ignores it), so
    rewards are compared on the other steps only. The env states are synchronised after every
    step (see below). No reset() mid-run: Gymnasium would keep its
    done flags (a bug fnrec does not have, tested below).
    """
    num_envs, limit, buffer_length = 6, 25, 20
    theirs = VectorRecordEpisodeStatistics(
        FunctionalJaxVectorEnv(ZeroStartCartPole(), num_envs, max_episode_steps=limit),
        buffer_length,
    )
    ours = FunctionalVectorEnv(
        ZeroStartCartPole(), num_envs, recording("next_step", limit, buffer_length)
    )
    theirs.reset(seed=3)
    ours.reset(seed=3)
    rng = np.random.default_rng(0)
    prev_done = np.zeros(num_envs, bool)
    finished = 0
    for _ in range(150):  # about 40 episodes; Gymnasium's unjitted env takes 50 ms a step
        actions = rng.integers(0, 2, num_envs)
        obs_t, rew_t, term_t, trunc_t, info_t = theirs.step(actions)
        obs_o, rew_o, term_o, trunc_o, info_o = ours.step(actions)
        # Gymnasium bug: on a step where any env resets, every other env's transition is dropped
        # (`self.state.at[to_reset].set(...)` starts from the old state), though its reward and
        # length still count. Observations are compared where Gymnasium is right.
        moved = ~prev_done if not prev_done.any() else prev_done
        np.testing.assert_allclose(obs_o[moved], obs_t[moved], atol=1e-5)
        np.testing.assert_array_equal(rew_o[~prev_done], rew_t[~prev_done])
        np.testing.assert_array_equal(rew_o[prev_done], 0.0)
        np.testing.assert_array_equal(term_o, term_t)
        np.testing.assert_array_equal(trunc_o, trunc_t)
        assert ("episode" in info_o) == ("episode" in info_t)
        if "episode" in info_t:
            np.testing.assert_array_equal(info_o["_episode"], info_t["_episode"])
            np.testing.assert_array_equal(info_o["episode"]["r"], info_t["episode"]["r"])
            np.testing.assert_array_equal(info_o["episode"]["l"], info_t["episode"]["l"])
            assert info_o["episode"]["r"].dtype == info_t["episode"]["r"].dtype
            assert set(info_o["episode"]) == {"r", "l", "t"}
            finished += int(info_t["_episode"].sum())
        prev_done = np.asarray(term_t | trunc_t)
        # Both continue from fnrec's state: this undoes the dropped transitions above, and the
        # 1e-10 rounding differences of op-by-op versus fused XLA that CartPole's chaotic
        # dynamics would grow into different episodes.
        theirs.env.state = jnp.asarray(ours.state.env_state)
    assert finished > buffer_length
    assert list(ours.return_queue) == list(theirs.return_queue)
    assert list(ours.length_queue) == list(theirs.length_queue)
    assert len(ours.time_queue) == len(theirs.time_queue) == buffer_length
    assert ours.episode_count == theirs.episode_count == finished
    assert isinstance(ours.return_queue[0], float) and isinstance(ours.length_queue[0], int)


def test_single_env_parity_and_guide_script():
    """Gymnasium's single RecordEpisodeStatistics over its CartPoleJaxEnv, the guide's loop."""
    theirs = RecordEpisodeStatistics(FunctionalJaxEnv(ZeroStartCartPole()), buffer_length=4)
    ours = FunctionalEnv(ZeroStartCartPole(), recording("disabled", buffer_length=4))
    rng = np.random.default_rng(1)
    for episode in range(6):
        theirs.reset(seed=episode)
        ours.reset(seed=episode)
        done = False
        while not done:
            action = int(rng.integers(0, 2))
            _, r_t, te_t, tr_t, info_t = theirs.step(action)
            _, r_o, te_o, tr_o, info_o = ours.step(action)
            assert (r_o, te_o, tr_o) == (r_t, te_t, tr_t)
            done = te_t or tr_t
        assert info_o["episode"]["r"] == info_t["episode"]["r"]
        assert info_o["episode"]["l"] == info_t["episode"]["l"]
        assert isinstance(info_o["episode"]["t"], float)
    assert list(ours.return_queue) == list(theirs.return_queue)
    assert list(ours.length_queue) == list(theirs.length_queue)
    assert ours.episode_count == theirs.episode_count == 6
    assert len(ours.time_queue) == 4
    # The guide's printout works as with Gymnasium.
    assert np.mean(ours.return_queue) == np.mean(theirs.return_queue)


def test_time_limit_truncates_single_env():
    env = FunctionalEnv(ZeroStartCartPole(), recording("disabled", 3))
    env.reset(seed=0)
    *_, trunc, info = env.step(0)
    assert not trunc and info == {}
    env.step(1)
    _, _, term, trunc, info = env.step(0)
    assert trunc and not term and info["episode"]["l"] == 3


@pytest.mark.parametrize("mode", ["next_step", "same_step"])
def test_reset_clears_done_flags_and_drops_partial_episodes(mode):
    env = FunctionalVectorEnv(CartPoleFunctional(), 3, recording(mode))
    env.reset(seed=0)
    for _ in range(200):  # always push left: every episode ends within ~10 steps
        _, _, term, trunc, info = env.step(np.zeros(3, int))
        if (term | trunc).any():
            break
    assert (term | trunc).any()
    count = env.episode_count
    obs0, _ = env.reset(seed=1)
    obs1, reward, term, trunc, info = env.step(np.ones(3, int))
    # Not a reset step: the state moved and the reward counts (Gymnasium's env would reset here).
    np.testing.assert_array_equal(reward, 1.0)
    assert not np.allclose(obs0, obs1)
    steps = 1
    while True:
        _, _, term, trunc, info = env.step(np.ones(3, int))
        steps += 1
        if (term | trunc).any():
            break
    assert env.episode_count == count + int(info["_episode"].sum())
    np.testing.assert_array_equal(info["episode"]["l"][info["_episode"]], steps)


def test_disabled_mode_resets_only_masked_envs():
    env = FunctionalVectorEnv(CartPoleFunctional(), 2, recording("disabled"))
    env.reset(seed=0)
    for _ in range(3):
        env.step(np.ones(2, int))
    env.reset(options={"reset_mask": np.array([True, False])})
    lengths = np.asarray(env.stats.running_length)
    np.testing.assert_array_equal(lengths, [0, 3])
    assert env.metadata["autoreset_mode"] == gym.vector.AutoresetMode.DISABLED


def test_blackjack_pytree_state_vector_env():
    env = FunctionalVectorEnv(BlackjackFunctional(), 8, recording("next_step", buffer_length=1000))
    env.reset(seed=0)
    rewards, done_prev = [], np.zeros(8, bool)
    for _ in range(50):
        _, reward, term, trunc, _ = env.step(env.action_space.sample())
        assert not reward[done_prev].any()  # reset steps give no reward
        rewards.append(reward)
        done_prev = term | trunc
    assert env.episode_count > 8
    assert set(np.unique(env.return_queue)) <= {-1.0, 0.0, 1.0, 1.5}
    # Every counted step's reward is in a finished or a running episode.
    np.testing.assert_allclose(
        np.sum(rewards),
        np.sum(env.return_queue) + np.asarray(env.stats.running_return).sum(),
    )
    assert env.metadata["render_fps"] == 4


def test_render_one_frame_per_env_as_gymnasium():
    """render() is a tuple of per-env frames (SyncVectorEnv's layout); the grid is explicit."""
    env = FunctionalVectorEnv(
        CartPoleFunctional(), 5, render_mode="rgb_array", metadata={"render_fps": 50}
    )
    env.reset(seed=0)
    env.step(np.ones(5, int))
    frames = env.render()
    assert isinstance(frames, tuple) and len(frames) == 5
    assert all(f.shape == (400, 600, 3) and f.dtype == np.uint8 for f in frames)
    np.testing.assert_array_equal(env.render_one(4), frames[4])
    grid = env.render_grid()
    assert grid.shape == (2 * 400, 3 * 600, 3)
    np.testing.assert_array_equal(grid[400:, 600:1200], frames[4])  # env 4: row 1, column 1
    assert not grid[400:, 1200:].any()  # the padding cell
    assert env.metadata["render_fps"] == 50
    with pytest.raises(ValueError, match="index"):
        env.render_one(5)
    env.close()
    single = FunctionalEnv(BlackjackFunctional(), render_mode="rgb_array")
    single.reset(seed=0)
    assert single.render().ndim == 3


def test_same_step_final_frames_are_rendered_from_the_final_states():
    env = FunctionalVectorEnv(
        CartPoleFunctional(), 3, recording("same_step"), render_mode="rgb_array"
    )
    env.reset(seed=0)
    for _ in range(100):
        _, _, term, trunc, info = env.step(np.zeros(3, int))
        if (term | trunc).any():
            break
    done = term | trunc
    assert "final_state" not in info  # kept on the device, not in the user's info
    np.testing.assert_array_equal(info["_final_frame"], done)
    func_env = CartPoleFunctional()
    render_state = func_env.render_init()
    for index in range(3):
        if not done[index]:
            assert info["final_frame"][index] is None
            continue
        _, expected = func_env.render_image(
            info["final_obs"][index], render_state, func_env.default_params
        )
        np.testing.assert_array_equal(info["final_frame"][index], expected)
    quiet = FunctionalVectorEnv(CartPoleFunctional(), 3, recording("same_step"))
    quiet.reset(seed=0)
    for _ in range(100):
        _, _, term, trunc, info = quiet.step(np.zeros(3, int))
        if (term | trunc).any():
            break
    assert "final_frame" not in info and "final_obs" in info  # no render_mode: no frames


def test_one_jitted_call_and_one_fetch_per_step(monkeypatch):
    """The PRNG key is split inside the jitted step and all results come back in one fetch."""
    import jax

    env = FunctionalVectorEnv(CartPoleFunctional(), 4)
    env.reset(seed=0)
    env.step(np.zeros(4, int))
    from fnrec import _packed

    calls = {"split": 0, "fetch": 0}
    split, device_get, unpack = jax.random.split, jax.device_get, _packed.unpack

    def counting_split(*args, **kwargs):
        calls["split"] += 1
        return split(*args, **kwargs)

    def counting_device_get(tree):  # only fetches from the device count
        leaves = jax.tree.leaves(tree)
        calls["fetch"] += any(isinstance(x, jax.Array) for x in leaves)
        return device_get(tree)

    def counting_unpack(packed, where):  # one array, every result packed in it
        calls["fetch"] += 1
        assert isinstance(packed, jax.Array)
        return unpack(packed, where)

    monkeypatch.setattr(jax.random, "split", counting_split)
    monkeypatch.setattr(jax, "device_get", counting_device_get)
    monkeypatch.setattr(_packed, "unpack", counting_unpack)
    for _ in range(10):
        env.step(np.ones(4, int))
    assert calls == {"split": 0, "fetch": 10}


def test_episode_clock_starts_after_compilation(monkeypatch):
    """The first reset compiles the step before it reads the clock, so "t" has no compile time."""
    import fnrec.host.gym_env as gym_env

    env = FunctionalEnv(CartPoleFunctional())
    compiled_at_clock_reads = []
    perf_counter = gym_env.time.perf_counter

    def clock():
        compiled_at_clock_reads.append(env._driver._step._cache_size())
        return perf_counter()

    monkeypatch.setattr(gym_env.time, "perf_counter", clock)
    env.reset(seed=0)
    assert compiled_at_clock_reads == [1]
    env.step(0)
    assert compiled_at_clock_reads == [1, 1]  # the first step did not compile again


def test_actions_and_masks_never_retrace():
    env = FunctionalVectorEnv(CartPoleFunctional(), 4, recording("disabled"))
    env.reset(seed=0)
    for actions in ([0, 1, 0, 1], np.array([1, 0, 1, 0]), np.int32([1, 1, 0, 0]), (0, 0, 1, 1)):
        obs, *_ = env.step(actions)
        assert obs.shape == (4, 4)
    for mask in (None, [True, False, True, False], np.array([1, 0, 0, 1]), True, np.bool_(1)):
        env.reset(options=None if mask is None else {"reset_mask": mask})
    env.reset(seed=np.int64(2))
    driver = env._driver
    assert (
        driver._step._cache_size() == driver._reset._cache_size() == driver._init._cache_size() == 1
    )
    with pytest.raises(ValueError, match="reset_mask"):
        env.reset(options={"reset_mask": [True, False]})
    single = FunctionalEnv(CartPoleFunctional())
    single.reset(seed=np.int64(3))
    for action in (1, np.int64(0), np.array(1), np.int32(0)):
        single.step(action)
    assert single._driver._step._cache_size() == 1


def test_step_after_the_episode_ended_needs_reset():
    env = FunctionalEnv(ZeroStartCartPole(), recording("disabled", 2))
    env.reset(seed=0)
    env.step(0)
    *_, truncated, _ = env.step(0)
    assert truncated and env.episode_count == 1
    with pytest.raises(gym.error.ResetNeeded, match="reset"):
        env.step(0)
    assert env.episode_count == 1 and list(env.length_queue) == [2]  # nothing queued
    env.reset()
    env.step(0)


def test_numpy_seeds_and_idempotent_close():
    def single():
        return FunctionalEnv(CartPoleFunctional(), render_mode="rgb_array")

    def vector():
        return FunctionalVectorEnv(CartPoleFunctional(), 2, render_mode="rgb_array")

    for make in (single, vector):
        env = make()
        a, _ = env.reset(seed=np.int64(3))
        b, _ = make().reset(seed=3)
        np.testing.assert_array_equal(a, b)
        with pytest.raises(ValueError, match="seed"):
            env.reset(seed=1.5)
        assert not env.closed
        env.close()
        env.close()
        assert env.closed and env.render_state is None


def test_host_errors():
    with pytest.raises(ValueError, match="render_mode"):
        FunctionalVectorEnv(CartPoleFunctional(), 2, render_mode="human")
    with pytest.raises(gym.error.ResetNeeded):
        FunctionalVectorEnv(CartPoleFunctional(), 2).step(np.zeros(2, int))
    env = FunctionalVectorEnv(CartPoleFunctional(), 2)
    assert env.episode_count == 0 and len(env.return_queue) == 0
    env.reset(seed=0)
    with pytest.raises(ValueError, match="action"):
        env.step(np.zeros(3, int))
    assert isinstance(env.stats, fnrec.EpisodeStats)


@pytest.mark.parametrize("vector", [False, True])
def test_reset_with_a_seed_is_reproducible_on_the_same_env(vector):
    env = (
        fnrec.FunctionalVectorEnv(CartPoleFunctional(), num_envs=3)
        if vector
        else fnrec.FunctionalEnv(CartPoleFunctional())
    )
    first, _ = env.reset(seed=3)
    env.step(env.action_space.sample())
    again, _ = env.reset(seed=3)
    np.testing.assert_array_equal(first, again)
    other, _ = env.reset(seed=4)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("vector", [False, True])
def test_the_first_episode_time_excludes_the_renderer_compile(vector):
    """A jitted renderer compiles at the first reset, before the episode clock starts."""
    import time

    from fnrec.envs import CartPole

    calls = []

    def slow_first_render(state):
        calls.append(time.perf_counter())
        if len(calls) == 1:
            time.sleep(0.5)  # as a first jitted render compiles
        return np.zeros((8, 8, 3), np.uint8)

    kwargs = dict(render_mode="rgb_array", render=slow_first_render)
    env = (
        FunctionalVectorEnv(CartPole(), 2, recording("next_step", 5), **kwargs)
        if vector
        else FunctionalEnv(CartPole(), recording("disabled", 5), **kwargs)
    )
    env.reset(seed=0)
    assert len(calls) == 1  # rendered once, inside reset
    for _ in range(5):
        *_, info = env.step(np.zeros(2, np.int64) if vector else 0)
    times = info["episode"]["t"]
    assert np.all(np.asarray(times) < 0.4), times


class Chooser(FuncEnv):
    """A FuncEnv whose observation is the last action; its action space is given."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(2,), dtype=np.float32)

    def __init__(self, action_space: gym.Space) -> None:
        super().__init__()
        self.action_space = action_space

    def initial(self, rng, params=None):
        return jnp.zeros(2, jnp.float32)

    def transition(self, state, action, rng, params=None):
        return jnp.broadcast_to(jnp.asarray(action, jnp.float32), (2,))

    def observation(self, state, rng, params=None):
        return state

    def reward(self, state, action, next_state, rng, params=None):
        return jnp.float32(1.0)

    def terminal(self, state, rng, params=None):
        return jnp.bool_(False)


BAD_OR_GOOD_ACTIONS = [
    *(0, 1, 2, 7, -1, 1.5, 1.0, True, np.int64(1), np.uint8(1), np.array(1.0), np.array(0)),
    *(np.int64(2**40), np.int64(2**32 + 1), np.float32(0)),
]


@pytest.fixture(scope="module")
def cartpole_twins():
    """Two FunctionalEnv CartPoles, compiled once for every action tried on them."""
    return FunctionalEnv(CartPoleFunctional()), FunctionalEnv(CartPoleFunctional())


@pytest.mark.parametrize("action", BAD_OR_GOOD_ACTIONS, ids=repr)
def test_discrete_actions_are_refused_exactly_where_gymnasium_refuses_them(action, cartpole_twins):
    gymnasium_env = gym.make("CartPole-v1").unwrapped
    gymnasium_env.reset(seed=0)
    try:
        gymnasium_env.step(action)
        refused = False
    except AssertionError:  # CartPoleEnv asserts action_space.contains(action)
        refused = True
    env, twin = cartpole_twins
    env.reset(seed=0)
    twin.reset(seed=0)
    if not refused:
        env.step(action)
        return
    with pytest.raises((TypeError, ValueError), match=r"`action` must be an integer in \[0, 2\)"):
        env.step(action)
    np.testing.assert_array_equal(env.step(1)[0], twin.step(1)[0])  # the env did not move


def test_vector_actions_outside_the_space_name_the_env():
    env = FunctionalVectorEnv(CartPoleFunctional(), 3)
    env.reset(seed=0)
    with pytest.raises(
        ValueError, match=r"`action` of env 2 must be an integer in \[0, 2\).*got 7"
    ):
        env.step(np.array([0, 1, 7]))
    with pytest.raises(ValueError, match=r"`action` of env 0 .* got 1099511627776"):
        env.step(np.array([2**40, 0, 0]))  # not wrapped to 0 by the int32 cast
    with pytest.raises(TypeError, match=r"`action` must be an integer .* got dtype float64"):
        env.step([0.0, 1.0, 0.5])
    env.step([0, 1, 1])
    assert env.episode_count == 0


@pytest.mark.parametrize(
    ("space", "good", "bad"),
    [
        (gym.spaces.Discrete(3, start=-1), [-1, 1], [2, -2]),
        (gym.spaces.MultiDiscrete([2, 3]), [[1, 2], [0, 0]], [[2, 0], [0, 3], [-1, 0]]),
        (gym.spaces.MultiBinary(2), [[0, 1], [1, 1]], [[0, 2], [-1, 0]]),
    ],
    ids=["discrete-start", "multi-discrete", "multi-binary"],
)
def test_other_discrete_spaces_check_every_env(space, good, bad):
    env = FunctionalVectorEnv(Chooser(space), len(good))
    env.reset(seed=0)
    obs, *_ = env.step(np.array(good))
    np.testing.assert_array_equal(
        obs,
        np.broadcast_to(np.array(good, np.float32)[:, None], obs.shape)
        if np.ndim(good[0]) == 0
        else np.array(good, np.float32),
    )
    for action in bad:
        actions = np.array([good[0], action])
        with pytest.raises(ValueError, match="`action` of env 1 must be"):
            env.step(actions)
        assert all(space.contains(np.asarray(a)) for a in good)
        assert not space.contains(np.asarray(action, space.dtype))


def test_the_time_queue_keeps_buffer_length_entries_whatever_the_run():
    """Memory does not grow with the run: 64 envs, 5-step episodes, buffer_length=10."""
    env = FunctionalVectorEnv(CartPoleFunctional(), 64, recording("same_step", 5, buffer_length=10))
    env.reset(seed=0)
    for _ in range(60):
        env.step(np.zeros(64, np.int64))
    assert env.episode_count >= 64 * 10
    assert len(env._driver.time_queue) == len(env.time_queue) == 10
    assert env._driver.time_queue.maxlen == 10


def test_one_autoreset_mode_type_gymnasiums_enum_is_read_as_fnrecs_string():
    mode = fnrec.stats.episode_statistics(10, gym.vector.AutoresetMode.NEXT_STEP).autoreset_mode
    assert mode == "next_step"
    capture = fnrec.capture.episode_capture(5, autoreset_mode=gym.vector.AutoresetMode.DISABLED)
    assert capture.autoreset_mode == "disabled"
    with pytest.raises(ValueError, match=r"`autoreset_mode` must be one of .* got 'NextStep'"):
        fnrec.stats.episode_statistics(10, "NextStep")
