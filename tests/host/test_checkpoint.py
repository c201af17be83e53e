"""fnrec.checkpoint: a resumed run equals the uninterrupted one; mismatches fail clearly."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import leftovers
from hypothesis import given, settings
from hypothesis import strategies as st

import fnrec
from fnrec._optional import MissingDependency
from fnrec.adapters import core
from fnrec.checkpoint import CheckpointMismatch

NUM_ENVS, STEPS, SPLIT = 5, 60, 23
HAS_ORBAX = importlib.util.find_spec("orbax") is not None
needs_orbax = pytest.mark.skipif(
    not HAS_ORBAX and "orbax.checkpoint" not in os.environ.get("FNREC_REQUIRE", ""),
    reason="orbax-checkpoint is not installed (the orbax extra)",
)


def env_step(state, action, key):
    x, t = state
    x = x + action * 0.25 + jax.random.normal(key)
    terminated = jax.random.uniform(jax.random.fold_in(key, 1)) < 0.12
    return core.EnvStep((x, t + 1), x, jnp.sin(x) + 0.1, terminated, False, {})


def env_reset(key):
    x = jax.random.uniform(key, minval=-1.0, maxval=1.0)
    return core.EnvReset((x, jnp.int32(0)), x)


def make_recording(mode="same_step", buffer_length=7, max_episodes=6, history=True):
    capture = fnrec.capture.episode_capture(
        max_length=12, max_episodes=max_episodes, watch=None, trigger=lambda i: i % 2 == 0
    )
    return core.Recording(
        fnrec.stats.episode_statistics(buffer_length, mode),
        capture=capture,
        max_episode_steps=15,
        history=fnrec.history.episode_history(64) if history else None,
    )


def layout(recording, per_env, num_envs=NUM_ENVS):
    """(init(key) -> state, jitted run(state, keys) -> state) for one of the two layouts."""
    unbatched = core.EnvFns(env_step, env_reset)
    if per_env:  # one queue, one capture per env: jax.vmap of the unbatched recording

        def init(key):
            keys = jax.random.split(key, num_envs)
            return jax.vmap(lambda k: recording.init(env_reset(k).env_state))(keys)

        def one_step(state, key):
            step = jax.vmap(lambda s, k: recording.step(unbatched, s, 1.0, k).state)
            return step(state, jax.random.split(key, num_envs))

    else:  # one shared queue and capture over the batch
        fns = core.vmapped(unbatched, num_envs)

        def init(key):
            return recording.init(fns.reset(key).env_state, num_envs)

        def one_step(state, key):
            return recording.step(fns, state, jnp.ones(num_envs), key).state

    def run(state, keys):
        state, _ = jax.lax.scan(lambda s, k: (one_step(s, k), None), state, keys)
        return state

    return init, jax.jit(run)


def assert_same_state(result, expected):
    assert jax.tree.structure(result) == jax.tree.structure(expected)
    for got, want in zip(jax.tree.leaves(result), jax.tree.leaves(expected), strict=True):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))


def resume(tmp_path, mode, per_env, format):
    recording = make_recording(mode)
    init, run = layout(recording, per_env)
    keys = jax.random.split(jax.random.key(7), STEPS)
    start = init(jax.random.key(0))
    expected = run(start, keys)
    path = fnrec.checkpoint.save(tmp_path / "run", run(start, keys[:SPLIT]), format=format)
    restored = fnrec.checkpoint.restore(path, like=init(jax.random.key(99)))
    result = run(restored, keys[SPLIT:])
    assert_same_state(result, expected)
    return result


def check_recorded(state, per_env):
    """The run recorded what these tests rely on: finished, queued and captured episodes."""
    count = fnrec.stats.episode_count(state.stats)
    assert (sum(count) if per_env else count) > 2 * NUM_ENVS
    assert int(np.sum(state.capture.num_stored)) > 0
    queues = fnrec.stats.queues(state.stats)
    assert all(len(q["return_queue"]) > 0 for q in (queues if per_env else [queues]))


@pytest.mark.fault
@pytest.mark.parametrize("per_env", [False, True], ids=["shared", "per_env"])
@pytest.mark.parametrize("mode", ["same_step", "next_step"])
def test_resumed_run_equals_the_uninterrupted_run(tmp_path, x64, mode, per_env):
    result = resume(tmp_path, mode, per_env, "npz")
    check_recorded(result, per_env)
    assert leftovers(tmp_path) == []


@pytest.mark.fault
@needs_orbax
@pytest.mark.parametrize("per_env", [False, True], ids=["shared", "per_env"])
def test_resumed_run_equals_the_uninterrupted_run_with_orbax(tmp_path, x64, per_env):
    check_recorded(resume(tmp_path, "same_step", per_env, "orbax"), per_env)


def test_queues_counts_and_captured_episodes_survive_exactly(tmp_path):
    recording = make_recording()
    init, run = layout(recording, per_env=False)
    state = run(init(jax.random.key(1)), jax.random.split(jax.random.key(2), STEPS))
    # Counters near 2**32 and a Kahan compensation that is not zero survive too.
    state = state._replace(
        stats=state.stats._replace(
            env_steps=fnrec.counter.Counter64(jnp.uint32(1), jnp.uint32(2**32 - 2)),
            running_compensation=jnp.full(NUM_ENVS, 1e-8, jnp.float32),
        )
    )
    restored = fnrec.checkpoint.restore(
        fnrec.checkpoint.save(tmp_path / "s.npz", state), like=jax.eval_shape(lambda: state)
    )
    assert_same_state(restored, state)
    assert isinstance(restored.stats, fnrec.EpisodeStats)
    assert fnrec.counter.to_int(restored.stats.env_steps) == 2**33 - 2
    for name, values in fnrec.stats.queues(state.stats).items():
        np.testing.assert_array_equal(fnrec.stats.queues(restored.stats)[name], values)
    n = int(state.capture.num_stored)
    assert n > 0
    np.testing.assert_array_equal(
        restored.capture.stored.episode_id[:n], state.capture.stored.episode_id[:n]
    )


def test_tuples_dicts_keys_and_numbers_come_back_as_their_kinds(tmp_path):
    statistics = fnrec.stats.episode_statistics(4)
    history = fnrec.history.episode_history(8)
    stats, ended = statistics.step(statistics.init(2), [1.0, 2.0], [True, False], False)
    state = {
        "pair": (stats, history.step(history.init(2), ended)),
        "key": jax.random.split(jax.random.key(3), 2),
        "half": jnp.arange(3, dtype=jnp.bfloat16),
        "numpy": np.arange(3, dtype=np.int16),
        "epoch": 5,
        "scale": 0.5,
    }
    restored = fnrec.checkpoint.restore(fnrec.checkpoint.save(tmp_path / "t", state), like=state)
    assert restored["key"].dtype == state["key"].dtype
    np.testing.assert_array_equal(
        jax.random.key_data(restored["key"]), jax.random.key_data(state["key"])
    )
    assert restored["half"].dtype == jnp.bfloat16 and restored["half"].tolist() == [0, 1, 2]
    assert isinstance(restored["numpy"], np.ndarray) and restored["numpy"].dtype == np.int16
    assert restored["epoch"] == 5 and type(restored["epoch"]) is int and restored["scale"] == 0.5
    assert_same_state(restored["pair"], state["pair"])
    assert (tmp_path / "t").is_file()  # written under exactly the name given


def test_statistics_saved_with_x64_on_restore_with_it_off(tmp_path):
    previous = jax.config.read("jax_enable_x64")
    try:
        jax.config.update("jax_enable_x64", True)
        stats, _ = fnrec.stats.step(fnrec.stats.init(3, 5), [1.5, 2.0, 3.0], [1, 0, 1], False)
        path = fnrec.checkpoint.save(tmp_path / "x64.npz", stats)
        jax.config.update("jax_enable_x64", False)
        restored = fnrec.checkpoint.restore(path, like=fnrec.stats.init(3, 5))
    finally:
        jax.config.update("jax_enable_x64", previous)
    assert_same_state(restored, stats)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"buffer_length": 9}, r"leaf \.stats\.return_queue .* shape \(7,\) .* expects shape "
         r"\(9,\).*the statistics' buffer_length\) is not reshaped"),
        ({"max_episodes": 3}, r"leaf \.capture\.stored_items\[0\] .*capture's max_episodes"),
        ({"history": False}, r"checkpoint has that `like` lacks: \.history\.env"),
    ],
)  # fmt: skip
def test_other_settings_give_a_clear_error_not_a_reshape(tmp_path, change, words):
    init, _ = layout(make_recording(), per_env=False)
    path = fnrec.checkpoint.save(tmp_path / "a.npz", init(jax.random.key(0)))
    other_init, _ = layout(make_recording(**change), per_env=False)
    with pytest.raises(CheckpointMismatch, match=words):
        fnrec.checkpoint.restore(path, like=other_init(jax.random.key(0)))


def test_other_batch_size_layout_and_dtype_name_the_leaf(tmp_path):
    stats = fnrec.stats.init(4, 5)
    path = fnrec.checkpoint.save(tmp_path / "a.npz", stats)
    with pytest.raises(CheckpointMismatch, match=r"\.running_return .*\(4,\).*\(3,\).*num_envs"):
        fnrec.checkpoint.restore(path, like=fnrec.stats.init(3, 5))
    per_env = jax.vmap(lambda _: fnrec.stats.init(None, 5))(jnp.arange(4))
    with pytest.raises(CheckpointMismatch, match=r"\.return_queue .*\(5,\).*\(4, 5\)"):
        fnrec.checkpoint.restore(path, like=per_env)
    floats = fnrec.checkpoint.save(tmp_path / "f.npz", {"x": np.zeros(3, np.float64)})
    with pytest.raises(CheckpointMismatch, match=r"\['x'\] .*dtype float64.*dtype float32"):
        fnrec.checkpoint.restore(floats, like={"x": jnp.zeros(3, jnp.float32)})
    with pytest.raises(CheckpointMismatch, match=r"structure .*lacks: \['y'\]"):
        fnrec.checkpoint.restore(floats, like={"x": np.zeros(3), "y": np.zeros(3)})


def test_unknown_version_and_foreign_files_are_refused(tmp_path):
    path = fnrec.checkpoint.save(tmp_path / "a.npz", {"x": np.zeros(2)})
    with np.load(path) as archive:
        arrays = dict(archive)
    header = json.loads(str(arrays["fnrec_checkpoint"]))
    assert header["version"] == fnrec.checkpoint.FORMAT_VERSION == 1
    arrays["fnrec_checkpoint"] = np.asarray(json.dumps({**header, "version": 99}))
    np.savez(tmp_path / "new.npz", **arrays)
    with pytest.raises(ValueError, match=r"format version 99; this fnrec reads version 1"):
        fnrec.checkpoint.restore(tmp_path / "new.npz", like={"x": np.zeros(2)})
    np.savez(tmp_path / "plain.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="is not an fnrec checkpoint"):
        fnrec.checkpoint.restore(tmp_path / "plain.npz", like={"x": np.zeros(2)})
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match=r"cannot read .* as an npz checkpoint"):
        fnrec.checkpoint.restore(tmp_path / "text.npz", like={"x": np.zeros(2)})


def _rewritten(tmp_path, path, edit):
    """A copy of the npz checkpoint at `path` with `edit(arrays, header)` applied."""
    with np.load(path) as archive:
        arrays = dict(archive)
    header = json.loads(str(arrays.pop("fnrec_checkpoint")))
    edit(arrays, header)
    arrays["fnrec_checkpoint"] = np.asarray(json.dumps(header))
    out = tmp_path / f"edited-{len(list(tmp_path.iterdir()))}.npz"
    np.savez(out, **arrays)
    return out


@pytest.mark.fault
def test_damaged_checkpoints_are_refused_never_filled_in_or_reinterpreted(tmp_path):
    """A leaf missing, data of another shape or dtype than the header's, a truncated or
    corrupted file, a header missing fields: CheckpointDamaged naming the file (and leaf)."""
    from fnrec.checkpoint import CheckpointDamaged

    statistics = fnrec.stats.episode_statistics(10)
    stats, _ = statistics.step(statistics.init(2), 1.0, [True, False], False)
    like = statistics.init(2)
    path = fnrec.checkpoint.save(tmp_path / "stats.npz", stats)
    queue = next(i for i, leaf in enumerate(json.loads(str(np.load(path)["fnrec_checkpoint"]))[
        "leaves"]) if leaf["path"].endswith("return_queue"))  # fmt: skip

    def drop(arrays, header):
        del arrays[f"leaf_{queue}"]

    def wider(arrays, header):  # int64/float64 bytes where the header says 32 bits
        arrays[f"leaf_{queue}"] = arrays[f"leaf_{queue}"].astype(np.float64)

    def longer(arrays, header):
        arrays[f"leaf_{queue}"] = np.zeros(20, np.float32)

    def no_shapes(arrays, header):
        for leaf in header["leaves"]:
            del leaf["shape"]

    cases = [
        (drop, r"leaf .*return_queue .* its data is missing"),
        (wider, r"return_queue holds data of shape \(10,\) and dtype float64, but its header"),
        (longer, r"return_queue holds data of shape \(20,\)"),
        (no_shapes, r"its header does not describe its leaves"),
    ]
    for edit, message in cases:
        with pytest.raises(CheckpointDamaged, match=message):
            fnrec.checkpoint.restore(_rewritten(tmp_path, path, edit), like=like)
    whole = path.read_bytes()
    for name, damaged in [("cut.npz", whole[: len(whole) // 2]),
                          ("flipped.npz", whole[:200] + bytes(64) + whole[264:])]:  # fmt: skip
        (tmp_path / name).write_bytes(damaged)
        with pytest.raises(CheckpointDamaged, match=rf"{name}.*(damaged|truncated)"):
            fnrec.checkpoint.restore(tmp_path / name, like=like)
    assert isinstance(CheckpointDamaged("x"), ValueError)


def test_bad_arguments_name_the_argument(tmp_path):
    with pytest.raises(ValueError, match=r"`format` must be 'npz' or 'orbax', got 'zip'"):
        fnrec.checkpoint.save(tmp_path / "a", {"x": np.zeros(2)}, format="zip")
    with pytest.raises(TypeError, match=r"`state` must be a pytree of arrays .* str at \['x'\]"):
        fnrec.checkpoint.save(tmp_path / "a", {"x": "text"})
    with pytest.raises(TypeError, match=r"`state` must hold concrete arrays .*outside jit"):
        jax.jit(lambda s: fnrec.checkpoint.save(tmp_path / "a", s))(fnrec.stats.init(2))
    assert not (tmp_path / "a").exists() and leftovers(tmp_path) == []


@pytest.mark.fault
def test_an_interrupted_write_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    path = fnrec.checkpoint.save(tmp_path / "a.npz", {"x": np.zeros(2)})
    before = path.read_bytes()

    def crash(file, **arrays):
        file.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(KeyboardInterrupt):
        fnrec.checkpoint.save(path, {"x": np.ones(2)})
    assert path.read_bytes() == before and leftovers(tmp_path) == []
    monkeypatch.undo()
    fnrec.checkpoint.save(path, {"x": np.ones(2)})  # a later save replaces it
    assert fnrec.checkpoint.restore(path, like={"x": np.zeros(2)})["x"].tolist() == [1.0, 1.0]


def test_orbax_missing_gives_one_line_naming_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "orbax", None)
    monkeypatch.setitem(sys.modules, "orbax.checkpoint", None)
    with pytest.raises(MissingDependency, match=r"pip install 'fnrec\[orbax\]'"):
        fnrec.checkpoint.save(tmp_path / "o", {"x": np.zeros(2)}, format="orbax")
    (tmp_path / "dir").mkdir()
    with pytest.raises(MissingDependency, match=r"pip install 'fnrec\[orbax\]'"):
        fnrec.checkpoint.restore(tmp_path / "dir", like={"x": np.zeros(2)})


@needs_orbax
def test_orbax_refuses_to_overwrite_and_checks_like_npz(tmp_path):
    stats = fnrec.stats.init(2, 5)
    path = fnrec.checkpoint.save(tmp_path / "o", stats, format="orbax")
    with pytest.raises(FileExistsError, match="not overwritten"):
        fnrec.checkpoint.save(path, stats, format="orbax")
    with pytest.raises(CheckpointMismatch, match=r"\.return_queue .*buffer_length"):
        fnrec.checkpoint.restore(path, like=fnrec.stats.init(2, 6))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="is not an fnrec checkpoint"):
        fnrec.checkpoint.restore(tmp_path / "empty", like=stats)


SHARDED = textwrap.dedent(
    """
    import os, sys
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    sys.path[:0] = [{tests!r}, {root!r}]
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    import fnrec
    from test_checkpoint import layout, make_recording, assert_same_state

    n = 8
    mesh = Mesh(np.array(jax.devices()), ("envs",))
    init, run = layout(make_recording(), per_env={per_env}, num_envs=n)

    def shard(state):
        def put(x):
            spec = P("envs") if x.ndim and x.shape[0] == n else P()
            return jax.device_put(x, NamedSharding(mesh, spec))
        return jax.tree.map(put, state)

    keys = jax.random.split(jax.random.key(3), 40)
    start = init(jax.random.key(0))
    expected = run(start, keys)
    half = run(shard(start), keys[:17])
    for format in {formats!r}:
        path = fnrec.checkpoint.save(os.path.join({tmp!r}, format), half, format=format)
        like = shard(init(jax.random.key(5)))
        restored = fnrec.checkpoint.restore(path, like=like)
        for got, want in zip(jax.tree.leaves(restored), jax.tree.leaves(like)):
            assert got.sharding == want.sharding, (got.sharding, want.sharding)
        assert_same_state(run(restored, keys[17:]), expected)
    print("ok")
    """
)


@pytest.mark.parametrize("per_env", [False, True], ids=["shared", "per_env"])
def test_sharded_states_restore_onto_the_template_sharding(tmp_path, per_env):
    formats = ["npz", "orbax"] if HAS_ORBAX else ["npz"]
    script = SHARDED.format(
        tests=str(Path(__file__).parent),
        root=str(Path(__file__).parents[1]),
        per_env=per_env,
        formats=formats,
        tmp=str(tmp_path),
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


@pytest.mark.fault
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_a_corrupted_file_never_restores_as_another_state(tmp_path_factory, data):
    """Bytes of a checkpoint overwritten anywhere: restore raises (CheckpointDamaged, or the
    ValueError of a file that is no checkpoint), or gives back exactly what was saved."""
    statistics = fnrec.stats.episode_statistics(6)
    stats, _ = statistics.step(statistics.init(3), [1.0, 2.0, 3.0], [True, False, True], False)
    folder = tmp_path_factory.mktemp("corrupt")
    whole = fnrec.checkpoint.save(folder / "stats.npz", stats).read_bytes()
    start = data.draw(st.integers(0, len(whole) - 1), label="start")
    patch = data.draw(st.binary(min_size=1, max_size=16), label="patch")
    damaged = whole[:start] + patch + whole[start + len(patch) :]
    (folder / "damaged.npz").write_bytes(damaged[: len(whole)])
    try:
        restored = fnrec.checkpoint.restore(folder / "damaged.npz", like=statistics.init(3))
    except ValueError as error:  # CheckpointDamaged and CheckpointMismatch are ValueErrors
        assert "damaged.npz" in str(error)
        return
    for got, want in zip(jax.tree.leaves(restored), jax.tree.leaves(stats), strict=True):
        np.testing.assert_array_equal(np.asarray(got), np.asarray(want))
