"""The queue's worker: in-process under `roomcraft serve`, alone under `roomcraft worker`."""

from roomcraft.runtime import Runtime

QUEUES = ["generations", "maintenance"]


async def run_worker(
    runtime: Runtime, *, concurrency: int = 4, wait: bool = True, signals: bool = False
) -> None:
    """Process jobs until cancelled (or, with `wait=False`, until the queue is empty).

    The queue was opened with the runtime (`open_runtime`)."""
    await runtime.queue.run_worker_async(
        queues=QUEUES,
        concurrency=concurrency,
        wait=wait,
        listen_notify=wait,  # a worker that stops when the queue is empty has no one to hear
        install_signal_handlers=signals,
        additional_context={"runtime": runtime},
    )
