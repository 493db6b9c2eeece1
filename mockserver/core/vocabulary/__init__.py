"""The shared vocabulary every other wing speaks: contracts (what a call is), violations and the
errors that carry them, what a call record holds, images and their facts, blob ids, and the
bounded journal of calls. It imports nothing else of the core, so any wing may use it.
"""
