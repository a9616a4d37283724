"""Layers grouped by path for `tensorviz info` (store/layer_groups.py)."""

from tensorviz_pv.store.layer_groups import group_layers, prefix


def resnet_like():
    names = ["conv1_conv", "conv1_bn"]
    for stage, blocks in ((2, 3), (3, 4), (4, 6), (5, 3)):
        for block in range(1, blocks + 1):
            names += [f"conv{stage}_block{block}_{i}_{kind}" for i in (1, 2, 3)
                      for kind in ("conv", "bn")]
    return names + ["predictions"]


def test_prefix_keeps_separators_and_whole_names():
    assert prefix("backbone/conv4_block2_1_conv", 1) == "backbone"
    assert prefix("backbone/conv4_block2_1_conv", 3) == "backbone/conv4_block2"
    assert prefix("fc1", 2) == "fc1"


def test_the_deepest_grouping_that_keeps_at_most_most_groups():
    names = resnet_like()
    groups = group_layers(names)
    assert [g.label for g in groups][:4] == ["conv1_conv", "conv1_bn", "conv2_block1", "conv2_block2"]
    assert len(groups) == 2 + 3 + 4 + 6 + 3 + 1
    assert [i for g in groups for i in g.members] == list(range(len(names)))
    assert all(names[i].startswith(g.label) for g in groups for i in g.members)
    coarse = group_layers(names, most=8)  # one level up: the stages
    assert [g.label for g in coarse] == ["conv1", "conv2", "conv3", "conv4", "conv5", "predictions"]
    assert len(coarse[3].members) == 6 * 6


def test_nested_models_group_by_their_path_and_small_models_stay_as_they_are():
    names = ["stem/conv"] + [f"backbone/block{b}_{k}" for b in range(40) for k in ("a", "b")] + ["head"]
    assert [g.label for g in group_layers(names)] == ["stem", "backbone", "head"]
    assert [g.label for g in group_layers(["conv1", "conv2", "fc1", "fc2"])] == \
        ["conv1", "conv2", "fc1", "fc2"]
    assert group_layers([]) == []


def test_a_layer_that_recurs_after_others_starts_a_group_of_its_own():
    groups = group_layers(["a_1", "a_2", "b_1", "a_3"], most=3)
    assert [(g.label, g.members) for g in groups] == [("a", [0, 1]), ("b", [2]), ("a", [3])]


def test_info_lists_many_unrecorded_layers_by_kind(tmp_path):
    from tensorviz_pv.store.summary import format_summary, run_summary
    from tensorviz_pv.store.synthetic import write_kinds_run
    path = str(tmp_path / "run.tvz")
    write_kinds_run(path)
    summary = run_summary(path)
    summary["unrecorded_layers"] = [{"name": f"encoder/attention_{i}", "class": "MultiHeadAttention"}
                                    for i in range(40)] + [{"name": "embed", "class": "Embedding"}]
    lines = format_summary(summary).splitlines()
    assert "  41 layers not recorded (kinds TensorViz does not record): 40 MultiHeadAttention, " \
           "1 Embedding" in lines
    assert not any("encoder/attention_" in line for line in lines)
    every = format_summary(summary, every_layer=True).splitlines()
    assert sum("not recorded (a kind TensorViz does not record)" in line for line in every) == 41
