"""The views' images for the page: each view rendered and its new JPEG sent at once.

trame-vtk's image delivery (ParaView's web protocol) renders a view and sends the JPEG it
already has (the old one: the new one is still being encoded in a thread); the new one follows
only when a timer finds it, 0.1 s later, and the timers of six views queue behind each other's
renders. Here each view is rendered, its encoding waited for (milliseconds), and the new image
sent straight away through the same protocol and message, so the page's views take it as
their own."""

import time

from tensorviz_pv.messages import logger

LOG = logger("web")
ENCODING_SECONDS = 0.5  # the most a view's JPEG is waited for
PUSHED = "viewport.image.push.subscription"  # the message the page's remote views listen to


class ImageSender:
    """Sends views' new images through trame-vtk's ParaViewWebPublishImageDelivery protocol
    (found by configure(), a trame protocol-configure hook)."""

    def __init__(self):
        self._delivery = None
        self._sent = {}  # view id -> the modification time of the image last sent

    def configure(self, protocol):
        from trame_vtk.modules.paraview.protocols import ParaViewWebPublishImageDelivery
        for linked in protocol.getLinkProtocols():
            if isinstance(linked, ParaViewWebPublishImageDelivery):
                self._delivery = linked

    def send(self, view):
        """Render `view` and send its new image. False when the page does not show the view
        (yet) and nothing was sent."""
        delivery, view_id = self._delivery, view.GetGlobalIDAsString()
        tracked = delivery.tracking_views.get(view_id) if delivery else None
        if not tracked or not tracked.get("enabled"):
            return False
        app, proxy, quality = delivery.app, view.SMProxy, tracked.get("quality", 100)
        started = time.monotonic()
        app.InvalidateCache(proxy)
        image = app.StillRenderToBuffer(proxy, 0, quality)
        # asked again, the cached render takes up the JPEG once its thread has encoded it
        while (app.GetHasImagesBeingProcessed(proxy) or _stamp(image) == self._sent.get(view_id)) \
                and time.monotonic() - started < ENCODING_SECONDS:
            time.sleep(0.001)
            image = app.StillRenderToBuffer(proxy, 0, quality)
        if image is None:
            LOG.info(f"no image of view {view_id} to send")
            return True
        self._sent[view_id] = _stamp(image)
        tracked["mtime"] = app.GetLastStillRenderToMTime()  # the protocol's timer has it already
        size = list(view.ViewSize[0:2])
        delivery.publish(PUSHED, {
            "image": delivery.addAttachment(memoryview(image).tobytes()), "format": "jpeg",
            "stale": False, "mtime": tracked["mtime"], "size": size, "memsize": image.GetDataSize(),
            "global_id": view_id, "id": view_id, "localTime": 0,
            "workTime": round((time.monotonic() - started) * 1000)})
        return True


def _stamp(image):
    return None if image is None else image.GetMTime()
