"""The Filter Atlas as recorded, against an independent computation: the layers' outputs from a
Keras model of their own, ranked with numpy; receptive fields against the arithmetic of the
layers; models no one here wrote (keras.applications, subclassed, two inputs)."""

import keras
import numpy as np
import pytest

from tensorviz_pv.analysis.atlas import IMAGE, POSITION, RESPONSE
from tensorviz_pv.store import format as F
from tensorviz_pv.store.reader import RunReader
from trainer.recording.callback import TensorVizCallback


def images(n, shape=(28, 28, 1), seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n,) + shape, dtype=np.float32), rng.integers(0, 10, n)


def conv_pool_conv():
    inputs = keras.Input((28, 28, 1))
    x = keras.layers.Conv2D(6, 3, padding="same", activation="relu", name="conv1")(inputs)
    x = keras.layers.MaxPooling2D(2)(x)
    x = keras.layers.Conv2D(5, 3, padding="same", activation="relu", name="conv2")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax", name="out")(x))
    model.compile(keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return model


def test_the_atlas_is_each_filters_strongest_images_under_the_final_weights(tmp_path):
    keras.utils.set_random_seed(3)
    model = conv_pool_conv()
    x, y = images(96)
    probe_x, probe_y = images(40, seed=1)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[TensorVizCallback(str(tmp_path / "run"), probe=(probe_x, probe_y),
                                           atlas_size=30, atlas_share=None)])
    with RunReader(str(tmp_path / "run")) as run:
        stored, labels = run.atlas()
        # float16 copies, and the very images ranked (a continued run ranks the same)
        np.testing.assert_array_equal(stored, probe_x[:30].astype(np.float16).astype(np.float32))
        outputs = keras.Model(model.input, [model.get_layer("conv1").output,
                                            model.get_layer("conv2").output])(stored)
        np.testing.assert_array_equal(labels, probe_y[:30])
        assert run.info["atlas_size"] == 30
        for name, output in zip(("conv1", "conv2"), outputs):
            steps = run.series_steps(name, F.ATLAS)
            np.testing.assert_array_equal(steps, run.series_steps(name, F.ACTIVATION))
            atlas = run.tensor_at(name, F.ATLAS, steps[-1])[1]  # the last step: these weights
            flat = np.asarray(output).reshape(30, -1, output.shape[-1])
            peak, where = flat.max(axis=1), flat.argmax(axis=1)
            assert atlas.shape == (3, 8, output.shape[-1])
            for f in range(output.shape[-1]):
                if np.ptp(peak[:, f]) == 0:
                    continue  # a dead filter: every image ties
                order = np.argsort(-peak[:, f], kind="stable")[:8]
                np.testing.assert_allclose(atlas[RESPONSE, :, f], peak[order, f], rtol=1e-5)
                np.testing.assert_array_equal(atlas[IMAGE, :, f], order)
                np.testing.assert_array_equal(atlas[POSITION, :, f], where[order, f])
        fields = {entry["name"]: entry.get("receptive_field") for entry in run.info["layers"]}
    # 3 x 3 'same': pixels i-1..i+1; after a 2 x 2 pool, 3 x 3 again: 2i-3 .. 2i+4
    assert fields["conv1"] == {"origin": [-1.0, -1.0], "stride": [1.0, 1.0], "size": [3, 3]}
    assert fields["conv2"] == {"origin": [-3.0, -3.0], "stride": [2.0, 2.0], "size": [8, 8]}


def test_without_a_given_probe_the_first_batch_is_the_atlas_and_atlas_size_0_records_none(tmp_path):
    keras.utils.set_random_seed(4)
    x, y = images(48)
    model = conv_pool_conv()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[TensorVizCallback(str(tmp_path / "a"))])
    with RunReader(str(tmp_path / "a")) as run:
        np.testing.assert_allclose(run.atlas()[0], run.probe()[0], atol=1e-3)  # the batch
        assert run.tensor_at("conv1", F.ATLAS, 3)[1].shape == (3, 8, 6)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[TensorVizCallback(str(tmp_path / "b"), probe=(x, y), atlas_size=0)])
    with RunReader(str(tmp_path / "b")) as run:
        assert not run.has_atlas() and not run.has_series("conv1", F.ATLAS)
        assert run.has_series("conv1", F.ACTIVATION) and run.info["atlas_size"] == 0


def test_a_continued_run_keeps_its_atlas_images(tmp_path):
    keras.utils.set_random_seed(5)
    x, y = images(32)
    model = conv_pool_conv()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[TensorVizCallback(str(tmp_path / "run"), probe=(x, y))])
    other, _ = images(32, seed=9)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[TensorVizCallback(str(tmp_path / "run"), probe=(other, y))])
    with RunReader(str(tmp_path / "run")) as run:
        np.testing.assert_allclose(run.atlas()[0], x, atol=1e-3)  # not the second fit's
        steps = run.series_steps("conv2", F.ATLAS)
        assert steps[-1] == 4 and len(steps) == len(set(steps))
        outputs = keras.Model(model.input, model.get_layer("conv2").output)(run.atlas()[0])
        peak = np.asarray(outputs).reshape(32, -1, 5).max(axis=1)
        atlas = run.tensor_at("conv2", F.ATLAS, 4)[1]
        live = [f for f in range(5) if np.ptp(peak[:, f]) > 0]
        np.testing.assert_allclose(atlas[RESPONSE, 0, live], peak[:, live].max(axis=0), rtol=1e-5)


@pytest.mark.parametrize("build, shape", [
    (lambda: keras.applications.MobileNetV2(input_shape=(32, 32, 3), weights=None, classes=10),
     (32, 32, 3)),
])
def test_keras_applications_get_an_atlas_for_their_convolutions(tmp_path, build, shape):
    keras.utils.set_random_seed(6)
    model = build()
    model.compile(keras.optimizers.SGD(0.05), loss="sparse_categorical_crossentropy")
    x, y = images(24, shape)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0,
              callbacks=[TensorVizCallback(str(tmp_path / "run"), probe=(x, y))])
    with RunReader(str(tmp_path / "run")) as run:
        layers = [name for name in run.layers if run.has_series(name, F.ATLAS)]
        assert len(layers) >= 30  # every convolution, depthwise ones too
        for name in layers:
            atlas = run.tensor_at(name, F.ATLAS, run.series_steps(name, F.ATLAS)[-1])[1]
            finite = np.isfinite(atlas[RESPONSE])
            assert finite.all()
            assert ((atlas[IMAGE] >= 0) & (atlas[IMAGE] < 24)).all()
            assert (np.diff(atlas[RESPONSE], axis=0) <= 0).all()  # strongest first
            positions = np.prod(run.layer_info(name)["activation_shape"][:-1])
            assert ((atlas[POSITION] >= 0) & (atlas[POSITION] < positions)).all()
        first = run.layer_info(layers[0])["receptive_field"]  # a 3 x 3 stride-2 stem
        assert first["size"] == [3, 3] and first["stride"] == [2.0, 2.0]


def test_an_atlas_that_costs_too_much_is_ranked_less_often_but_always_first_and_last(tmp_path):
    keras.utils.set_random_seed(6)
    x, y = images(64)
    conv_pool_conv().fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[TensorVizCallback(
        str(tmp_path / "run"), probe=(x, y), activations_every=1, atlas_share=1e-9)])
    with RunReader(str(tmp_path / "run")) as run:
        activation_steps = list(run.series_steps("conv1", F.ACTIVATION))
        atlas_steps = list(run.series_steps("conv1", F.ATLAS))
    assert len(activation_steps) >= 8
    # no time is enough for a ranking that may take a billionth of it: only the first and last
    assert atlas_steps == [activation_steps[0], activation_steps[-1]]


def test_a_map_on_other_axes_than_the_input_has_no_receptive_field():
    """A Conv1D after a Reshape of 2-D images: its positions are not the images' (whole images
    in the atlas, not a 1-D box cut from a 2-D image, which made the Filter Atlas fail)."""
    from trainer.recording.atlas import _field
    reached = np.zeros((16, 16), dtype=bool)
    reached[5:8, 6:9] = True
    assert _field(reached, (24,), (48,)) is None
    assert _field(reached, (8, 8), (16, 16))["size"] == [3, 3]
