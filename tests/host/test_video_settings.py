"""VideoSettings: one value for every video writer, checked once, given once."""

from __future__ import annotations

import numpy as np
import pytest

import fnrec
from fnrec.host.video_settings import video_settings

FRAMES = np.zeros((3, 8, 8, 3), np.uint8)


def test_checked_fills_fps_and_resolves_the_encoder():
    checked = fnrec.VideoSettings(crf=18).checked(default_fps=50)
    assert checked.fps == 50.0 and checked.crf == 18
    assert checked.encoder in ("pyav", "ffmpeg")  # "auto" resolved once, for every video


def test_file_names_are_built_in_one_place():
    settings = fnrec.VideoSettings(name_prefix="eval")
    assert settings.file_name(4) == "eval-episode-4.mp4"
    assert settings.file_name(step_id=7) == "eval-step-7.mp4"
    assert settings.file_name(4, env=2, repeat=1) == "eval-env-2-episode-4-repeat-1.mp4"


def test_a_keyword_left_at_its_default_yields_to_settings(tmp_path):
    (path,) = fnrec.save_video(
        FRAMES, tmp_path, settings=fnrec.VideoSettings(fps=10, name_prefix="run")
    )
    assert path.name == "run-episode-0.mp4"
    assert video_settings(fnrec.VideoSettings(fps=10), 30, "rl-video").fps == 10


def test_a_keyword_and_settings_that_agree_are_accepted():
    assert video_settings(fnrec.VideoSettings(fps=10), 10, "rl-video").fps == 10


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"fps": 60}, r"fps is given twice, fps=60 and settings.fps=10: give it once"),
        ({"name_prefix": "a"}, r"name_prefix is given twice, name_prefix='a' and"),
    ],
)
def test_a_setting_given_twice_differently_is_refused(tmp_path, kwargs, message):
    settings = fnrec.VideoSettings(fps=10, name_prefix="b")
    with pytest.raises(ValueError, match=message):
        fnrec.save_video(FRAMES, tmp_path, settings=settings, **kwargs)
    with pytest.raises(ValueError, match=message):
        fnrec.VideoStream(tmp_path, settings=settings, **kwargs)
    assert list(tmp_path.iterdir()) == []  # refused before anything is written


def test_settings_of_another_type_are_refused(tmp_path):
    with pytest.raises(
        TypeError, match=r"settings must be a fnrec.VideoSettings or None, got dict"
    ):
        fnrec.save_video(FRAMES, tmp_path, settings={"crf": 0})


def test_record_video_takes_fps_from_the_env_unless_settings_give_it(tmp_path):
    import gymnasium as gym

    env = gym.make("CartPole-v1", render_mode="rgb_array")
    assert fnrec.RecordVideo(env, tmp_path / "a").frames_per_sec == env.metadata["render_fps"]
    wrapped = fnrec.RecordVideo(env, tmp_path / "b", settings=fnrec.VideoSettings(fps=12))
    assert wrapped.frames_per_sec == 12.0
    wrapped.close()
