"""How the workers of a job move the exchange between them, worker to worker (not through the scheduler): a
worker handler serves a piece of a part's change to the worker combining its shard, and a combined shard to every
worker (sharded exchange, exchange.py); a task pulls them from the workers that hold them, at once or (with the
overlap, part.py) as soon as they exist, on the worker's event loop while the task goes on."""
import asyncio

# The worker handler that serves a piece of a part's change to the worker combining its shard, and a combined
# shard to every worker.
PIECE_OP = "w2v_nce_piece"
# What a worker holds in place of a combined shard whose combination failed (a task waiting for it fails too).
COMBINE_FAILED = "combine failed"


def held(plugin, kind, part, s, j=None, attempt=None):
    """Piece j of part `part`'s round s change (kind "piece"), or the shard part `part` combined of round s
    (kind "combined"; of that attempt, if given), if this worker holds it; else None."""
    holder = plugin.parts.get(part) if plugin is not None else None
    if holder is None:
        return None
    if kind == "piece":
        pieces = holder.outbox.get(s)
        return None if pieces is None else pieces[j]
    made, combined = holder.combined.get(s, (None, None))
    return combined if attempt is None or made == attempt else None


# How long a pull waits to connect to another worker (seconds). A worker asked for a piece or a shard has been
# listening since the job began, so a refused connection means it is gone; Dask's own connect timeout (30 s) goes on
# trying that long, which made each recovery from a killed worker wait 30 s (measured: a 4-worker run 35 s against
# 6 s; with 4 s, 9.5 s).
PEER_CONNECT_TIMEOUT = 5.0
# How often a request for a combined shard that does not exist yet looks again (seconds; with the overlap).
_WAIT_POLL = 0.002


async def _wait_held(plugin_of, ask, wait):
    """held(plugin_of(), **ask); with wait, looked for again until it exists or its part is gone or settled to
    another attempt (a recovery: the part's own wait ends too, and the task gives None)."""
    while True:
        plugin = plugin_of()
        found = held(plugin, **ask)
        holder = plugin.parts.get(ask["part"]) if plugin is not None else None
        if found is not None or not wait or holder is None or holder.attempt != ask.get("attempt", holder.attempt):
            return found
        await asyncio.sleep(_WAIT_POLL)


def piece_server(worker):
    """The worker's handler PIECE_OP: a piece of a part's change, or a combined shard (held), if this worker holds
    it (else None)."""
    from distributed.protocol import to_serialize

    async def serve_piece(store=None, wait=False, **ask):
        found = await _wait_held(lambda: worker.plugins.get(store), ask, wait)
        return {"piece": None if found is None else to_serialize(found)}

    return serve_piece


def pull(store_name, requests, wait=False):
    """What each request (worker address, dict(kind, part, s[, j][, attempt]) as held takes) asks, in order, from
    the workers that hold them, worker to worker (not through the scheduler); None if one is missing (with wait:
    once its part is gone or settled to another attempt) or its worker is unreachable."""
    return pulled(start_pull(store_name, requests, wait))


def start_pull(store_name, requests, wait=False):
    """pull's requests started on the worker's event loop, which moves them while the task goes on (trains):
    a future for pulled."""
    from distributed import get_worker

    worker = get_worker()

    async def one(host, ask):
        if host == worker.address:  # (on the worker's event loop: its plugins, not get_worker's task context)
            return await _wait_held(lambda: worker.plugins.get(store_name), ask, wait)
        return (await ask_worker(worker.rpc, host, store=store_name, wait=wait, **ask))["piece"]

    async def every():
        return await asyncio.gather(*(one(host, ask) for host, ask in requests))

    return asyncio.run_coroutine_threadsafe(every(), worker.loop.asyncio_loop)


async def ask_worker(pool, host, **request):
    """The answer of the worker at `host` to PIECE_OP(**request), over a connection of the worker's pool (as
    pool(host).<op>(…) sends it), connecting within PEER_CONNECT_TIMEOUT."""
    from distributed.core import send_recv

    comm = await pool.connect(host, timeout=PEER_CONNECT_TIMEOUT)
    try:
        return await send_recv(comm=comm, op=PIECE_OP, **request)
    finally:
        pool.reuse(host, comm)


def pulled(started):
    """What a pull started by start_pull gives, once it has (None as pull says)."""
    try:
        found = started.result()
    except OSError:  # a worker lost: the driver recovers the round
        return None
    return None if any(x is None for x in found) else found


def received_exchange(store_name, s, prev, shards):
    """What the tasks of round s's exchange (exchange.py) give: every part's change (from each part's round
    result), or every combined shard, pulled from the workers that hold them (prev: the barrier task's result, what
    each combination gave); None if one cannot be had."""
    if any(x is None for x in prev):
        return None
    if shards == 1:
        return [r[0][0] for r in prev]
    return pull(store_name, [(address, dict(kind="combined", part=j, s=s)) for j, (address, _) in enumerate(prev)])
