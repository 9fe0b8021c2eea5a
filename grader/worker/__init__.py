"""The student worker: runs untrusted submission code in a separate process and
answers calls over a private channel.

    client.py     Worker, Call, WorkerLimits: the grader's side (start, call, restart)
    outcomes.py   judging what came back: a value or a StudentCodeError
    errors.py     StudentCodeError and its family, with their student-facing messages
    sandbox.py    how the worker is launched on this platform; Protections
    namespace.py  the Linux namespace launch (hidden paths, read-only, nobody)
    cgroup.py     the per-worker pids cgroup
    protocol.py   the wire format
    server.py     runs INSIDE the student process (copied there; the grader never imports it)
"""
