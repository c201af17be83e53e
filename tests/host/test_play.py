"""fnrec.utils.play and PlayPlot, headless: real pygame key events, a non-interactive backend."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import decode

import fnrec
from fnrec.envs import CartPole

pygame = pytest.importorskip("pygame")


class Script:
    """A play callback that presses keys at chosen steps and closes the window at the end."""

    def __init__(self, events: dict[int, list[tuple[int, int]]], steps: int) -> None:
        self.events, self.steps, self.actions, self.t = events, steps, [], 0

    def __call__(self, obs_t, obs_tp1, action, reward, terminated, truncated, info):
        self.actions.append(int(action))
        for kind, key in self.events.get(self.t, []):
            pygame.event.post(pygame.event.Event(kind, key=key))
        self.t += 1
        if self.t == self.steps:
            pygame.event.post(pygame.event.Event(pygame.QUIT))


def test_the_env_receives_the_keys_actions(tmp_path, capsys):
    d, a = pygame.K_d, pygame.K_a
    script = Script({2: [(pygame.KEYDOWN, d)], 5: [(pygame.KEYUP, d), (pygame.KEYDOWN, a)],
                     7: [(pygame.KEYUP, a)]}, steps=10)  # fmt: skip
    result = fnrec.utils.play(
        CartPole(), keys_to_action={"a": 0, "d": 1}, noop=0, fps=1000, seed=0,
        callback=script, max_episode_steps=5, record=tmp_path, name_prefix="played",
    )  # fmt: skip
    # events posted after step t are read before step t + 1
    assert script.actions == [0, 0, 0, 1, 1, 1, 0, 0, 0, 0]
    # the 5-step time limit: episodes of 5 steps, all truncated, statistics kept
    assert result["length_queue"][:1] == [5] and result["terminated"][:1] == [False]
    assert "played" in capsys.readouterr().out
    videos = sorted(tmp_path.glob("played-episode-*.mp4"))
    assert [p.name for p in videos][:1] == ["played-episode-0.mp4"]
    assert len(decode(videos[0])) == 6  # reset frame + 5 steps


def test_escape_ends_and_key_combinations_map(tmp_path):
    script = Script({0: [(pygame.KEYDOWN, pygame.K_a), (pygame.KEYDOWN, pygame.K_d)],
                     2: [(pygame.KEYDOWN, pygame.K_ESCAPE)]}, steps=100)  # fmt: skip
    fnrec.utils.play(CartPole(), keys_to_action={("a", "d"): 1, "a": 0}, fps=1000,
                     callback=script, verbose=False)  # fmt: skip
    assert script.actions == [0, 1, 1]  # both keys -> the combination's action; Esc stops


@pytest.mark.parametrize(
    ("keys", "error", "message"),
    [
        ({"a": 5}, ValueError, "not in the action space"),
        ({(): 0}, TypeError, "non-empty tuples"),
        ([("a", 0)], TypeError, "`keys_to_action` must be a dict, got list"),
    ],
)
def test_bad_keys_to_action(keys, error, message):
    with pytest.raises(error, match=message):
        fnrec.utils.play(CartPole(), keys_to_action=keys, verbose=False)


def test_an_env_without_a_key_map_needs_one():
    with pytest.raises(ValueError, match="`keys_to_action` is needed"):
        fnrec.utils.play(CartPole(), verbose=False)


def test_play_plot_keeps_and_draws_the_data():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    plot = fnrec.utils.PlayPlot(lambda o, o2, a, r, te, tr, i: [r, a], 3, ["reward", "action"])
    for t in range(5):
        plot.callback(None, None, t % 2, float(t), False, False, {})
    assert [list(d) for d in plot.data] == [[2.0, 3.0, 4.0], [0.0, 1.0, 0.0]]
    offsets = plot.cur_plot[0].get_offsets()
    np.testing.assert_array_equal(offsets, [[2, 2.0], [3, 3.0], [4, 4.0]])
    assert plot.ax[0].get_xlim() == (2, 5)
    plot.add([10.0, 1.0])  # fed directly, e.g. from a jitted run's summaries
    assert plot.data[0][-1] == 10.0 and plot.t == 6
    with pytest.raises(ValueError, match="one value per plot"):
        plot.add([1.0])
    plot.close()
