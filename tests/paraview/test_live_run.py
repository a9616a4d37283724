"""A run that is still being written: the reader and the dashboard's follower see new steps."""

from types import SimpleNamespace

import numpy as np

from paraview import simple

from tensorviz_pv.store import format as F
from tensorviz_pv.figures.dashboard import Follower, show_alerts
from tensorviz_pv.figures.health import NO_ALERTS
from tensorviz_pv.store.synthetic import expected_kernel, write_synthetic_run


def append_steps(writer, first, last, loss=0.1):
    for step in range(first, last + 1):
        writer.add_step(step, 0, loss, 0.5, 0.01, [1.0, 1.0], [0.5, 0.5])
    writer.add_tensor("conv1", F.KERNEL, last, expected_kernel("conv1", last))
    writer.flush()


def test_reader_picks_up_appended_steps(tmp_path):
    path = str(tmp_path / "live.tvz")
    _, writer = write_synthetic_run(path, steps=10, every=5, close=False)
    reader = simple.TensorVizReader(FileName=path)
    assert reader.TimestepValues[-1] == 10.0
    append_steps(writer, 11, 20)
    simple.ReloadFiles(reader)  # File > Reload Files
    assert reader.TimestepValues[-1] == 20.0 and len(reader.TimestepValues) == 21
    glyphs = simple.WeightGlyphs(Input=reader, Layer="conv1")
    glyphs.UpdatePipeline(20.0)
    info = glyphs.GetDataInformation().DataInformation.GetFieldDataInformation()
    assert info.GetArrayInformation("snapshot_step").GetComponentRange(0)[0] == 20
    append_steps(writer, 21, 30)
    reader.SMProxy.GetClientSideObject().Modified()  # any pipeline re-execution re-checks
    reader.UpdatePipelineInformation()
    assert reader.TimestepValues[-1] == 30.0
    writer.close()
    simple.Delete(glyphs)
    simple.Delete(reader)


def test_the_follower_moves_the_time_to_the_newest_step(tmp_path):
    path = str(tmp_path / "follow.tvz")
    _, writer = write_synthetic_run(path, steps=10, every=5, close=False)
    reader = simple.TensorVizReader(FileName=path)
    follower = Follower(reader)
    assert follower.tick()  # first look
    scene = simple.GetAnimationScene()
    assert scene.AnimationTime == 10.0
    assert not follower.tick()  # nothing new
    append_steps(writer, 11, 17)
    assert follower.tick()
    assert scene.AnimationTime == 17.0
    assert np.isclose(reader.TimestepValues[-1], 17.0)
    writer.close()
    simple.Delete(reader)


def test_the_follower_rests_after_a_slow_tick(tmp_path):
    """A tick that takes long (a million-step run: ~0.5 s) holds the next back, so that
    following takes at most a fifth of the GUI's time; a quick one never does."""
    path = str(tmp_path / "slow.tvz")
    _, writer = write_synthetic_run(path, steps=10, every=5, close=False)
    reader = simple.TensorVizReader(FileName=path)
    now = [100.0]
    follower = Follower(reader, clock=lambda: now[0])
    update = follower._update

    def slow_update():  # each update takes a second of the follower's clock
        update()
        now[0] += 1.0

    follower._update = slow_update
    scene = simple.GetAnimationScene()
    assert follower.tick() and scene.AnimationTime == 10.0  # 100 s -> 101 s: rests until 105 s
    append_steps(writer, 11, 17)
    now[0] = 103.0
    assert not follower.tick() and scene.AnimationTime == 10.0
    now[0] = 105.5
    assert follower.tick() and scene.AnimationTime == 17.0
    writer.close()
    simple.Delete(reader)


def test_the_follower_shows_an_alert_once_the_run_has_one(tmp_path):
    path = str(tmp_path / "alerts.tvz")
    _, writer = write_synthetic_run(path, steps=10, every=5, close=False)
    reader = simple.TensorVizReader(FileName=path)
    text = simple.Text()
    alerts = (text, SimpleNamespace(Color=None))  # its display (no view: nothing renders here)
    show_alerts(alerts, path)
    assert text.Text == NO_ALERTS
    follower = Follower(reader, alerts)
    follower.tick()
    append_steps(writer, 11, 14, loss=float("nan"))  # the loss diverged at step 11
    assert follower.tick()
    assert text.Text.startswith("step 11: NaN/Inf") and alerts[1].Color[0] > 0.5
    writer.close()
    simple.Delete(reader)


def test_a_followed_dashboard_keeps_its_framing(tmp_path):
    """The dashboard frames its views itself: paraview.simple's reset of the camera at a
    session's first Render() (which a follower's tick in the GUI, or the web page's first pick,
    makes) is turned off by building it (rendering is not possible in this suite's pvpython;
    tests/e2e/test_serve.py's clicks fail without it). The web page's follower
    (time_slider=False) reloads without moving the GUI's time; the norm chart's step axis grows
    with the run."""
    from tensorviz_pv.figures import dashboard
    simple._funcs_internals.first_render = True  # as in a fresh session
    path = str(tmp_path / "framed.tvz")
    _, writer = write_synthetic_run(path, steps=10, every=5, close=False)
    built = dashboard.build(path, area=(900, 600), time_slider=False)
    assert not simple._funcs_internals.first_render
    scene_time = simple.GetAnimationScene().AnimationTime
    follower = dashboard.Follower(built["reader"], steering=built["steering"], time_slider=False)
    assert built["chart"].BottomAxisRangeMaximum == 10.0
    append_steps(writer, 11, 17)
    assert follower.tick()
    assert built["reader"].TimestepValues[-1] == 17.0
    assert built["chart"].BottomAxisRangeMaximum == 17.0  # the norm chart grows with the run
    assert simple.GetAnimationScene().AnimationTime == scene_time  # the page moves its own time
    writer.close()
    for view in simple.GetViews():
        simple.Delete(view)
    for source in list(simple.GetSources().values()):
        simple.Delete(source)
