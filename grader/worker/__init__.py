"""The student worker: runs untrusted submission code in a separate process and
answers calls over a private channel (see protocol.py for the wire format)."""
