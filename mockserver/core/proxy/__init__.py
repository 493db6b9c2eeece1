"""The proxy's checks: validating a real client's request against the contracts before it goes to
a real server, the shapes a real answer must have, the drift between that answer and the fake's,
and the proxy's own journal of exchanges. It sits above `Fake`, which it asks what the fake would say.
"""
