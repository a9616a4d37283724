"""The store's writes on a thread of their own, so that a snapshot step does not stall training:
the training thread hands over copies of the tensors, this thread converts, expands and writes
them, in the order they were handed over. A failed write stops the writing and is reported;
training goes on."""

import queue
import threading

QUEUE_SNAPSHOTS = 4  # work items waiting at most; a slower disk then holds training back


class BackgroundWriter:
    """Runs `submit`ted calls, one after the other, on a worker thread."""

    def __init__(self, name="tensorviz-writer"):
        self._queue = queue.Queue(maxsize=QUEUE_SNAPSHOTS)
        self.failure = None  # the first exception a call raised
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def _work(self):
        while True:
            call = self._queue.get()
            try:
                if call is None:
                    return
                if self.failure is None:
                    function, args, kwargs = call
                    function(*args, **kwargs)
            except BaseException as error:  # noqa: BLE001 - reported by the training thread
                self.failure = error
            finally:
                self._queue.task_done()

    def submit(self, function, *args, **kwargs):
        if self.failure is None:
            self._queue.put((function, args, kwargs))

    def wait(self):
        """Until every submitted call has run."""
        self._queue.join()

    def stop(self, timeout=None):
        """Run what is queued, then end the thread; True once it ended (within `timeout`
        seconds: None waits as long as the writes take)."""
        if self._thread.is_alive():
            try:
                self._queue.put(None, timeout=timeout)
            except queue.Full:
                return False
            self._thread.join(timeout)
        return not self._thread.is_alive()
