"""The conformance kit: the same checks for every env family's recorder and the README's
template family (``families.CASES``), each in the venv that installs its library.

For each family: the two layouts (one shared queue with ``num_envs=N``; ``jax.vmap`` of one
env) step the same trajectories in a jitted ``lax.scan`` and record the episodes a plain
reference reads off the steps; capture keeps env 0's episodes and exports them as mp4s that
decode back frame for frame; a checkpoint round-trips and steps on identically; fnrec's
``FunctionalVectorEnv`` runs over the recorder and ``fnrec.utils.check_env`` passes; and the
recorder sharded over 4 host devices equals one device (``sharding_check``; ``Case.sharded``
says in which layouts). One test class
per family, so ``--dist loadscope`` spreads the families over the workers.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sharding_check
from conftest import decode

import fnrec
from conformance.families import CASES, LIMIT, Case, fingerprint, random_actions
from fnrec.host.captured import read_capture

N, STEPS, BUFFER = 4, 4 * LIMIT, 64


def recording(case: Case, max_episodes: int = 8) -> fnrec.Recording:
    capture = fnrec.capture.episode_capture(
        LIMIT, max_episodes, watch=(0,), trigger=lambda i: i >= 0,
        content=case.content or fingerprint,
    )  # fmt: skip
    statistics = fnrec.stats.episode_statistics(BUFFER, case.mode)
    return fnrec.Recording(statistics, capture, max_episode_steps=case.time_limit)


def run(case: Case, per_env: bool, seed: int = 0):
    """A jitted scan of STEPS steps of N envs in one layout; the state and what each step gave."""
    rec = case.make(recording(case), None if per_env else N)
    space = rec.spec.action_space
    init, step = rec.init, rec.step
    if per_env:
        init, step = jax.vmap(init), jax.vmap(step)

    def body(state, key):
        action_key, step_key = jax.random.split(key)
        action = random_actions(space, action_key, (N,))
        out = step(state, action, jax.random.split(step_key, N) if per_env else step_key)
        return out.state, (out.obs, out.reward, out.terminated, out.truncated, out.ended)

    def whole(key):
        state, _ = init(jax.random.split(key, N) if per_env else key)
        return jax.lax.scan(body, state, jax.random.split(jax.random.key(seed + 1), STEPS))

    return jax.device_get(jax.jit(whole)(jax.random.key(seed)))


class Kit:
    """The checks; a subclass names its family."""

    family: str

    @pytest.fixture(scope="class")
    def case(self) -> Case:
        return CASES[self.family]()

    @pytest.fixture(scope="class")
    def runs(self, case):
        return run(case, per_env=False), run(case, per_env=True)

    def test_both_layouts_step_the_same_envs_and_count_every_episode(self, runs):
        (shared, steps), (per_env, per_env_steps) = runs
        *_, terminated, truncated, ended = steps
        for a, b in zip(jax.tree.leaves(steps), jax.tree.leaves(per_env_steps), strict=True):
            if np.issubdtype(np.asarray(a).dtype, np.floating):
                np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
            else:
                np.testing.assert_array_equal(a, b)
        mask = np.asarray(ended.mask)
        np.testing.assert_array_equal(mask, np.asarray(terminated) | np.asarray(truncated))
        assert mask.sum() >= N, "every env should end an episode within the run"
        # The shared queue: every finished episode, in step then env-index order.
        queues = fnrec.stats.queues(shared.stats)
        np.testing.assert_array_equal(queues["length_queue"], np.asarray(ended.length)[mask])
        np.testing.assert_allclose(
            queues["return_queue"], np.asarray(ended.episode_return)[mask], rtol=1e-5, atol=1e-5
        )
        assert fnrec.stats.episode_count(shared.stats) == mask.sum()
        # One queue per env under jax.vmap.
        for env, queue in enumerate(fnrec.stats.queues(per_env.stats)):
            lengths = np.asarray(ended.length)[:, env][mask[:, env]]
            np.testing.assert_array_equal(queue["length_queue"], lengths)

    def test_capture_exports_env_0s_episodes_decoded_back(self, runs, tmp_path):
        (shared, (*_, ended)), _ = runs
        mask = np.asarray(ended.mask)[:, 0]
        lengths = np.asarray(ended.length)[:, 0][mask]
        episodes = read_capture(shared.capture).episodes
        assert len(episodes) == min(len(lengths), 8) > 0
        assert [e.length for e in episodes] == lengths[: len(episodes)].tolist()
        result = fnrec.export_videos(shared.capture, tmp_path, fps=10)
        assert [v.episode_id for v in result.videos] == [e.episode_id for e in episodes]
        for video, episode in zip(result.videos, episodes, strict=True):
            frames = decode(video.path)
            assert len(frames) == episode.length + 1
            kept = np.asarray(episode.items)[: episode.length + 1]
            means = [float(f.mean()) for f in frames]
            np.testing.assert_allclose(means, kept.reshape(len(kept), -1).mean(1), atol=6)

    def test_a_checkpoint_round_trips_and_steps_on_identically(self, case, runs, tmp_path):
        (shared, _), _ = runs
        path = fnrec.checkpoint.save(tmp_path / "state.npz", shared)
        restored = fnrec.checkpoint.restore(path, like=shared)
        leaves = jax.tree.leaves(restored), jax.tree.leaves(shared)
        for a, b in zip(*leaves, strict=True):
            np.testing.assert_array_equal(_raw(a), _raw(b))
        if case.heavy:
            return  # stepping on compiles the env's step once more: minutes for this family
        rec = case.make(recording(case), N)
        action = random_actions(rec.spec.action_space, jax.random.key(5), (N,))
        step = jax.jit(rec.step)
        a, b = (step(s, action, jax.random.key(6)) for s in (restored, shared))
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
            np.testing.assert_array_equal(_raw(x), _raw(y))

    def test_functional_vector_env_over_it_and_check_env(self, case):
        spec = case.make(fnrec.Recording(), None).spec
        if spec.observation_space is None:
            pytest.skip(f"{spec.name} does not know its observation space (jumanji's specs)")
        statistics = fnrec.stats.episode_statistics(BUFFER, case.mode)
        if not case.heavy:  # check_env compiles the step under six transformations
            one = case.make(fnrec.Recording(statistics, max_episode_steps=case.time_limit), None)
            fnrec.utils.check_env(one, steps=5, x64_modes=(False,))
        envs = fnrec.FunctionalVectorEnv(
            case.make(fnrec.Recording(statistics, max_episode_steps=case.time_limit), 3)
        )
        envs.action_space.seed(0)
        envs.reset(seed=0)
        lengths = []
        for _ in range(2 * LIMIT + 2):
            *_, terminated, truncated, info = envs.step(envs.action_space.sample())
            if "episode" in info:
                np.testing.assert_array_equal(info["_episode"], terminated | truncated)
                lengths.extend(info["episode"]["l"][info["_episode"]].tolist())
        assert len(lengths) == envs.episode_count >= 3
        assert list(envs.length_queue) == lengths

    @pytest.mark.xla_optimized  # the collectives of the sharded step, as users compile it
    def test_sharded_over_4_devices_equals_one_device(self, case):
        factory = globals()[f"sharded_{self.family}"]
        num_envs, layouts = case.sharded
        # The compiled run's loop body is the step: its collectives are checked there, without
        # compiling the step once more on its own.
        sharding_check.check(
            factory, n=num_envs, steps=2 * LIMIT + 4, compile_step=False, layouts=layouts
        )


def _raw(x):
    x = jnp.asarray(x) if not hasattr(x, "dtype") else x
    return jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x


def _sharded_layout(family: str, per_env: bool, n: int) -> sharding_check.Layout:
    case = CASES[family]()
    kept = recording(case, max_episodes=3)
    if family == "brax":
        # brax's generalized pipeline rounds its floats differently for a shard of the batch:
        # its physics is compared to a tolerance, and frames drawn from it could differ, so the
        # sharded check keeps the statistics only (capture is sharded in every other family)
        kept = kept._replace(capture=None)
    rec = case.make(kept, None if per_env else n)
    space = rec.spec.action_space
    init_fn, step_fn = rec.init, lambda s, a, k: rec.step(s, a, k).state
    if per_env:
        init_fn, step_fn = jax.vmap(init_fn), jax.vmap(step_fn)

    def init(key):
        return init_fn(jax.random.split(key, n) if per_env else key)[0]

    def step(state, key):
        action_key, step_key = jax.random.split(key)
        actions = random_actions(space, action_key, (n,))
        return step_fn(state, actions, jax.random.split(step_key, n) if per_env else step_key)

    physics = (lambda path: path.startswith(".env_state")) if family == "brax" else None
    capture = None if kept.capture is None else (lambda s: s.capture)
    return sharding_check.Layout(init, step, lambda s: s.stats, capture, physics)


for _family in CASES:  # module-level factories, as sharding_check imports them by name

    def _factory(per_env: bool, n: int, _family: str = _family) -> sharding_check.Layout:
        return _sharded_layout(_family, per_env, n)

    _factory.__name__ = f"sharded_{_family}"
    globals()[_factory.__name__] = _factory


class TestTemplate(Kit):
    family = "template"


class TestFuncEnv(Kit):
    family = "funcenv"


class TestGymnax(Kit):
    family = "gymnax"


class TestCraftax(Kit):
    family = "craftax"


class TestJumanji(Kit):
    family = "jumanji"


class TestNavix(Kit):
    family = "navix"


class TestXMiniGrid(Kit):
    family = "xminigrid"


class TestBrax(Kit):
    family = "brax"
