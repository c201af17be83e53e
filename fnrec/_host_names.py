"""The one list of host-side public names: name -> the host module that defines it.

Pure data (imports nothing), so that the package root can re-export the host names lazily.
"""

NAMES: dict[str, str] = {
    "CaptureSummary": "fnrec.host.captured",
    "EpisodeLog": "fnrec.host.episode_log",
    "ExportResult": "fnrec.host.export",
    "FuncEnvRenderer": "fnrec.host.export",
    "FunctionalEnv": "fnrec.host.gym_env",
    "FunctionalVectorEnv": "fnrec.host.gym_env",
    "LiveProgress": "fnrec.host.progress",
    "RecordEpisodeStatistics": "fnrec.host.record_episode_statistics",
    "RecordVideo": "fnrec.host.record_video",
    "VideoSettings": "fnrec.host.video_settings",
    "VideoStream": "fnrec.host.export",
    "VideoWriteError": "fnrec.host.video_writer",
    "VideoWriteWarning": "fnrec.host.video_writer",
    "VideoWriter": "fnrec.host.video_writer",
    "episode_log": "fnrec.host.episode_log",
    "learning_curve": "fnrec.host.plots",
    "make": "fnrec.host.make",
    "make_vec": "fnrec.host.make",
    "export_videos": "fnrec.host.export",
    "read_capture": "fnrec.host.captured",
    "save_video": "fnrec.host.save_video",
}
