"""The poster's LeNet-5-like network: conv 16 3x3, pool, conv 32 3x3, pool, FC 1024, FC classes."""

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
