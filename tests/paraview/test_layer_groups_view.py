"""A model of more than 30 layers: each view's Layer list is narrowed by a Layer Group (the
model's blocks by path, as `tensorviz info` lists them)."""

import numpy as np
import pytest

from paraview import servermanager, simple

from tensorviz_pv.analysis.glyphs import FACES_PER_BOX
from tensorviz_pv.store import format as F
from tensorviz_pv.store.synthetic import write_synthetic_run
from tensorviz_pv.store.layout import SeriesSpec
from tensorviz_pv.store.writer import RunWriter

# ResNet's names: conv1_conv, conv2_block1_1_conv ... conv4_block6_3_conv (40 layers)
NAMES = ["conv1_conv"] + [f"conv{stage}_block{block}_{i}_conv"
                          for stage, blocks in ((2, 3), (3, 4), (4, 6))
                          for block in range(1, blocks + 1) for i in (1, 2, 3)]


def filters_of(index):
    return index + 1  # each layer a filter count of its own: the glyphs tell which is drawn


@pytest.fixture(scope="module")
def deep_run(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("deep") / F.STORE_FILENAME)
    layers = [F.layer_entry(name, F.CONV, {F.KERNEL: [1, 1, 2, filters_of(i)]})
              for i, name in enumerate(NAMES)]
    writer = RunWriter.create(path, {"layers": layers}, [f"{n}/kernel" for n in NAMES],
                              [SeriesSpec(l["name"], F.KERNEL, l["kernel_shape"]) for l in layers],
                              None, None)
    for step in (0, 1):
        if step:
            writer.add_step(step, 0, 1.0, 0.5, 0.01, np.ones(len(NAMES)), np.ones(len(NAMES)))
        for layer in layers:
            writer.add_tensor(layer["name"], F.KERNEL, step,
                              np.full(layer["kernel_shape"], 0.1 * (step + 1), np.float32))
    writer.close()
    reader = simple.TensorVizReader(FileName=path)
    yield reader
    simple.Delete(reader)


def drawn_layer(glyphs):
    glyphs.UpdatePipeline(1.0)
    boxes = servermanager.Fetch(glyphs).GetNumberOfCells() // FACES_PER_BOX
    return NAMES[boxes // 2 - 1]  # 2 input channels per filter


def test_a_layer_group_narrows_the_layer_list_to_its_block(deep_run):
    glyphs = simple.WeightGlyphs(Input=deep_run)
    groups = list(glyphs.GetProperty("LayerGroupNames"))
    assert groups == ["(all layers)", "conv1_conv"] + [
        f"conv{stage}_block{block}" for stage, blocks in ((2, 3), (3, 4), (4, 6))
        for block in range(1, blocks + 1)]
    assert glyphs.LayerGroup == "(all layers)"
    assert list(glyphs.GetProperty("LayerNames")) == NAMES
    assert drawn_layer(glyphs) == "conv1_conv"

    glyphs.LayerGroup = "conv3_block2"
    glyphs.UpdatePipelineInformation()
    block = ["conv3_block2_1_conv", "conv3_block2_2_conv", "conv3_block2_3_conv"]
    assert list(glyphs.GetProperty("LayerNames")) == block
    assert drawn_layer(glyphs) == block[0]  # Layer (conv1_conv) is outside: the block's first
    glyphs.Layer = block[2]
    assert drawn_layer(glyphs) == block[2]

    glyphs.LayerGroup = "(all layers)"
    glyphs.UpdatePipelineInformation()
    assert list(glyphs.GetProperty("LayerNames")) == NAMES
    assert drawn_layer(glyphs) == block[2]
    simple.Delete(glyphs)


def test_an_unknown_layer_group_is_named_in_the_error(deep_run, capfd):
    glyphs = simple.WeightGlyphs(Input=deep_run, LayerGroup="conv9_block1")
    glyphs.UpdatePipeline(1.0)
    error = capfd.readouterr().err
    assert "no layer group named 'conv9_block1'" in error and "conv4_block6" in error
    assert servermanager.Fetch(glyphs).GetNumberOfCells() == 0
    simple.Delete(glyphs)


def test_a_short_layer_list_has_no_groups(tmp_path):
    path = str(tmp_path / F.STORE_FILENAME)
    write_synthetic_run(path)
    reader = simple.TensorVizReader(FileName=path)
    glyphs = simple.WeightGlyphs(Input=reader)
    assert list(glyphs.GetProperty("LayerGroupNames")) == ["(all layers)"]
    assert list(glyphs.GetProperty("LayerNames")) == ["conv1", "fc1"]
    simple.Delete(glyphs)
    simple.Delete(reader)


def test_the_web_page_offers_the_same_layer_groups(deep_run):
    """tensorviz serve's layer chooser (web/board.py) groups a large model's layers as the
    views' Layer Group does; a small model's page has no groups."""
    from tensorviz_pv.web.board import Board
    glyphs = simple.WeightGlyphs(Input=deep_run)
    groups = list(glyphs.GetProperty("LayerGroupNames"))[1:]  # after "(all layers)"
    simple.Delete(glyphs)
    path = deep_run.FileName[0] if isinstance(deep_run.FileName, list) else deep_run.FileName
    board = Board(path)
    offered = board.layer_groups()
    assert list(offered) == groups
    assert [name for members in offered.values() for name in members] == NAMES
    assert offered["conv3_block2"] == [f"conv3_block2_{i}_conv" for i in (1, 2, 3)]
    # this store has kernels only: the views with nothing to draw say so, not blank
    said = {text for text, _ in simple.GetSources()}
    assert {"no probe activations recorded for conv1_conv",
            "no filter health recorded for conv1_conv"} <= said
    small = path.replace(F.STORE_FILENAME, "small.tvz")
    write_synthetic_run(small, steps=2)
    assert Board(small).layer_groups() == {}
    for view in simple.GetViews():
        simple.Delete(view)
