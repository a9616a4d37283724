"""What excites each filter (the Filter Atlas): of a fixed set of atlas images, the k in which a
filter's strongest response is highest, and where it peaked, so that the patch of the image
under that position's receptive field can be shown.

A stored atlas snapshot is (3, k, filters): row IMAGE the image indices, RESPONSE the responses,
POSITION the flat index of the peak in the filter's activation map; highest response first;
NaN for a filter that no longer exists (merged away)."""

import numpy as np

from .tiles import depth_slices, slices_shape

IMAGE, RESPONSE, POSITION = range(3)
GAP = 1  # pixels between patches, NaN (shown as the background)
LEAST_PATCH = 9  # pixels: a smaller receptive field is shown amid its surroundings


def top_responses(strongest, positions, k):
    """strongest (N, C): each image's highest response per filter, positions (N, C): the flat
    index of the position where it peaked -> (3, k, C) float32, the k highest images per filter
    (k at most N), highest first, ties in image order."""
    strongest = np.asarray(strongest, dtype=np.float64)
    positions = np.asarray(positions)
    k = min(int(k), len(strongest))
    ranked = np.where(np.isfinite(strongest), -strongest, np.inf)  # NaN last
    order = np.argsort(ranked, axis=0, kind="stable")[:k]
    filters = np.arange(strongest.shape[1])
    atlas = np.empty((3, k, strongest.shape[1]), dtype=np.float32)
    atlas[IMAGE] = order
    atlas[RESPONSE] = strongest[order, filters]
    atlas[POSITION] = positions[order, filters]
    return atlas


def field_box(field, position, positions_shape):
    """[(start, stop)] in input pixels, per spatial axis, of the receptive field of the
    activation at flat `position` of a map with `positions_shape` (widened around its centre
    to LEAST_PATCH); `field` is a layer entry's "receptive_field": {"origin", "stride", "size"}
    per axis (start = origin + index * stride)."""
    index = np.unravel_index(int(position), tuple(positions_shape))
    box = []
    for origin, stride, size, i in zip(field["origin"], field["stride"], field["size"], index):
        start = int(round(origin + i * stride))
        wider = max(int(size), LEAST_PATCH) - int(size)  # centred on the field
        box.append((start - wider // 2, start + int(size) + wider - wider // 2))
    return box


def cut_patch(image, box):
    """An image (positions..., channels)'s pixels inside `box` [(start, stop)] per axis, NaN
    where the box leaves the image (a border filter's field hangs over the edge)."""
    image = np.asarray(image, dtype=np.float32)
    spatial = image.shape[:-1]
    patch = np.full([stop - start for start, stop in box] + [image.shape[-1]], np.nan, np.float32)
    inside = [(max(start, 0), min(stop, n)) for (start, stop), n in zip(box, spatial)]
    if all(low < high for low, high in inside):
        source = tuple(slice(low, high) for low, high in inside)
        target = tuple(slice(low - start, high - start) for (low, high), (start, _) in zip(inside, box))
        patch[target] = image[source]
    return patch


def usable_field(field, image_shape):
    """A layer's receptive field if it lies on the atlas images' axes (image_shape: positions...,
    channels), else None: whole images (a Reshape between the input and the layer)."""
    return field if field and len(field["size"]) == len(image_shape) - 1 else None


def patch_shape(field, image_shape):
    """(rows, cols) of one drawn patch: the receptive field, at least LEAST_PATCH wide (the
    whole image when unknown); a 1-D input's patch is one row, a 3-D input's its depth slices
    one above the other (Activation Maps draw a 3-D map's side by side; here a filter's row of
    patches runs across)."""
    size = [max(int(n), LEAST_PATCH) for n in field["size"]] if field else list(image_shape[:-1])
    if len(size) == 3:
        return slices_shape(*size, stacked=True)
    return (1, size[0]) if len(size) == 1 else (size[0], size[1])


def drawn_patch(patch):
    """A patch (positions..., channels) as it is drawn: a volume's depth slices stacked."""
    if patch.ndim == 4:
        return np.moveaxis(depth_slices(np.moveaxis(patch, -1, 0), stacked=True), 0, -1)
    return patch


def atlas_blocks(rows, k, patch):
    """How many side-by-side blocks of filter rows make the atlas about as wide as tall."""
    height, width = patch
    tall = rows * (height + GAP)
    wide = k * (width + GAP)
    return int(max(1, min(rows, round(np.sqrt(tall / max(wide, 1))))))


def row_width(k, patch):
    """Pixels across one filter's row of k patches."""
    return k * (patch[1] + GAP) - GAP


def atlas_layout(rows, k, patch, blocks=None):
    """(grid (height, width) in pixels, the (top, left) pixel of each of the `rows` filter rows):
    the rows in `blocks` columns of k patches, a wider gap between blocks."""
    height, width = patch
    blocks = blocks or atlas_blocks(rows, k, patch)
    per_block = -(-rows // blocks)
    block_width = row_width(k, patch)
    block_gap = max(2 * GAP, width) + 2  # room for the next block's filter numbers
    corners = [((i % per_block) * (height + GAP), (i // per_block) * (block_width + block_gap))
               for i in range(rows)]
    used = -(-rows // per_block)
    size = (per_block * (height + GAP) - GAP, used * (block_width + block_gap) - block_gap)
    return size, corners


def atlas_grid(images, atlas, field, positions_shape, filters, k, blocks=None):
    """The atlas drawn as one image: a row of k patches per filter in `filters`, highest
    response at the left, GAP pixels of NaN between them, the rows in blocks side by side
    (atlas_layout); (grid (rows, cols, channels), responses (len(filters), k), the (top, left)
    of each row). A patch is the receptive field of the peak (the whole image when `field` is
    None); a merged-away filter's row stays NaN, and so do the patches of images a filter does
    not respond to at all (response 0)."""
    images = np.asarray(images, dtype=np.float32)
    height, width = patch_shape(field, images.shape[1:])
    channels = images.shape[-1]
    k = min(int(k), atlas.shape[1])
    size, corners = atlas_layout(len(filters), k, (height, width), blocks)
    grid = np.full(size + (channels,), np.nan, np.float32)
    responses = np.full((len(filters), k), np.nan, np.float32)
    for row, filter_index in enumerate(filters):
        top, left = corners[row]
        for rank in range(k):
            image_index = atlas[IMAGE, rank, filter_index]
            # a response of exactly 0 is a ReLU's zero everywhere in that image: its position
            # is arbitrary, so there is no patch to show (a dead filter's row stays empty)
            if not np.isfinite(image_index) or atlas[RESPONSE, rank, filter_index] == 0:
                continue
            image = images[int(image_index)]
            if field:
                patch = cut_patch(image, field_box(field, atlas[POSITION, rank, filter_index],
                                                   positions_shape))
            else:
                patch = image
            column = left + rank * (width + GAP)
            grid[top:top + height, column:column + width] = \
                drawn_patch(patch).reshape(height, width, channels)
            responses[row, rank] = atlas[RESPONSE, rank, filter_index]
    return grid, responses, corners


def response_image(size, corners, responses, patch):
    """An image of the atlas's `size`: each patch's pixels hold its response, NaN elsewhere."""
    height, width = patch
    image = np.full(size, np.nan, np.float32)
    for (top, left), row in zip(corners, responses):
        for rank, value in enumerate(row):
            column = left + rank * (width + GAP)
            image[top:top + height, column:column + width] = value
    return image
