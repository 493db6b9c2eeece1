"""SuperOffice Online around the call: the clock every time-dependent rule reads (credential
expiry, the status API's ValidUntil, timed states and faults), and the life of an Online tenant.
"""
