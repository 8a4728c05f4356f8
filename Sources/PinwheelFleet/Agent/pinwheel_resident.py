"""Pinwheel's resident agent loop: one agent process per host for as long as a controller (`pinwheel watch`) runs.

Started over SSH as `python3 -I -S -c <this file>`, so standard input is free for requests from its first byte. Both
directions carry frames: four bytes of length (big-endian), then that many bytes. The first frame is the agent's
source (its modules joined into one text, `AgentScript`), compiled and run once; each later frame is one request's
JSON, answered by one frame with the reply's JSON from the agent's own `handle(request)`, exactly the reply a one-shot
agent prints after its marker. End of input (the controller closed the session or went away) ends the loop, and so
does an hour without a request.

Nothing the agent or a program it starts prints can mix into the frames: the frames travel on descriptors of their
own, standard input becomes /dev/null and standard output goes to standard error, which the controller reads
bounded, as it reads a one-shot agent's. Only modules written in C are imported, as in the agent.
"""
import os
import select

# A request larger than this is refused (the controller's largest, a batch of shipped pieces, is a few megabytes).
REQUEST_LIMIT = 1 << 30
# A session that receives nothing for this long ends by itself, whatever happened to its controller.
IDLE_SECONDS = 3600.0
# What a request may not ask of a resident agent: `logs` and `exec` become another program.
ONE_SHOT_ACTIONS = ("logs", "exec")


def read_exactly(descriptor, count):
    """`count` bytes; None when the input ends first."""
    chunks = []
    while count:
        chunk = os.read(descriptor, min(count, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def read_frame(descriptor, idle_seconds):
    """The next frame's bytes; None at the end of input, after `idle_seconds` without one, or for an oversized one."""
    ready, _, _ = select.select([descriptor], [], [], idle_seconds)
    if not ready:
        return None
    header = read_exactly(descriptor, 4)
    if header is None:
        return None
    size = int.from_bytes(header, "big")
    if size > REQUEST_LIMIT:
        return None
    return read_exactly(descriptor, size)


def write_frame(descriptor, payload):
    view = memoryview(len(payload).to_bytes(4, "big") + payload)
    while view:
        view = view[os.write(descriptor, view):]


def answer(agent, payload):
    """The reply's JSON bytes to one request frame, from the agent's own `handle`."""
    try:
        request = agent["json_loads"](payload.decode("utf-8"))
    except Exception as error:
        result = agent["reply"](False, "badRequest", "the request is not JSON: %s" % error)
    else:
        if isinstance(request, dict) and request.get("action") in ONE_SHOT_ACTIONS:
            result = agent["reply"](False, "badRequest", "a resident agent does not run `%s`" % request["action"])
        else:
            result = agent["handle"](request)
    return agent["json_dumps"](result).encode("utf-8")


def serve():
    requests = os.dup(0)
    replies = os.dup(1)
    empty = os.open(os.devnull, os.O_RDONLY)
    os.dup2(empty, 0)
    os.close(empty)
    os.dup2(2, 1)
    source = read_frame(requests, IDLE_SECONDS)
    if source is None:
        return
    agent = {"__name__": "pinwheel_agent"}
    try:
        exec(compile(source.decode("utf-8"), "pinwheel_agent.py", "exec"), agent)
    except Exception as error:
        kind = "".join(character for character in type(error).__name__ if character.isalnum())
        write_frame(replies, ('{"protocol": 2, "ok": false, "code": "internal", "error": "the host agent does not run '
                              'on this interpreter (%s)"}' % kind).encode("utf-8"))
        return
    while True:
        payload = read_frame(requests, IDLE_SECONDS)
        if payload is None:
            return
        write_frame(replies, answer(agent, payload))


serve()
