"""save_video: Gymnasium's naming and slicing, files decoded back."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest
from conftest import assert_same_video, leftovers, numbered_frame, video_fps
from gymnasium.utils.save_video import save_video as gym_save_video

import fnrec

pytestmark = pytest.mark.gymnasium_api  # CI runs these again on Gymnasium 1.3

FRAMES = [numbered_frame(i) for i in range(10)]  # reset frame + 9 steps


def test_episode_trigger_writes_the_episode(tmp_path):
    paths = fnrec.save_video(FRAMES, tmp_path, episode_trigger=lambda e: True, episode_index=3)
    assert paths == [tmp_path / "rl-video-episode-3.mp4"]
    assert_same_video(paths[0], FRAMES)


def test_default_trigger_is_capped_cubic(tmp_path):
    assert fnrec.save_video(FRAMES, tmp_path, episode_index=2) == []
    assert fnrec.save_video(FRAMES, tmp_path, episode_index=8) == [
        tmp_path / "rl-video-episode-8.mp4"
    ]


def test_step_trigger_slices_like_gymnasium(tmp_path):
    paths = fnrec.save_video(
        FRAMES, tmp_path / "new", step_trigger=lambda s: s % 4 == 0, video_length=3,
        step_starting_index=100, name_prefix="run", fps=12,
    )  # fmt: skip
    # frame k >= 1 follows step 100 + k - 1: steps 100, 104, 108 are frames 1, 5, 9
    assert [p.name for p in paths] == ["run-step-100.mp4", "run-step-104.mp4", "run-step-108.mp4"]
    assert_same_video(paths[0], FRAMES[1:4])
    assert_same_video(paths[1], FRAMES[5:8])
    assert_same_video(paths[2], FRAMES[9:])  # cut short by the end of the episode
    assert video_fps(paths[0]) == 12


def test_video_length_none_keeps_to_the_end(tmp_path):
    paths = fnrec.save_video(FRAMES, tmp_path, step_trigger=lambda s: s == 6)
    assert_same_video(paths[0], FRAMES[7:])


def test_same_file_names_as_gymnasium(tmp_path):
    kwargs = dict(
        episode_trigger=lambda e: True, step_trigger=lambda s: s % 3 == 0, video_length=4,
        name_prefix="cmp", episode_index=5, step_starting_index=7,
    )  # fmt: skip
    gym_save_video(list(FRAMES), str(tmp_path / "gym"), fps=30, **kwargs)
    ours = fnrec.save_video(FRAMES, tmp_path / "ours", fps=30, **kwargs)
    gym_names = sorted(p.name for p in (tmp_path / "gym").iterdir())
    assert sorted(p.name for p in ours) == gym_names
    assert len(gym_names) == 4


@pytest.mark.fault
def test_array_of_frames_and_a_bad_frame(tmp_path):
    stacked = np.stack(FRAMES[:4])
    (path,) = fnrec.save_video(stacked, tmp_path, episode_trigger=lambda e: True)
    assert_same_video(path, FRAMES[:4])
    bad = [*FRAMES[:3], np.zeros((10, 10, 3), np.uint8)]
    with pytest.raises(ValueError, match=r"rl-video-episode-1\.mp4, frame 3: expected shape"):
        fnrec.save_video(bad, tmp_path, episode_trigger=lambda e: True, episode_index=1)
    assert not (tmp_path / "rl-video-episode-1.mp4").exists()
    assert leftovers(tmp_path) == []


@pytest.mark.fault
def test_keyboard_interrupt_from_the_frames(tmp_path):
    class Interrupting(Sequence):
        """Frames rendered lazily; the user presses Ctrl-C while frame 5 renders."""

        def __init__(self, frames):
            self.frames = frames

        def __len__(self):
            return len(self.frames)

        def __getitem__(self, index):
            if isinstance(index, slice):
                return Interrupting(self.frames[index])
            if index == 5:
                raise KeyboardInterrupt
            return self.frames[index]

    with pytest.raises(KeyboardInterrupt):
        fnrec.save_video(Interrupting(FRAMES), tmp_path, episode_trigger=lambda e: True)
    assert list(tmp_path.iterdir()) == []


def test_invalid_video_length(tmp_path):
    with pytest.raises(ValueError, match="video_length must be an int >= 1, got 0"):
        fnrec.save_video(FRAMES, tmp_path, video_length=0)
    with pytest.raises(TypeError, match=r"video_length must be an int >= 1, got float: 2\.5"):
        fnrec.save_video(FRAMES, tmp_path, video_length=2.5)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"fps": "30"}, TypeError, "fps must be a real number > 0, got str: '30'"),
        ({"fps": float("nan")}, ValueError, "fps must be a finite number"),
        ({"fps": 0}, ValueError, "fps must be a finite number"),
        ({"episode_trigger": 3}, TypeError, "episode_trigger must be None or a callable"),
        ({"step_trigger": "yes"}, TypeError, "step_trigger must be None or a callable"),
    ],
)
def test_invalid_arguments_write_nothing(tmp_path, kwargs, error, message):
    with pytest.raises(error, match=message):
        fnrec.save_video(FRAMES, tmp_path / "videos", **kwargs)
    assert not (tmp_path / "videos").exists()


def test_video_folder_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(NotADirectoryError, match="`video_folder` must be a folder"):
        fnrec.save_video(FRAMES, tmp_path / "file")
