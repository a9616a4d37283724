"""The built-in models: the poster's LeNet-5-like network (conv 16 3x3, pool, conv 32 3x3, pool,
FC 1024, FC classes), a CIFAR-style ResNet-20 and a width-reduced MobileNetV2."""

import keras
from keras import layers

POSTER_CONV_FILTERS = (16, 32)
POSTER_FC_UNITS = 1024


def poster_model(input_shape, classes, conv_filters=POSTER_CONV_FILTERS,
                 fc_units=POSTER_FC_UNITS, dropout=0.0):
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    for index, filters in enumerate(conv_filters, start=1):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"conv{index}")(x)
        x = layers.MaxPooling2D(2, name=f"pool{index}")(x)
    x = layers.Flatten(name="flatten")(x)
    x = layers.Dense(fc_units, activation="relu", name="fc1")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.Dense(classes, activation="softmax", name="fc2")(x)
    return keras.Model(inputs, outputs, name="tensorviz_poster_cnn")


def resnet20(input_shape, classes, widths=(16, 32, 64), blocks=3):
    """The CIFAR-style ResNet-20 (He et al. 2016): a 3x3 stem, 3 stages of `blocks` basic
    blocks (conv-BN-ReLU-conv-BN + shortcut, ReLU) of 16/32/64 filters, the first block of
    stages 2 and 3 with stride 2 and a 1x1 projection shortcut; global pooling, softmax. 28x28
    inputs give 28 -> 14 -> 7 feature maps (32x32: 32 -> 16 -> 8)."""
    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(widths[0], 3, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for stage, width in enumerate(widths, start=1):
        for block in range(1, blocks + 1):
            name = f"s{stage}b{block}"
            stride = 2 if stage > 1 and block == 1 else 1
            y = layers.Conv2D(width, 3, strides=stride, padding="same", use_bias=False,
                              name=f"{name}_conv1")(x)
            y = layers.BatchNormalization(name=f"{name}_bn1")(y)
            y = layers.ReLU(name=f"{name}_relu1")(y)
            y = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"{name}_conv2")(y)
            y = layers.BatchNormalization(name=f"{name}_bn2")(y)
            if stride != 1 or x.shape[-1] != width:
                x = layers.Conv2D(width, 1, strides=stride, use_bias=False,
                                  name=f"{name}_proj")(x)
                x = layers.BatchNormalization(name=f"{name}_proj_bn")(x)
            x = layers.Add(name=f"{name}_add")([x, y])
            x = layers.ReLU(name=f"{name}_relu2")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="fc")(x)
    return keras.Model(inputs, outputs, name="resnet20")


def mobilenetv2(input_shape, classes, alpha=0.5,
                stages=((1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 2, 2),
                        (6, 96, 1, 1))):
    """A width-reduced MobileNetV2 (Sandler et al. 2018) for 28x28/32x32 images: inverted
    residual blocks (1x1 expand-BN-ReLU6, 3x3 depthwise-BN-ReLU6, 1x1 project-BN, a residual
    add where shapes allow); `stages` are (expansion, channels, blocks, first stride), widths
    times `alpha`; strides 1-1-2-2 keep 7x7 maps at the end for 28x28 inputs."""
    def width(channels):
        return max(8, int(channels * alpha + 4) // 8 * 8)

    inputs = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(width(32), 3, padding="same", use_bias=False, name="stem_conv")(inputs)
    x = layers.BatchNormalization(name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)
    for s, (expansion, channels, blocks, stride) in enumerate(stages, start=1):
        for b in range(1, blocks + 1):
            name, step = f"s{s}b{b}", stride if b == 1 else 1
            y = x
            if expansion != 1:
                y = layers.Conv2D(int(x.shape[-1]) * expansion, 1, use_bias=False,
                                  name=f"{name}_expand")(y)
                y = layers.BatchNormalization(name=f"{name}_expand_bn")(y)
                y = layers.ReLU(6.0, name=f"{name}_expand_relu")(y)
            y = layers.DepthwiseConv2D(3, strides=step, padding="same", use_bias=False,
                                       name=f"{name}_depthwise")(y)
            y = layers.BatchNormalization(name=f"{name}_depthwise_bn")(y)
            y = layers.ReLU(6.0, name=f"{name}_depthwise_relu")(y)
            y = layers.Conv2D(width(channels), 1, use_bias=False, name=f"{name}_project")(y)
            y = layers.BatchNormalization(name=f"{name}_project_bn")(y)
            x = layers.Add(name=f"{name}_add")([x, y]) \
                if step == 1 and x.shape[-1] == y.shape[-1] else y
    x = layers.Conv2D(width(320), 1, use_bias=False, name="head_conv")(x)
    x = layers.BatchNormalization(name="head_bn")(x)
    x = layers.ReLU(6.0, name="head_relu")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = layers.Dense(classes, activation="softmax", name="fc")(x)
    return keras.Model(inputs, outputs, name="mobilenetv2")


def build_model(config, input_shape, classes):
    """The model a TrainConfig names, not compiled."""
    if config.model == "poster":
        return poster_model(input_shape, classes, config.conv_filters, config.fc_units,
                            config.dropout)
    return {"resnet20": resnet20, "mobilenetv2": mobilenetv2}[config.model](input_shape, classes)
